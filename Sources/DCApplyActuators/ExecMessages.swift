import DCApplyCore
import Foundation

/// The JSON messages of the exec protocol, v1 (`docs/providers/exec.md`).
enum ExecMessages {
    static let apiVersion = "dcapply.exec/v1"

    struct Request: Encodable {
        var apiVersion = ExecMessages.apiVersion
        var operation: String
        /// The Site's name (observe, apply).
        var site: String?
        /// `provider` or `actuator`: one program may serve as both.
        var role: String?
        var actions: [ActionEntry]?
    }

    /// One action, exactly as in the plan JSON's `changes`, plus its `id`.
    struct ActionEntry: Codable, Hashable {
        var id: String?
        var action: String
        var resource: String
        var from: String?
        var to: String?
        var replica: Int?
        var fromNodes: [String]?
        var toNodes: [String]?
        var reason: String?
        var subject: String?
        var actuator: String?

        init(id: String?, change: Change) {
            self.id = id
            action = change.action.rawValue
            resource = change.resource.description
            from = change.from
            to = change.to
            replica = change.replica
            fromNodes = change.fromNodes
            toNodes = change.toNodes
            reason = change.reason
            subject = change.subject == change.resource ? nil : change.subject.description
            actuator = change.actuator
        }
    }

    struct Describe: Decodable {
        var operations: [String]
        var actions: [String]?
    }

    struct Results: Decodable {
        struct Entry: Decodable {
            var id: String?
            var status: String?
            var transient: Bool?
            var error: String?
        }

        var results: [Entry]
    }

    struct Objects: Decodable {
        var objects: [ActionEntry]
    }

    static func encode(_ request: Request) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(request)) ?? Data("{}".utf8)
    }

    /// Decodes a response; a response that is not JSON of the right shape is a terminal error
    /// naming the plugin and what is wrong.
    static func decode<T: Decodable>(_ type: T.Type, _ data: Data, plugin: String, operation: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            let text = String(decoding: data.prefix(120), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                .replacingOccurrences(of: "\n", with: " ")
            throw ProviderError(.terminal, "\(plugin): \(operation) exited 0 but its response is not valid: \(describe(error)) (stdout began \(text.isEmpty ? "empty" : "\"\(text)\""))")
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing key \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        case DecodingError.dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not JSON" : "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }
}
