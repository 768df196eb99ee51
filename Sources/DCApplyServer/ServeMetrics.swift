import Prometheus
import Synchronization

/// The daemon's Prometheus metrics, served as text on `/metrics`.
public final class ServeMetrics: Sendable {
    /// The registry the metrics live in (one registry holds every site's, told apart by labels).
    public let registry: PrometheusCollectorRegistry
    /// Labels on every metric: `site="NAME"` when one serve runs several sites.
    private let labels: [(String, String)]
    private let reconciles: [String: Counter]
    private let duration: DurationHistogram
    private let lastSuccess: Gauge
    private let drift: Counter
    private let changesApplied: Counter
    private let refused: Counter
    private let fetchFailures: Counter
    private let revision = Mutex<(sha: String, gauge: Gauge)?>(nil)

    /// The daemon's metrics, all at zero, in `registry` with `labels` on every metric.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), labels: [(String, String)] = []) {
        self.registry = registry
        self.labels = labels
        reconciles = Dictionary(uniqueKeysWithValues: ["success", "failure", "refused", "standby"].map { result in
            (result, registry.makeCounter(descriptor: Self.name("reconcile", "total", "Reconcile passes by result: success, failure (retried), refused (invalid or unsatisfiable revision), standby (another controller leads)"),
                                          labels: labels + [("result", result)]))
        })
        duration = registry.makeDurationHistogram(
            descriptor: Self.name("reconcile_duration", "seconds", "Time one reconcile pass takes: fetch, read, observe, plan and apply"), labels: labels,
            buckets: [.milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                      .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60)])
        lastSuccess = registry.makeGauge(descriptor: Self.name("last_success_timestamp", "seconds", "Unix time of the last successful reconcile pass"), labels: labels)
        drift = registry.makeCounter(descriptor: Self.name("drift_detected", "total", "Passes that found the site drifted from the applied revision"), labels: labels)
        changesApplied = registry.makeCounter(descriptor: Self.name("changes_applied", "total", "Plan changes applied"), labels: labels)
        refused = registry.makeCounter(descriptor: Self.name("revisions_refused", "total", "Revisions refused whole as invalid or unsatisfiable"), labels: labels)
        fetchFailures = registry.makeCounter(descriptor: Self.name("fetch_failures", "total", "Fetches of the branch that failed"), labels: labels)
    }

    /// Counts a pass by its result (success, failure, refused, standby) and records how long it took.
    public func recordPass(result: String, duration elapsed: Swift.Duration, at unixTime: Double) {
        reconciles[result]?.increment()
        duration.record(elapsed)
        if result == "success" { lastSuccess.set(unixTime) }
    }

    /// Counts a pass that found drift.
    public func recordDrift() { drift.increment() }
    /// Adds the changes an apply carried out.
    public func recordApplied(_ count: Int) { changesApplied.increment(by: Int64(count)) }
    /// Counts a refused revision.
    public func recordRefused() { refused.increment() }
    /// Counts a failed fetch.
    public func recordFetchFailure() { fetchFailures.increment() }

    /// `dcapply_revision_info{revision="…"} 1` for the applied revision.
    public func setRevision(_ sha: String) {
        revision.withLock { current in
            guard current?.sha != sha else { return }
            if let old = current?.gauge { registry.unregisterGauge(old) }
            let gauge = registry.makeGauge(descriptor: Self.name("revision", "info", "The revision applied, as a label"), labels: labels + [("revision", sha)])
            gauge.set(1.0)
            current = (sha, gauge)
        }
    }

    /// The metrics in Prometheus' text format.
    public var text: String { registry.emitToString() }

    /// `dcapply_<metric>_<unit>`.
    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "dcapply", metricName: metric, unitName: unit, helpText: help)
    }
}
