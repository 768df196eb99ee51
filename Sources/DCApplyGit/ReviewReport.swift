import DCApplyCore

/// Everything a review of two revisions finds (`dcapply diff`): the manifest changes from the
/// base (or the merge base) to the head, the commits between them and their signers' rights,
/// the head's diagnostics, and the plan the head would cause.
public struct ReviewReport: Sendable {
    /// A revision as named and as resolved.
    public struct Revision: Sendable, Hashable {
        public var name: String
        public var commit: String
        /// The commit's first 12 characters.
        public var short: String { String(commit.prefix(12)) }

        public init(name: String, commit: String) {
            self.name = name
            self.commit = commit
        }
    }

    public var base: Revision
    public var head: Revision
    /// The commit the head was compared with: the merge base, else the base itself.
    public var comparedTo: String
    public var commits: [GitCommit]?
    public var historyNote: String?
    public var changes: [ManifestDiff.ResourceChange]
    public var headDiagnostics: [Diagnostic]
    /// Nil when the head's manifests do not validate.
    public var plan: Plan?
    /// Each commit's signer and whether it may change what it changes; nil when the history is missing.
    public var trust: TrustReport?

    public init(base: Revision, head: Revision, comparedTo: String, commits: [GitCommit]?, historyNote: String?,
                changes: [ManifestDiff.ResourceChange], headDiagnostics: [Diagnostic], plan: Plan?, trust: TrustReport?) {
        self.base = base
        self.head = head
        self.comparedTo = comparedTo
        self.commits = commits
        self.historyNote = historyNote
        self.changes = changes
        self.headDiagnostics = headDiagnostics
        self.plan = plan
        self.trust = trust
    }

    /// Whether the manifests or the plan change anything.
    public var hasChanges: Bool { !changes.isEmpty || plan?.isEmpty == false }
}
