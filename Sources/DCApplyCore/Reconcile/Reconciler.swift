import Foundation
import Logging

/// Everything read for one run: the manifests, the observed hardware, and their diagnostics.
public struct LoadedSite: Sendable {
    public var desired: DesiredState
    public var observed: ObservedState
    public var diagnostics: [Diagnostic]
    /// When the hardware was observed (for the markdown plan's footer).
    public var observedAt = Date()
    /// What the actuators observed: repairs, nodes others took out of service, problems.
    public var actuatorFindings = ActuatorFindings()
}

/// Makes the provider for a site whose provider kind lives outside the core (Redfish, exec);
/// returns nil for a kind it does not handle. The executable passes one to the reconciler.
public typealias ProviderFactory = @Sendable (_ site: Site, _ store: any StateStore, _ logger: Logger) throws -> (any HardwareProvider)?

/// The one place that composes the pipeline: manifests → observe → placement → plan → apply.
/// The CLI (and later the daemon) call it.
public struct Reconciler: Sendable {
    public let store: any StateStore
    public let solver: any PlacementSolver
    public let logger: Logger
    public let limits: InputLimits
    public let providers: ProviderFactory?
    /// Where a warning for people goes (the CLI prints it as a plain `warning:` line); nil logs it.
    public var warn: (@Sendable (String) -> Void)?
    public let actuatorFactory: ActuatorFactory?
    /// What the apply lock's `since` reads (the executor reads `ApplyOptions.clock`).
    public var clock: any WallClock = SystemWallClock()
    private let actuatorCache = ActuatorCache()

    public init(store: any StateStore, solver: any PlacementSolver = PortfolioPlacementSolver(), logger: Logger, limits: InputLimits = .standard,
                providers: ProviderFactory? = nil, actuators: ActuatorFactory? = nil) {
        self.store = store
        self.solver = solver
        self.logger = logger
        self.limits = limits
        self.providers = providers
        self.actuatorFactory = actuators
    }

    /// The actuators of every Site that lists some, by Site name, each described once for the
    /// life of this reconciler (while the Site's actuator list stays the same).
    public func actuators(for desired: DesiredState) async throws -> [String: SiteActuators] {
        var result: [String: SiteActuators] = [:]
        for site in desired.sites.values.sorted(by: { $0.metadata.name < $1.metadata.name }) where !site.actuators.isEmpty {
            if let cached = actuatorCache.get(site) {
                result[site.metadata.name] = cached
                continue
            }
            var entries: [SiteActuators.Entry] = []
            var names = Set<String>()
            for configuration in site.actuators {
                guard let made = try actuatorFactory?(configuration, site, store, logger) else {
                    throw DCApplyError(.provider, "Site \(site.metadata.name): no \(configuration.kind) actuator is linked into this program")
                }
                guard names.insert(made.name).inserted else {
                    throw DCApplyError(.provider, "Site \(site.metadata.name): two actuators are named \(quoted(made.name)); give each exec actuator its own command")
                }
                let description = try await made.describe()
                logger.debug("actuator described", metadata: ["dcapply.site": "\(site.metadata.name)", "dcapply.actuator": "\(made.name)",
                                                               "dcapply.actions": "\(description.actions.map(\.rawValue).sorted().joined(separator: ","))"])
                entries.append(SiteActuators.Entry(actuator: made, description: description))
            }
            let prepared = SiteActuators(site: site, entries: entries)
            actuatorCache.put(prepared)
            result[site.metadata.name] = prepared
        }
        return result
    }

