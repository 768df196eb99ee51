import DCApplyCore
import Foundation
import Logging

/// An actuator that is an external program speaking the exec protocol: every action it
/// claims in `describe` reaches it in `apply`; `observe` (when it lists it) reports the actions
/// in effect, and an applied action missing from them is drift.
public struct ExecActuator: Actuator {
    let plugin: ExecPlugin

    /// - Parameter environment: variables added to dcapply's own for the plugin.
    public init(configuration: ExecConfiguration, environment: [String: String] = [:], logger: Logger) {
        plugin = ExecPlugin(runner: ExecRunner(name: ExecPlugin.name(of: configuration), configuration: configuration,
                                               environment: environment, logger: logger))
    }

    public var name: String { plugin.name }

    public func describe() async throws -> ActuatorDescription { try await plugin.describe() }

    public func observe(_ context: ActuatorContext) async throws -> ActuatorObservation {
        let description = try await describe()
        guard description.observes else { return ActuatorObservation() }
        let site = context.site.metadata.name
        let data = try await plugin.observe(site: site, role: "actuator")
        let reply = try ExecMessages.decode(ExecMessages.Objects.self, data, plugin: name, operation: "observe")
        let present = Set(reply.objects.map(Self.key))
        let expected = StandingActions.of(context.applied).filter {
            description.actions.contains($0.action) && SiteActuators.site(of: $0, desired: context.desired, observed: context.observed) == site
        }
        let repairs = expected.filter { !present.contains(Self.key(ExecMessages.ActionEntry(id: nil, change: $0))) }.map { change in
            var repair = change
            repair.reason = "changed outside dcapply"
            return repair
        }
        return ActuatorObservation(repairs: repairs)
    }

    public func apply(_ actions: [ActuatorAction], context: ActuatorContext) async throws -> [ActuatorResult] {
        try await plugin.apply(actions, site: context.site.metadata.name, role: "actuator")
    }

    /// What identifies an object in effect: action, resource, replica, and its nodes (else `to`).
    static func key(_ entry: ExecMessages.ActionEntry) -> String {
        let target = entry.toNodes.map { $0.joined(separator: ",") } ?? entry.to ?? ""
        return [entry.action, entry.resource, entry.replica.map(String.init) ?? "", target].joined(separator: "\t")
    }
}
