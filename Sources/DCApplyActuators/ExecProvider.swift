import DCApplyCore
import Foundation
import Logging

/// A hardware provider that is an external program speaking the exec protocol: `observe`
/// returns the Site's nodes in the shape of the local inventory's nodes, and power changes are
/// `apply` calls with one `powerOn` or `powerOff` action. Health set with `dcapply inventory
/// set` overrides what the plugin reports, as for the other providers.
public struct ExecProvider: HardwareProvider {
    let plugin: ExecPlugin
    let overrides: any LocalHardwareStore
    let limits: InputLimits

    /// - Parameters:
    ///   - environment: variables added to dcapply's own for the plugin.
    ///   - overrides: where `inventory set` keeps health overrides (the state store).
    public init(configuration: ExecConfiguration, environment: [String: String] = [:], overrides: any LocalHardwareStore,
                limits: InputLimits = .standard, logger: Logger) {
        plugin = ExecPlugin(runner: ExecRunner(name: ExecPlugin.name(of: configuration), configuration: configuration,
                                               environment: environment, logger: logger))
        self.overrides = overrides
        self.limits = limits
    }

    public func observe(site: Site) async throws -> (nodes: [ObservedNode], diagnostics: [Diagnostic]) {
        let description = try await plugin.describe()
        guard description.observes else {
            throw ProviderError(.terminal, "\(plugin.name): a provider must handle observe, and its describe does not list it")
        }
        let data = try await plugin.observe(site: site.metadata.name, role: "provider")
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let nodes = object["nodes"] as? [Any] else {
            throw ProviderError(.terminal, "\(plugin.name): observe exited 0 but its response is not valid: expected an object with a nodes list")
        }
        // The nodes have the local inventory's shape: read them with its parser and checks.
        let inventory: [String: Any] = ["apiVersion": ManifestSchemas.apiVersion, "kind": "Inventory", "nodes": nodes]
        let text = String(decoding: try JSONSerialization.data(withJSONObject: inventory, options: [.sortedKeys]), as: UTF8.self)
        var (observed, diagnostics) = InventoryParser(limits: limits).parse(SourceFile(path: "\(plugin.name) observe", text: text), site: site.metadata.name)
        let stored = try overrides.overrides()
        for index in observed.indices {
            if let health = stored[observed[index].name]?.health { observed[index].health = health }
        }
        diagnostics = diagnostics.map { diagnostic in
            var diagnostic = diagnostic
            diagnostic.message = "\(plugin.name) observe: \(diagnostic.message)"
            return diagnostic
        }
        return (observed, diagnostics)
    }

    public func setPower(_ state: PowerState, node: String, site: Site) async throws {
        let action: Action = state == .on ? .powerOn : .powerOff
        guard try await plugin.describe().actions.contains(action) else {
            throw ProviderError(.terminal, node: node, "\(plugin.name) does not switch power (its describe does not list \(action.rawValue))")
        }
        let id = "\(node).\(action.rawValue)"
        let change = Change(action, .node(node), reason: "power \(state.rawValue)")
        let results = try await plugin.apply([ActuatorAction(id: id, change: change)], site: site.metadata.name, role: "provider")
        if case .failed(let transient, let message)? = results.first?.status {
            throw ProviderError(transient ? .transient : .terminal, node: node, "\(plugin.name): \(message)")
        }
    }
}
