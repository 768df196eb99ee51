import DCApplyCore
import DCApplyGit
import DCApplyServer
import Foundation
import Logging
import Synchronization

/// Several sites in one in-memory repository (the quickstart under `sites/NAME/`, its Site
/// renamed NAME), one in-memory store per site name kept across the sites' loops, and a
/// manual clock. Nothing here sleeps or spawns.
final class FleetHarness: Sendable {
    let git = InMemoryGitSource()
    let clock = ManualServeClock()
    let stores = Mutex<[String: InMemoryStateStore]>([:])
    let logger: Logger

    init() {
        var logger = Logger(label: "dcapply.serve.test")
        logger.logLevel = .critical
        self.logger = logger
    }

    /// The quickstart's files under `sites/<folder>/`, its Site named `site`.
    static func files(folder: String, site: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for (path, data) in try ServeHarness.quickstart() {
            let name = String(path.split(separator: "/").last ?? "")
            let text = String(decoding: data, as: UTF8.self)
            files["sites/\(folder)/\(name)"] = Data((name == "site.yaml" ? text.replacingOccurrences(of: "  name: lab\n", with: "  name: \(site)\n").replacingOccurrences(of: "  site: lab\n", with: "  site: \(site)\n") : text).utf8)
        }
        return files
    }

    /// The store of site `name`, made on first use and shared by every controller.
    func store(_ name: String) -> InMemoryStateStore {
        stores.withLock { stores in
            if let store = stores[name] { return store }
            let store = InMemoryStateStore()
            stores[name] = store
            return store
        }
    }

    /// A loop for `site` on the shared store, with `leadership` and `failpoints` if given.
    func loop(_ site: SiteAssignment.Site, state: ServeState, leadership: (any SiteLeadership)? = nil, failpoints: Failpoints = .none) -> GitOpsLoop {
        var loop = GitOpsLoop(repository: git, branch: "main", paths: [site.path], interval: 30, selfHeal: true,
                              reconciler: Reconciler(store: store(site.name), logger: logger), state: state, logger: logger,
                              trust: TrustGate(trustedSigners: nil), applyOptions: ApplyOptions(parallelism: 1, failpoints: failpoints))
        loop.clock = clock
        loop.jitter = 1...1
        loop.leadership = leadership
        return loop
    }

    /// A fleet over `patterns`, each site's metrics in the fleet's registry; the sites named in
    /// `failpoints` apply with theirs.
    func fleet(_ patterns: [String], failpoints: [String: Failpoints] = [:]) -> SiteFleet {
        let state = FleetState(repository: "memory", branch: "main", paths: patterns, selfHeal: true)
        var fleet = SiteFleet(repository: git, branch: "main", patterns: patterns, interval: 30, state: state, logger: logger) { [self] site in
            var status = ServeStatus(repository: "memory", branch: "main", path: site.path, selfHeal: true)
            status.site = site.name
            let serve = ServeState(status: status, metrics: ServeMetrics(registry: state.registry, labels: [("site", site.name)]))
            return FleetSite(name: site.name, path: site.path, loop: loop(site, state: serve, failpoints: failpoints[site.name] ?? .none))
        }
        fleet.clock = clock
        fleet.jitter = 1...1
        return fleet
    }
}