    /// Asks every observing actuator what differs from what was applied.
    public func observeActuators(_ desired: DesiredState, observed: ObservedState) async throws -> ActuatorFindings {
        let prepared = try await actuators(for: desired)
        guard !prepared.isEmpty else { return ActuatorFindings() }
        let applied = try store.load().target
        var findings = ActuatorFindings()
        for (siteName, siteActuators) in prepared.sorted(by: { $0.key < $1.key }) {
            for entry in siteActuators.entries where entry.description.observes {
                let context = ActuatorContext(site: siteActuators.site, desired: desired, observed: observed, applied: applied, target: nil,
                                              records: ActuatorRecords(store: store, site: siteName, actuator: entry.actuator.name), logger: logger)
                let seen = try await entry.actuator.observe(context)
                for var repair in seen.repairs {
                    repair.actuator = entry.actuator.name
                    if repair.reason.isEmpty { repair.reason = "changed outside dcapply" }
                    findings.repairs.append(repair)
                }
                for (node, why) in seen.degraded where findings.degraded[node] == nil { findings.degraded[node] = "\(entry.actuator.name): \(why)" }
                findings.problems += seen.problems
            }
        }
        return findings
    }

    /// The provider a site names: the factory's, else the built-in local provider.
    public func provider(for site: Site) throws -> any HardwareProvider {
        if let made = try providers?(site, store, logger) { return made }
        switch site.provider {
        case .local: return LocalProvider(store: store, limits: limits)
        case .redfish: throw DCApplyError(.provider, "Site \(site.metadata.name): no Redfish provider is linked into this program (the dcapply executable passes DCApplyRedfish's RedfishProviders.factory() to the Reconciler)")
        case .exec: throw DCApplyError(.provider, "Site \(site.metadata.name): no exec provider is linked into this program (the dcapply executable passes DCApplyActuators' factory to the Reconciler)")
        }
    }

    /// Reads and checks the manifests and observes every site. Diagnostics with errors mean
    /// nothing further should happen.
    public func load(_ paths: [String]) async throws -> LoadedSite {
        let (sources, fileDiagnostics) = ManifestFiles.read(paths, limits: limits)
        var extra = fileDiagnostics
        if sources.isEmpty && fileDiagnostics.isEmpty {
            extra.append(.error("no manifests found in \(paths.joined(separator: ", "))"))
        }
        return try await load(sources: sources, diagnostics: extra, origin: paths.joined(separator: ", "))
    }

    /// Parses and checks manifests already read (from files, or from git objects) and observes
    /// every site; `diagnostics` are earlier ones (from reading) to report with the rest.
    /// `origin` names where they came from, for the error when they declare no Site.
    public func load(sources: [SourceFile], diagnostics earlier: [Diagnostic] = [], origin: String? = nil) async throws -> LoadedSite {
        var (desired, locations, diagnostics) = ManifestParser(limits: limits).parse(sources)
        diagnostics = earlier + diagnostics
        // A set with no Site would plan to take away everything applied: a wrong path, not a wish.
        if !diagnostics.hasErrors && desired.sites.isEmpty {
            let place = origin.map { " in \($0)" } ?? ""
            diagnostics.append(.error("no Site\(place): wrong path? A manifest set declares one Site (kind: Site) and what runs on it"))
        }
        var observed = ObservedState()
        var findings = ActuatorFindings()
        if !diagnostics.hasErrors {
            let (nodes, observeDiagnostics) = try await observe(desired)
            observed = nodes
            diagnostics += observeDiagnostics
            if !diagnostics.hasErrors {
                diagnostics += SiteChecker.check(desired, observed: observed, locations: locations)
            }
            if !diagnostics.hasErrors {
                findings = try await observeActuators(desired, observed: observed)
                observed = Self.applying(findings, to: observed)
            }
        }
        if desired.accessPolicies.isEmpty && !desired.workloads.isEmpty {
            diagnostics.append(.warning("no AccessPolicy is declared: everything is allowed"))
        }
        return LoadedSite(desired: desired, observed: observed, diagnostics: diagnostics.sortedForDisplay(), actuatorFindings: findings)
    }

    /// Nodes an actuator saw taken out of service by someone else are observed as degraded.
    static func applying(_ findings: ActuatorFindings, to observed: ObservedState) -> ObservedState {
        var observed = observed
        for node in findings.degraded.keys where observed.nodes[node]?.health == .healthy { observed.nodes[node]?.health = .degraded }
        return observed
    }

