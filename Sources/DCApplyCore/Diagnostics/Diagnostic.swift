/// One problem found in user input: where it is, which field, and what would be valid.
///
/// User-input problems are collected and reported together; operational failures are thrown
/// as ``DCApplyError`` instead.
public struct Diagnostic: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable, Comparable {
        case error, warning, note

        private var rank: Int {
            switch self {
            case .error: 0
            case .warning: 1
            case .note: 2
            }
        }

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
    }

    public var severity: Severity
    public var location: SourceLocation?
    /// The field path inside the document, such as `spec.redundancy.maxPerDomain`.
    public var fieldPath: String?
    public var message: String

    public init(_ severity: Severity, _ message: String, at location: SourceLocation? = nil, field fieldPath: String? = nil) {
        self.severity = severity
        self.location = location
        self.fieldPath = fieldPath
        self.message = message
    }

    public static func error(_ message: String, at location: SourceLocation? = nil, field: String? = nil) -> Diagnostic {
        Diagnostic(.error, message, at: location, field: field)
    }

    public static func warning(_ message: String, at location: SourceLocation? = nil, field: String? = nil) -> Diagnostic {
        Diagnostic(.warning, message, at: location, field: field)
    }

    /// `file:line:column: error: spec.replicas: must be at least 0, got -1`
    public var description: String {
        var text = ""
        if let location { text += "\(location): " }
        text += "\(severity.rawValue): "
        if let fieldPath, !fieldPath.isEmpty { text += "\(fieldPath): " }
        text += message
        return text
    }
}

extension Array where Element == Diagnostic {
    /// True when at least one diagnostic is an error.
    public var hasErrors: Bool { contains { $0.severity == .error } }

    /// Diagnostics in a stable order: by file, line, column, then message.
    public func sortedForDisplay() -> [Diagnostic] {
        sorted { lhs, rhs in
            switch (lhs.location, rhs.location) {
            case let (l?, r?) where l != r: return l < r
            case (nil, _?): return false
            case (_?, nil): return true
            default: return (lhs.severity, lhs.description) < (rhs.severity, rhs.description)
            }
        }
    }
}
