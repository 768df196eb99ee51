/// Why a reconcile pass runs.
public enum PassTrigger: String, Sendable {
    /// The first pass after the daemon starts.
    case start
    /// The interval (or a backoff after a failure) elapsed.
    case interval
    /// A signed webhook asked for a fetch.
    case webhook
}
