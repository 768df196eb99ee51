import Prometheus
import Synchronization

/// What one serve running several sites shares between its ``SiteFleet`` and its HTTP routes:
/// the sites and their states, the folders not served, one metrics registry (each site's
/// metrics labelled `site="NAME"`), and the fleet's own webhook and stop signals.
public final class FleetState: Sendable {
    public let repository: String
    public let branch: String
    public let paths: [String]
    public let selfHeal: Bool
    /// Every site's metrics.
    public let registry = PrometheusCollectorRegistry()
    /// Who decides which sites this controller leads; nil without a shared store.
    public let balancer: LeadershipBalancer?
    /// The fleet's own trigger and stop (its status is unused).
    let control: ServeState

    private struct Book {
        var sites: [FleetSite] = []
        var problems: [String] = []
        var revision: String?
        var lastError: String?
        var controllers: Int?
    }

    private let book = Mutex(Book())

    /// The state of a fleet following `paths` of `branch`.
    public init(repository: String, branch: String, paths: [String], selfHeal: Bool, balancer: LeadershipBalancer? = nil) {
        self.repository = repository
        self.branch = branch
        self.paths = paths
        self.selfHeal = selfHeal
        self.balancer = balancer
        control = ServeState(status: ServeStatus(repository: repository, branch: branch, path: paths.joined(separator: ","), selfHeal: selfHeal))
    }

    /// The sites served now, by name.
    public var sites: [FleetSite] { book.withLock { $0.sites } }

    /// The site named `name`, if served.
    public func site(_ name: String) -> FleetSite? { sites.first { $0.name == name } }

    /// Records a resolution: the sites served from now on, the problems, the revision.
    func record(sites: [FleetSite], problems: [String], revision: String?, error: String?) {
        book.withLock { book in
            book.sites = sites.sorted { $0.name < $1.name }
            book.problems = problems
            if let revision { book.revision = revision }
            book.lastError = error
        }
        balancer?.serve(sites.map(\.name))
    }

    /// Records how many controllers are alive.
    func record(controllers: Int?) { book.withLock { $0.controllers = controllers } }

    /// A webhook: the fleet matches the folders again and every site fetches.
    public func trigger(_ trigger: PassTrigger) {
        control.trigger(trigger)
        for site in sites { site.state.trigger(trigger) }
    }

    /// Stops the fleet and every site (each after its pass under way).
    public func stop() {
        control.stop()
        for site in sites { site.state.stop() }
    }

    /// Whether ``stop()`` was called.
    public var isStopping: Bool { control.isStopping }

    /// What `/status` shows.
    public var status: FleetStatus {
        let book = book.withLock { $0 }
        return FleetStatus(repository: repository, branch: branch, paths: paths, selfHeal: selfHeal, revision: book.revision,
                           controllers: book.controllers, leading: balancer?.leading, sites: book.sites.map { $0.state.status.withLock { $0 } },
                           problems: book.problems, lastError: book.lastError)
    }

    /// Every site's metrics in Prometheus' text format.
    public var metricsText: String { registry.emitToString() }
}
