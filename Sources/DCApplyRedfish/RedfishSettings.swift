/// Timeouts, retries and polling of the Redfish provider. The defaults suit real BMCs; tests
/// shorten the polls.
public struct RedfishSettings: Sendable {
    /// Seconds to open a TCP (and TLS) connection.
    public var connectTimeout: Double = 5
    /// Seconds for one whole request, answer included.
    public var requestTimeout: Double = 20
    /// Extra attempts after a transient failure (refused, timeout, 5xx, 429).
    public var retries: Int = 2
    /// Seconds before the first retry; doubled each time.
    public var retryDelay: Double = 0.25
    /// Requests in flight to one BMC at once (BMCs are small computers).
    public var requestsPerEndpoint: Int = 4
    /// Seconds between power-state polls after a reset.
    public var pollInterval: Double = 1
    /// Seconds a GracefulShutdown may take before ForceOff.
    public var gracefulShutdownTimeout: Double = 60
    /// Seconds On or ForceOff may take to be reflected in PowerState.
    public var powerTimeout: Double = 60

    public init() {}
}
