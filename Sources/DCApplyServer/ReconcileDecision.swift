/// What one reconcile pass does, decided by ``ReconcilePolicy/decide(_:)`` from what the pass
/// observed. The loop carries it out; the status and the metrics read it.
public enum ReconcileDecision: Sendable, Equatable {
    /// Apply the plan of `revision`: a new revision (`isNew`), or the applied one again to
    /// correct drift (self-heal).
    case apply(revision: String, isNew: Bool)
    /// Refuse `revision` whole: the site stays on the last good revision and the revision is
    /// not retried until the branch moves. `reason` is the Ready condition's reason.
    case refuse(revision: String, reason: String, message: String)
    /// The pass failed (fetch, git, a locked store, an apply error): nothing changes and the
    /// next pass comes after `backoff` (doubling per failure in a row, capped at the interval).
    case stall(backoff: Duration, reason: String, message: String)
    /// The site drifted from `revision` and self-heal is off: report, do not correct.
    case reportDrift(revision: String)
    /// Nothing to do: the site is converged to `revision`, or (nil) the branch head was refused
    /// and no revision was ever applied, so there is nothing to re-check until the branch moves.
    case nothing(revision: String?)
    /// The daemon is shutting down: no pass starts, an apply under way stopped at an action
    /// boundary with its journal open for the next start.
    case stop
    /// Another controller leads the site (named when known): this one does no provider or
    /// actuator call and no state write, and asks again on the next pass.
    case standby(leader: SiteLeader?)

    /// The `result` label of `dcapply_reconcile_total`: success, failure, refused, stopped or standby.
    public var result: String {
        switch self {
        case .apply, .reportDrift, .nothing(revision: .some): return "success"
        case .refuse, .nothing(revision: nil): return "refused"
        case .stall: return "failure"
        case .stop: return "stopped"
        case .standby: return "standby"
        }
    }

    /// The Reconciling condition's reason once the pass is over.
    public var conditionReason: String {
        switch self {
        case .apply, .reportDrift, .nothing(revision: .some): return "Succeeded"
        case .refuse, .nothing(revision: nil): return "Refused"
        case .stall: return "Failed"
        case .stop: return "Stopped"
        case .standby: return "Standby"
        }
    }
}
