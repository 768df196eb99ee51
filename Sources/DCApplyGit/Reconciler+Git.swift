import DCApplyCore
import Foundation

extension Reconciler {
    /// This reconciler with local Sites reading their inventory from `commit` of `source`
    /// instead of the disk; other provider kinds go to the factory it already had.
    public func readingInventory(from source: any GitSource, at commit: String) -> Reconciler {
        let earlier = providers
        let reader = source.inventoryReader(at: commit)
        let limits = limits
        return Reconciler(store: store, solver: solver, logger: logger, limits: limits, providers: { site, store, logger in
            if case .local = site.provider { return LocalProvider(store: store, limits: limits, inventory: reader) }
            return try earlier?(site, store, logger)
        }, actuators: actuatorFactory)
    }

    /// Reads the manifests at `commit` from git objects (never the work tree), parses and checks
    /// them, and observes every site with inventories read from the same commit.
    public func load(commit: String, paths: [String], from source: any GitSource) async throws -> LoadedSite {
        let (sources, readDiagnostics) = try source.manifests(at: commit, paths: paths, limits: limits)
        var diagnostics = readDiagnostics
        if sources.isEmpty && readDiagnostics.isEmpty {
            diagnostics.append(.error("no manifests found at commit \(commit.prefix(12)) in \(paths.isEmpty ? "." : paths.joined(separator: ", "))"))
        }
        return try await readingInventory(from: source, at: commit).load(sources: sources, diagnostics: diagnostics)
    }
}
