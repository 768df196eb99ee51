import DCApplyCore
import DCApplyGit
import DCApplyPostgres
import DCApplyServer
import Foundation
import Hummingbird
import Logging

extension Serve {
    /// Several sites in one serve: more than one `--path`, or a glob (docs/gitops.md, "Many sites").
    var isFleet: Bool { path.count > 1 || path.contains(where: SiteFolders.isPattern) }

    /// Serves every site the `--path` values name, each with its own loop, store, status and
    /// metrics; on a shared PostgreSQL store, leading only this controller's share of them.
    func runFleet(logger: Logger, webhook: WebhookSignature?, trust: TrustGate) async throws {
        let stores = try FleetStores(state: options.state, passwordFile: options.statePasswordFile)
        let repository = try openClone(logger: logger)
        let template = try Pipeline(options: options, solver: solver, store: InMemoryStateStore()).reconciler
        let membership = stores.postgres.map { PostgresControllerMembership(sharing: $0) }
        // The shared store's own connection checked the URL and the password; each site opens its own.
        stores.postgres?.shutdown()
        defer { membership?.shutdown() }
        let balancer = membership.map { LeadershipBalancer(membership: $0) }
        let fleet = FleetState(repository: Secrets.displayURL(repo), branch: branch, paths: path, selfHeal: selfHeal, balancer: balancer)
        let settings = (branch: branch, interval: intervalSeconds ?? 30, selfHeal: selfHeal, parallelism: parallelism,
                        failpoints: try Failpoints.fromEnvironment(), destroyLimit: destroy.allowDestroy ? nil : destroy.threshold,
                        leaderCheck: leaderCheckSeconds ?? min(5, intervalSeconds ?? 30), display: Secrets.displayURL(repo))
        let makeSite: @Sendable (SiteAssignment.Site) throws -> FleetSite = { site in
            let store = try stores.open(site: site.name)
            var siteLogger = logger
            siteLogger[metadataKey: "dcapply.site"] = "\(site.name)"
            var reconciler = Reconciler(store: store, solver: template.solver, logger: template.logger, limits: template.limits,
                                        providers: template.providers, actuators: template.actuatorFactory)
            reconciler.warn = template.warn
            var status = ServeStatus(repository: settings.display, branch: settings.branch, path: site.path, selfHeal: settings.selfHeal)
            status.site = site.name
            status.lastAppliedRevision = try store.load().revision
            status.set("Ready", false, reason: "Progressing", message: "the first pass has not finished", at: Date())
            status.set("Stalled", false, reason: "Progressing", message: "", at: Date())
            let state = ServeState(status: status, metrics: ServeMetrics(registry: fleet.registry, labels: [("site", site.name)]))
            var loop = GitOpsLoop(repository: repository, branch: settings.branch, paths: [site.path], interval: settings.interval,
                                  selfHeal: settings.selfHeal, reconciler: reconciler, state: state, logger: siteLogger, trust: trust,
                                  applyOptions: ApplyOptions(parallelism: settings.parallelism, failpoints: settings.failpoints))
            loop.destroyLimit = settings.destroyLimit
            loop.trees = GitTreeCache(root: URL(fileURLWithPath: repository.path).appendingPathComponent("dcapply-trees").path)
            loop.leaderCheck = settings.leaderCheck
            guard let store = store as? PostgresStateStore, let balancer else { return FleetSite(name: site.name, path: site.path, loop: loop) }
            let leadership = PostgresSiteLeadership(sharing: store)
            store.reportOutages(to: siteLogger)
            leadership.reportOutages(to: siteLogger)
            store.fence { leadership.fencingToken }
            loop.leadership = BalancedSiteLeadership(site: site.name, inner: leadership, balancer: balancer)
            return FleetSite(name: site.name, path: site.path, loop: loop) {
                leadership.shutdown()
                store.shutdown()
            }
        }
        var service = SiteFleet(repository: repository, branch: branch, patterns: path, interval: settings.leaderCheck, state: fleet,
                                logger: logger, makeSite: makeSite)
        service.limits = template.limits
        guard let address else { return }
        let app = Application(
            router: ServeRoutes.router(fleet: fleet, webhook: webhook),
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: "dcapply"),
            services: [service],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? address.port
                FileHandle.standardError.write(Data("dcapply serve: listening on \(address.host):\(port), following \(settings.branch) of \(settings.display) (sites: \(path.joined(separator: " ")))\n".utf8))
            },
            logger: logger)
        try await app.runService()
    }
}
