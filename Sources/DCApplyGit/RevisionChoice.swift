/// Which revision a GitOps pass reconciles once the branch is fetched.
/// A pure function of what the daemon knows, so it is tested without git or timers: a
/// refused head is not retried (the site stays on the last good revision, which is still
/// re-checked for drift) until the branch moves.
public enum RevisionChoice: Equatable, Sendable {
    /// Read, check, plan and apply this revision (new, or the applied one to correct drift).
    case reconcile(String, isNew: Bool)
    /// The branch head was refused and nothing was applied before: nothing to do until it moves.
    case wait

    public static func choose(head: String, applied: String?, refused: String?) -> RevisionChoice {
        if head == refused {
            guard let applied else { return .wait }
            return .reconcile(applied, isNew: false)
        }
        return .reconcile(head, isNew: head != applied)
    }
}
