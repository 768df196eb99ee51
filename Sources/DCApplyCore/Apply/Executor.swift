import Foundation
import Logging

/// Carries out a plan: power changes through the provider, then the whole target into the
/// state store in one transaction.
public struct Executor {
    public let store: any StateStore
    public let logger: Logger

    public init(store: any StateStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    public func apply(_ plan: Plan, desired: DesiredState, observed: ObservedState, provider: (Site) throws -> any HardwareProvider) async throws -> StoredState {
        let started = Date()
        var powerStates: [String: PowerState] = [:]
        for change in plan.changes where change.action == .powerOn || change.action == .powerOff {
            let name = change.resource.name
            guard let node = observed.nodes[name], let site = desired.sites[node.site] else { continue }
            let state: PowerState = change.action == .powerOn ? .on : .off
            logger.info("power change", metadata: ["dcapply.resource": "\(change.resource)", "dcapply.power": "\(state.rawValue)"])
            try await provider(site).setPower(state, node: name, site: site)
            powerStates[name] = state
        }
        let record = ApplyRecord(
            startedAt: started, finishedAt: Date(), user: ProcessInfo.processInfo.environment["USER"] ?? NSUserName(),
            host: ProcessInfo.processInfo.hostName, revision: plan.revision, manifestDigest: plan.manifestDigest,
            planDigest: Digest.sha256(plan.json), summary: plan.summary, changeCount: plan.changes.count)
        return try store.commitApply(target: plan.target, estimatedW: plan.targetDrawW, powerStates: powerStates, record: record, expectedSerial: plan.stateSerial)
    }
}
