import DCApplyCore
import Foundation

/// Reads a credential from its reference, `env:NAME` or `file:PATH`. Errors name the reference,
/// never the value.
enum SecretReference {
    static func resolve(_ reference: String, environment: [String: String]) throws -> String {
        if reference.hasPrefix("env:") {
            let name = String(reference.dropFirst(4))
            guard let value = environment[name], !value.isEmpty else {
                throw DCApplyError(.provider, "the credential reference \(reference) names an unset or empty environment variable")
            }
            return value
        }
        if reference.hasPrefix("file:") {
            let path = String(reference.dropFirst(5))
            guard let data = FileManager.default.contents(atPath: path) else {
                throw DCApplyError(.provider, "the credential file \(path) cannot be read")
            }
            // A trailing newline is the editor's, not the secret's.
            let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
            guard !value.isEmpty else { throw DCApplyError(.provider, "the credential file \(path) is empty") }
            return value
        }
        throw DCApplyError(.provider, "a credential must be a reference env:NAME or file:PATH")
    }
}

/// A username and password, kept out of every description so that no log or error shows them.
struct Credentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    let username: String
    let password: String

    var description: String { "Credentials(redacted)" }
    var debugDescription: String { description }

    /// `Basic base64(user:password)`.
    var basicAuthorization: String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }
}