    /// Observes every site of the manifests.
    public func observe(_ desired: DesiredState) async throws -> (ObservedState, [Diagnostic]) {
        var observed = ObservedState()
        var diagnostics: [Diagnostic] = []
        for site in desired.sites.values.sorted(by: { $0.metadata.name < $1.metadata.name }) {
            logger.debug("observing site", metadata: ["dcapply.site": "\(site.metadata.name)", "dcapply.provider": "\(site.provider.name)"])
            let (nodes, siteDiagnostics) = try await provider(for: site).observe(site: site)
            diagnostics += siteDiagnostics
            for node in nodes {
                if let other = observed.nodes[node.name], other.site != node.site {
                    diagnostics.append(.error("node \(quoted(node.name)) is reported by sites \(other.site) and \(node.site); node names are unique across sites", at: node.source))
                }
                observed.nodes[node.name] = node
            }
        }
        return (observed, diagnostics)
    }

    /// Plans against what the store says is applied.
    public func plan(_ site: LoadedSite, revision: String? = nil) throws -> Plan {
        plan(site, revision: revision, against: try store.load())
    }

    /// Plans against `stored`, read from the store by the caller (who needs it too: `plan`'s
    /// blast-radius warning), so a 50,000-node state is read once.
    public func plan(_ site: LoadedSite, revision: String? = nil, against stored: StoredState) -> Plan {
        let placement = solver.solve(PlacementInput(desired: site.desired, observed: site.observed, current: stored.target))
        return Planner().plan(desired: site.desired, observed: site.observed, current: stored.target, placement: placement,
                              revision: revision, stateSerial: stored.serial, actuators: site.actuatorFindings)
    }

    /// Plans as if the scenarios' nodes had failed, against what the store says is applied, and
    /// judges every redundancy promise under that plan. Writes nothing: the failures live only
    /// in a copy of the observed state. Throws when a scenario names no node.
    public func whatIf(_ site: LoadedSite, failing scenarios: [FailureScenario], revision: String? = nil) throws -> WhatIfReport {
        guard !scenarios.isEmpty else {
            throw DCApplyError(.usage, "name at least one failure, such as rack=r07 or node=gpu-r01-n01")
        }
        var lost = Set<String>()
        for scenario in scenarios { lost.formUnion(try scenario.nodes(in: site.observed)) }
        var failed = site
        failed.observed = FailureScenario.apply(scenarios, to: site.observed)
        let plan = try plan(failed, revision: revision)
        return WhatIfReport(scenarios: scenarios, lostNodes: lost.sorted(), plan: plan,
                            promises: PromiseVerdict.evaluate(plan, desired: failed.desired, observed: failed.observed))
    }

    /// Applies a plan and throws when any action failed or was skipped (after recording what
    /// was done). For callers that only need to know whether it all worked (the daemon).
    public func apply(_ plan: Plan, site: LoadedSite, options: ApplyOptions = ApplyOptions()) async throws -> StoredState {
        let outcome = try await execute(plan, site: site, options: options)
        guard outcome.succeeded else {
            let first = outcome.failed.first.map { "; first: \($0.change.action.rawValue) \($0.change.resource): \($0.error)" } ?? ""
            throw DCApplyError(.provider, "apply incomplete: \(outcome.done) done, \(outcome.failed.count) failed, \(outcome.skipped.count) skipped\(first)")
        }
        return outcome.stored
    }

    /// Applies a plan under the state store's lock. An apply a dead process left unfinished is
    /// dealt with first (see `recover`); when that changes the state, the plan is made again.
    public func execute(_ plan: Plan, site: LoadedSite, options: ApplyOptions = ApplyOptions(),
                        onEvent: (@Sendable (ApplyEvent) -> Void)? = nil) async throws -> ApplyOutcome {
        try await withLock(command: "apply") {
            var plan = plan, site = site
            if try await recoverLocked(site: site, options: options) != nil {
                // The recovery changed the hardware and the state: look again, plan again.
                let (observed, diagnostics) = try await observe(site.desired)
                guard !diagnostics.hasErrors else {
                    throw DCApplyError(.provider, "after finishing an interrupted apply, observing again failed", diagnostics: diagnostics)
                }
                site.actuatorFindings = try await observeActuators(site.desired, observed: observed)
                site.observed = Self.applying(site.actuatorFindings, to: observed)
                plan = try self.plan(site, revision: plan.revision)
            }
            let executor = Executor(store: store, logger: logger, options: options, actuators: try await actuators(for: site.desired), onEvent: onEvent)
            return try await executor.apply(plan, desired: site.desired, observed: site.observed, provider: { try provider(for: $0) })
        }
    }

