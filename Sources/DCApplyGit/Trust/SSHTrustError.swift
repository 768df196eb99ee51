/// Why an SSH key, an SSH signature or an allowed-signers line could not be used. The message
/// says what was wrong in words a person can act on.
public struct SSHTrustError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; `unsupportedKeyType` is kept apart so callers can say "this key type
    /// is not supported" rather than "this is broken".
    public enum Code: Sendable, Hashable {
        case malformed
        case unsupportedKeyType
        case wrongNamespace
        case badSignature
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
