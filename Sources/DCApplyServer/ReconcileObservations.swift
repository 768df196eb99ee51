import DCApplyGit

/// What a reconcile pass found, in the order it looks: the stop flag, the failures in a row,
/// the branch head, the trust verdict, the manifests' and the plan's errors, the plan's size and
/// the blast-radius verdict. A field stays nil (or empty) when an earlier finding settled the
/// pass before it was looked at.
public struct ReconcileObservations: Sendable {
    /// Seconds between passes (the cap of the backoff).
    public var interval: Double
    /// Whether drift is corrected or only reported.
    public var selfHeal: Bool
    /// The daemon is shutting down.
    public var stopping = false
    /// Whether this controller leads the site (always, without a ``SiteLeadership``).
    public var isLeader = true
    /// Who leads the site when this controller does not, if known.
    public var leader: SiteLeader?
    /// Failed passes in a row before this one.
    public var failures = 0
    /// A failure met while observing (the Ready condition's reason and a message), if any.
    public var failure: (reason: String, message: String)?
    /// The branch head after the fetch.
    public var head: String?
    /// The revision the site is converged to.
    public var applied: String?
    /// The revision refused last, until the branch moves past it.
    public var refused: String?
    /// Why the commits of a new revision may not be applied (signatures, `manage` rights).
    public var trustRefusal: String?
    /// The manifests' errors, as `file:line:column: message`.
    public var manifestErrors: [String] = []
    /// The plan's errors (unsatisfiable), as `resource: message`.
    public var planErrors: [String] = []
    /// Whether the plan changes nothing; nil when no plan was made.
    public var planIsEmpty: Bool?
    /// The blast-radius guard's refusal, when the plan takes away too much.
    public var destroyRefusal: String?

    /// Observations of a daemon with this interval and self-heal setting, before anything is looked at.
    public init(interval: Double, selfHeal: Bool) {
        self.interval = interval
        self.selfHeal = selfHeal
    }

    /// Which revision the pass reads: RevisionChoice over the head, applied and refused revisions.
    public var choice: RevisionChoice? {
        head.map { RevisionChoice.choose(head: $0, applied: applied, refused: refused) }
    }

    /// The plan of the applied revision is not empty: the site drifted.
    public var isDrift: Bool {
        guard case .reconcile(_, let isNew) = choice, let planIsEmpty else { return false }
        return !isNew && !planIsEmpty
    }
}