    @TaskLocal static var holdingLock = false

    /// What `recover` did with an apply a dead process left unfinished.
    public struct Recovery: Sendable {
        /// The journal's id of the unfinished apply.
        public var id: Int
        public var startedAt: Date
        public var host: String
        /// Resumed (finished) when the manifests are those it was applying; else closed with
        /// what was done recorded.
        public var outcome: ApplyOutcome
        public var resumed: Bool
    }

    /// Finds an apply left unfinished by a process that died, and finishes it when the manifests
    /// are still those it applied (re-observing first: nothing done is repeated), or else
    /// records what it did and closes it. Nil when there is none. Takes the lock.
    public func recover(site: LoadedSite, options: ApplyOptions = ApplyOptions(),
                        onEvent: (@Sendable (ApplyEvent) -> Void)? = nil) async throws -> Recovery? {
        guard try store.unfinishedApply() != nil else { return nil }
        return try await withLock(command: "apply (resume)") { try await recoverLocked(site: site, options: options, onEvent: onEvent) }
    }

    private func recoverLocked(site: LoadedSite, options: ApplyOptions, onEvent: (@Sendable (ApplyEvent) -> Void)? = nil) async throws -> Recovery? {
        guard let unfinished = try store.unfinishedApply() else { return nil }
        let plan = try Plan(json: unfinished.planJSON, source: "the journal of apply \(unfinished.id)")
        let executor = Executor(store: store, logger: logger, options: options, actuators: try await actuators(for: site.desired), onEvent: onEvent)
        let sameManifests = plan.manifestDigest == site.desired.digest
        let nodesStillThere = plan.changes.allSatisfy { $0.resource.kind != "Node" || site.observed.nodes[$0.resource.name] != nil }
        if sameManifests && nodesStillThere {
            logger.notice("resuming an interrupted apply", metadata: ["dcapply.apply": "\(unfinished.id)"])
            let outcome = try await executor.resume(unfinished, plan: plan, desired: site.desired, observed: site.observed, provider: { try provider(for: $0) })
            return Recovery(id: unfinished.id, startedAt: unfinished.startedAt, host: unfinished.host, outcome: outcome, resumed: true)
        }
        logger.notice("closing an interrupted apply: the manifests or nodes changed since", metadata: ["dcapply.apply": "\(unfinished.id)"])
        let outcome = try executor.close(unfinished, plan: plan, observed: site.observed)
        return Recovery(id: unfinished.id, startedAt: unfinished.startedAt, host: unfinished.host, outcome: outcome, resumed: false)
    }

    /// Runs `body` holding the state store's apply lock. A lock whose holder is a process on
    /// this host that is no longer running is taken over (with a warning); a live holder, or
    /// one on another host, makes this throw `DCApplyError(.locked)` naming it.
    public func withLock<T: Sendable>(command: String, _ body: () async throws -> T) async throws -> T {
        // Re-entrant: `apply` holds the lock from before planning to the end, and the
        // reconciler's own steps inside it do not take it again.
        if Self.holdingLock { return try await body() }
        let me = LockHolder.current(command: command, clock: clock)
        if let stale = try store.acquireLock(me, isStale: { $0.isAlive == false }) {
            if let warn {
                warn("took over the apply lock of \(stale): that process is no longer running")
            } else {
                logger.warning("took over the apply lock of a process that is no longer running", metadata: ["dcapply.holder": "\(stale)"])
            }
        }
        do {
            let result = try await Self.$holdingLock.withValue(true) { try await body() }
            try store.releaseLock(me)
            return result
        } catch {
            try? store.releaseLock(me)
            throw error
        }
    }
}
