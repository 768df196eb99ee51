import Foundation
import Logging

/// Everything read for one run: the manifests, the observed hardware, and their diagnostics.
public struct LoadedSite: Sendable {
    public var desired: DesiredState
    public var observed: ObservedState
    public var diagnostics: [Diagnostic]
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

    public init(store: any StateStore, solver: any PlacementSolver = GreedyPlacementSolver(), logger: Logger, limits: InputLimits = .standard,
                providers: ProviderFactory? = nil) {
        self.store = store
        self.solver = solver
        self.logger = logger
        self.limits = limits
        self.providers = providers
    }

    /// The provider a site names: the factory's, else the built-in local provider.
    public func provider(for site: Site) throws -> any HardwareProvider {
        if let made = try providers?(site, store, logger) { return made }
        switch site.provider {
        case .local: return LocalProvider(store: store, limits: limits)
        case .redfish: throw DCApplyError(.provider, "Site \(site.metadata.name): the redfish provider is not available in this build yet; use provider.local")
        case .exec: throw DCApplyError(.provider, "Site \(site.metadata.name): the exec provider is not available in this build yet; use provider.local")
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
        return try await load(sources: sources, diagnostics: extra)
    }

    /// Parses and checks manifests already read (from files, or from git objects) and observes
    /// every site; `diagnostics` are earlier ones (from reading) to report with the rest.
    public func load(sources: [SourceFile], diagnostics earlier: [Diagnostic] = []) async throws -> LoadedSite {
        var (desired, locations, diagnostics) = ManifestParser(limits: limits).parse(sources)
        diagnostics = earlier + diagnostics
        var observed = ObservedState()
        if !diagnostics.hasErrors {
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
            if !diagnostics.hasErrors {
                diagnostics += SiteChecker.check(desired, observed: observed, locations: locations)
            }
        }
        if desired.accessPolicies.isEmpty && !desired.workloads.isEmpty {
            diagnostics.append(.warning("no AccessPolicy is declared: everything is allowed"))
        }
        return LoadedSite(desired: desired, observed: observed, diagnostics: diagnostics.sortedForDisplay())
    }

    /// Plans against what the store says is applied.
    public func plan(_ site: LoadedSite, revision: String? = nil) throws -> Plan {
        let stored = try store.load()
        let placement = solver.solve(PlacementInput(desired: site.desired, observed: site.observed, current: stored.target))
        return Planner().plan(desired: site.desired, observed: site.observed, current: stored.target, placement: placement,
                              revision: revision, stateSerial: stored.serial)
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

    public func apply(_ plan: Plan, site: LoadedSite) async throws -> StoredState {
        try await Executor(store: store, logger: logger).apply(plan, desired: site.desired, observed: site.observed, provider: provider(for:))
    }
}
