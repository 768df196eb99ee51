/// Something the plan cannot do or the operator should know, attached to a resource.
public struct Problem: Hashable, Sendable, Comparable {
    public enum Severity: String, Hashable, Sendable {
        case error, warning
    }

    public var severity: Severity
    public var resource: ResourceAddress
    public var message: String

    public init(_ severity: Severity, _ resource: ResourceAddress, _ message: String) {
        self.severity = severity
        self.resource = resource
        self.message = message
    }

    public static func < (lhs: Problem, rhs: Problem) -> Bool {
        (lhs.severity == .error ? 0 : 1, lhs.resource, lhs.message) < (rhs.severity == .error ? 0 : 1, rhs.resource, rhs.message)
    }
}
