import DCApplyCore
import Foundation
import Logging
import Synchronization

/// One exec plugin: its three operations over ``ExecRunner``, `describe` asked once.
final class ExecPlugin: Sendable {
    let runner: ExecRunner
    private let described = Mutex<ActuatorDescription?>(nil)

    init(runner: ExecRunner) {
        self.runner = runner
    }

    var name: String { runner.name }

    /// Which operations and actions the plugin handles; asked once for the life of this object.
    func describe() async throws -> ActuatorDescription {
        if let known = described.withLock({ $0 }) { return known }
        let data = try await runner.call(operation: "describe", request: ExecMessages.encode(.init(operation: "describe")))
        let reply = try ExecMessages.decode(ExecMessages.Describe.self, data, plugin: name, operation: "describe")
        var actions = Set<Action>()
        for text in reply.actions ?? [] {
            guard let action = Action(rawValue: text) else {
                throw ProviderError(.terminal, "\(name): describe lists an unknown action \(String(reflecting: text)); known: \(Action.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            actions.insert(action)
        }
        let description = ActuatorDescription(actions: actions, observes: reply.operations.contains("observe"))
        guard reply.operations.contains("apply") || actions.isEmpty else {
            throw ProviderError(.terminal, "\(name): describe lists actions but not the apply operation")
        }
        described.withLock { $0 = description }
        return description
    }

    /// `observe`, returning the raw response.
    func observe(site: String, role: String) async throws -> Data {
        try await runner.call(operation: "observe", request: ExecMessages.encode(.init(operation: "observe", site: site, role: role)))
    }

    /// `apply` with the actions; one result per action, in their order (a missing result is a
    /// terminal failure naming the id).
    func apply(_ actions: [ActuatorAction], site: String, role: String) async throws -> [ActuatorResult] {
        let request = ExecMessages.Request(operation: "apply", site: site, role: role,
                                           actions: actions.map { ExecMessages.ActionEntry(id: $0.id, change: $0.change) })
        let data = try await runner.call(operation: "apply", request: ExecMessages.encode(request))
        let reply = try ExecMessages.decode(ExecMessages.Results.self, data, plugin: name, operation: "apply")
        var byID: [String: ActuatorResult.Status] = [:]
        for (index, entry) in reply.results.enumerated() {
            guard let id = entry.id else { throw ProviderError(.terminal, "\(name): apply results[\(index)] has no id") }
            switch entry.status {
            case "done": byID[id] = .done
            case "failed": byID[id] = .failed(transient: entry.transient ?? false, message: entry.error ?? "failed")
            case nil: throw ProviderError(.terminal, "\(name): apply results[\(index)] (id \(id)) has no status")
            case let other?: throw ProviderError(.terminal, "\(name): apply results[\(index)] (id \(id)) has status \(String(reflecting: other)); expected done or failed")
            }
        }
        return actions.map { ActuatorResult(id: $0.id, byID[$0.id] ?? .failed(transient: false, message: "the plugin reported no result for id \($0.id)")) }
    }

    /// `exec:` and the program's file name.
    static func name(of configuration: ExecConfiguration) -> String {
        "exec:" + (configuration.command.first.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "?")
    }
}
