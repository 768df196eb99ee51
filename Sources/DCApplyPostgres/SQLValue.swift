import PostgresNIO

/// One bound parameter of a statement: the few types the state store writes.
enum SQLValue: Sendable {
    case text(String?)
    case int(Int?)
    case double(Double)
    case bool(Bool)

    func bind(into binds: inout PostgresBindings) {
        switch self {
        case .text(let value): binds.append(value)
        case .int(let value): binds.append(value)
        case .double(let value): binds.append(value)
        case .bool(let value): binds.append(value)
        }
    }
}
