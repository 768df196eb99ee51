/// The reconcile loop's decisions as a pure function: no git, no store, no clock. The loop
/// gathers ``ReconcileObservations`` and carries out what ``decide(_:)`` returns; the table in
/// docs/gitops.md is this function.
public enum ReconcilePolicy {
    /// The first retry's delay after a failed pass, in seconds; it doubles per failure in a row.
    public static let firstBackoff = 1.0

    /// What the pass does, first match wins: stopping → stop; a failure → stall with backoff;
    /// another controller leads → standby;
    /// the head refused with nothing applied → nothing; a new revision whose commits may not
    /// be applied, whose manifests have errors or whose plan is unsatisfiable → refuse it; an
    /// empty plan → nothing; drift without self-heal → report it; a plan that takes away too
    /// much → refuse; otherwise apply.
    public static func decide(_ seen: ReconcileObservations) -> ReconcileDecision {
        if seen.stopping { return .stop }
        if let failure = seen.failure {
            return .stall(backoff: backoff(afterFailures: seen.failures + 1, interval: seen.interval), reason: failure.reason, message: failure.message)
        }
        if !seen.isLeader { return .standby(leader: seen.leader) }
        guard case .reconcile(let revision, let isNew) = seen.choice else { return .nothing(revision: nil) }
        if isNew, let refusal = seen.trustRefusal {
            return .refuse(revision: revision, reason: "Unauthorized", message: refusal)
        }
        if !seen.manifestErrors.isEmpty {
            let count = seen.manifestErrors.count
            let shown = seen.manifestErrors.prefix(3).joined(separator: "; ")
            return .refuse(revision: revision, reason: "ValidationFailed", message: "\(count) error\(count == 1 ? "" : "s") in the manifests: \(shown)")
        }
        if !seen.planErrors.isEmpty {
            return .refuse(revision: revision, reason: "Unsatisfiable", message: "unsatisfiable: \(seen.planErrors.prefix(3).joined(separator: "; "))")
        }
        guard let planIsEmpty = seen.planIsEmpty, !planIsEmpty else { return .nothing(revision: revision) }
        if !isNew && !seen.selfHeal { return .reportDrift(revision: revision) }
        if let refusal = seen.destroyRefusal {
            return .refuse(revision: revision, reason: "DestroyRefused", message: refusal)
        }
        return .apply(revision: revision, isNew: isNew)
    }

    /// The wait after the `failures`-th failed pass in a row: 1 s, 2 s, 4 s… capped at the interval.
    public static func backoff(afterFailures failures: Int, interval: Double) -> Duration {
        let doubled = firstBackoff * Double(1 << min(max(failures - 1, 0), 30))
        return .milliseconds(Int64((min(doubled, interval) * 1000).rounded()))
    }
}
