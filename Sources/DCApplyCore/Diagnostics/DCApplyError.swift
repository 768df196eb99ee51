/// An operational failure: the state store, a provider, the file system.
///
/// Problems in user input are ``Diagnostic``s; this error is for what stops a run. It wraps a
/// code that can grow without breaking callers, a message that says how to fix it, and the
/// diagnostics that caused it when there are any.
public struct DCApplyError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Sendable { case invalidInput, unsatisfiable, stateStore, provider, fileSystem, locked, usage }
        private let value: Value
        public static let invalidInput = Code(value: .invalidInput)
        public static let unsatisfiable = Code(value: .unsatisfiable)
        public static let stateStore = Code(value: .stateStore)
        public static let provider = Code(value: .provider)
        public static let fileSystem = Code(value: .fileSystem)
        public static let locked = Code(value: .locked)
        public static let usage = Code(value: .usage)
        public var description: String { value.rawValue }
    }

    public let code: Code
    public let message: String
    public let diagnostics: [Diagnostic]
    public let underlying: String?
    /// What the person running dcapply can do about it, for the shell (CLI or daemon) to word:
    /// the core names no command-line flag. Nil when the message says all there is.
    public let hint: Hint?

    public init(_ code: Code, _ message: String, diagnostics: [Diagnostic] = [], underlying: (any Error)? = nil, hint: Hint? = nil) {
        self.code = code
        self.message = message
        self.diagnostics = diagnostics
        self.underlying = underlying.map { String(describing: $0) }
        self.hint = hint
    }

    public var description: String {
        if let underlying { return "\(message): \(underlying)" }
        return message
    }

    /// Input that failed validation; the diagnostics say where.
    public static func invalidInput(_ diagnostics: [Diagnostic]) -> DCApplyError {
        let count = diagnostics.filter { $0.severity == .error }.count
        return DCApplyError(.invalidInput, "\(count) error\(count == 1 ? "" : "s") in the input", diagnostics: diagnostics)
    }
}
