import DCApplyCore
import DCApplyTestSupport
import Foundation
import Logging

/// A folder of the repository's manifests loaded and planned in-process against an in-memory
/// state store, as `dcapply plan` would.
struct SiteFixture {
    let reconciler: Reconciler
    let site: LoadedSite
    let plan: Plan

    static let logger = Logger(label: "html-tests") { _ in SwiftLogNoOpLogHandler() }

    /// `folder` is relative to the package root (`Examples/quickstart`, `Manifests`).
    static func load(_ folder: String, store: any StateStore = InMemoryStateStore()) async throws -> SiteFixture {
        let reconciler = Reconciler(store: store, solver: PortfolioPlacementSolver(solveTime: 0.2), logger: logger)
        let path = DCApplyRunner.packageRoot.appendingPathComponent(folder).path
        let site = try await reconciler.load([path])
        let errors = site.diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty else { throw WebDriverError(description: "\(folder) does not load: \(errors)") }
        return SiteFixture(reconciler: reconciler, site: site, plan: try reconciler.plan(site))
    }

    var applied: StoredState { (try? reconciler.store.load()) ?? StoredState() }

    /// The state class a node's cell must carry, worked out from the inventory and the plan.
    func expectedStateClass(_ name: String) -> String {
        guard let node = site.observed.nodes[name] else { return "?" }
        if node.health == .failed { return "s-failed" }
        if (plan.target.nodes[name]?.powerState ?? node.powerState) == .off { return "s-off" }
        return node.health == .degraded ? "s-degraded" : "s-healthy"
    }

    /// Every node a change names: its resource, a drive's node, a replica's nodes.
    static func nodesNamed(by changes: [Change]) -> Set<String> {
        var nodes = Set<String>()
        for change in changes {
            if change.resource.kind == "Node" { nodes.insert(change.resource.name) }
            if change.resource.kind == "Drive", let node = change.resource.name.split(separator: "/").first { nodes.insert(String(node)) }
            nodes.formUnion(change.fromNodes ?? [])
            nodes.formUnion(change.toNodes ?? [])
        }
        return nodes
    }

    /// Writes `html` to a temporary file and returns its file:// URL.
    static func write(_ html: String, name: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-html-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent(name)
        try html.write(to: file, atomically: true, encoding: .utf8)
        return file
    }
}
