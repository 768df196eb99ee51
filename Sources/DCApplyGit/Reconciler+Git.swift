import DCApplyCore
import Foundation

extension Reconciler {
    /// This reconciler with local Sites reading their inventory from `commit` of `source`
    /// instead of the disk; other provider kinds go to the factory it already had. With `trees`,
    /// exec plugins (provider and actuators) run in the manifest's folder of a copy of the
    /// commit's files (``GitTreeCache``): a relative command names the program committed with
    /// the manifests, not whatever the daemon's current directory holds.
    public func readingInventory(from source: any GitSource, at commit: String, trees: GitTreeCache? = nil) -> Reconciler {
        let earlier = providers
        let reader = source.inventoryReader(at: commit)
        let limits = limits
        let earlierActuators = actuatorFactory
        let rebase: @Sendable (ExecConfiguration) throws -> ExecConfiguration = { configuration in
            guard let trees else { return configuration }
            return try Self.rebasing(configuration, onto: trees.folder(for: commit, from: source))
        }
        let makeProvider: ProviderFactory = { site, store, logger in
            switch site.provider {
            case .local:
                return LocalProvider(store: store, limits: limits, inventory: reader)
            case .exec(let configuration):
                var site = site
                site.provider = .exec(try rebase(configuration))
                return try earlier?(site, store, logger)
            case .redfish:
                return try earlier?(site, store, logger)
            }
        }
        var makeActuator: ActuatorFactory?
        if let earlierActuators {
            makeActuator = { configuration, site, store, logger in
                guard case .exec(let exec) = configuration else { return try earlierActuators(configuration, site, store, logger) }
                return try earlierActuators(.exec(try rebase(exec)), site, store, logger)
            }
        }
        var reconciler = Reconciler(store: store, solver: solver, logger: logger, limits: limits, providers: makeProvider, actuators: makeActuator)
        reconciler.warn = warn
        reconciler.clock = clock
        return reconciler
    }

    /// The configuration with its folder moved from the repository path the manifest parser gave
    /// it (resolved against the current directory) to the same folder under `tree`.
    static func rebasing(_ configuration: ExecConfiguration, onto tree: String) -> ExecConfiguration {
        guard let inside = GitPath.insideRepository(configuration.directory) else { return configuration }
        var rebased = configuration
        rebased.directory = inside.isEmpty ? tree : tree + "/" + inside
        return rebased
    }

    /// Reads the manifests at `commit` from git objects (never the work tree), parses and checks
    /// them, and observes every site with inventories read from the same commit.
    public func load(commit: String, paths: [String], from source: any GitSource) async throws -> LoadedSite {
        let (sources, readDiagnostics) = try source.manifests(at: commit, paths: paths, limits: limits)
        var diagnostics = readDiagnostics
        if sources.isEmpty && readDiagnostics.isEmpty {
            diagnostics.append(.error("no manifests found at commit \(commit.prefix(12)) in \(paths.isEmpty ? "." : paths.joined(separator: ", "))"))
        }
        return try await readingInventory(from: source, at: commit).load(sources: sources, diagnostics: diagnostics,
                                                                    origin: "\(paths.isEmpty ? "." : paths.joined(separator: ", ")) at \(commit.prefix(12))")
    }
}
