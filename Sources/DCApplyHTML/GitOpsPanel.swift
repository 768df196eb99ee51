/// The GitOps state as serve's page shows it: plain text, filled by the daemon from its
/// status, history and audit log.
public struct GitOpsPanel: Sendable, Hashable {
    /// One of serve's conditions (`Ready`, `Stalled`, `Reconciling`).
    public struct Condition: Sendable, Hashable {
        public var type: String
        /// `True` or `False`.
        public var status: String
        public var reason: String
        public var message: String
        public var since: String
        /// `ok` (Ready True, Stalled False), `bad` (Ready False, Stalled True) or `neutral`
        /// (Reconciling, others): the symbol says good or bad, not the word True.
        public var mood: String

        /// `status` is `True` or `False`; `since` the transition time as text.
        public init(type: String, status: String, reason: String, message: String, since: String) {
            self.type = type
            self.status = status
            mood = switch (type, status) {
            case ("Ready", "True"), ("Stalled", "False"): "ok"
            case ("Ready", "False"), ("Stalled", "True"): "bad"
            default: "neutral"
            }
            self.reason = reason
            self.message = message
            self.since = since
        }
    }

    /// One apply from the history.
    public struct HistoryRow: Sendable, Hashable {
        public var id: Int
        public var finished: String
        public var revision: String
        public var actor: String
        public var status: String
        public var summary: String

        /// One history record, as text.
        public init(id: Int, finished: String, revision: String, actor: String, status: String, summary: String) {
            self.id = id
            self.finished = finished
            self.revision = revision
            self.actor = actor
            self.status = status
            self.summary = summary
        }
    }

    public var repository: String
    public var branch: String
    public var path: String
    public var hasPath: Bool
    public var lastApplied: String
    /// The first 12 characters, for the page's header.
    public var lastAppliedShort: String
    public var refusedShort: String
    public var lastAttempted: String
    public var reconcileCount: Int
    public var lastReconcile: String
    public var hasReconciled: Bool
    public var drift: String
    public var refusedRevision: String
    public var refusedReason: String
    public var hasRefused: Bool
    public var lastError: String
    public var hasError: Bool
    public var conditions: [Condition]
    public var history: [HistoryRow]
    public var hasHistory: Bool
    /// `✓ holds: 12 entries` or `✕ broken at entry 7: …`.
    public var audit: String
    /// `ok` or `bad`.
    public var auditClass: String

    /// The panel from serve's status fields; nil means "none yet" (revisions), "none" (drift),
    /// or no refusal and no error.
    public init(repository: String, branch: String, path: String, lastApplied: String?, lastAttempted: String?, reconcileCount: Int,
                lastReconcile: String?, drift: String?, refusedRevision: String?, lastError: String?, conditions: [Condition],
                history: [HistoryRow], audit: String, auditHolds: Bool) {
        self.repository = repository
        self.branch = branch
        self.path = path
        hasPath = !path.isEmpty
        self.lastApplied = lastApplied ?? "none yet"
        lastAppliedShort = lastApplied.map { String($0.prefix(12)) } ?? "none yet"
        refusedShort = refusedRevision.map { String($0.prefix(12)) } ?? ""
        self.lastAttempted = lastAttempted ?? "none yet"
        self.reconcileCount = reconcileCount
        self.lastReconcile = lastReconcile ?? ""
        hasReconciled = lastReconcile != nil
        self.drift = drift ?? "none"
        self.refusedRevision = refusedRevision ?? ""
        hasRefused = refusedRevision != nil
        refusedReason = refusedRevision != nil ? lastError ?? "" : ""
        self.lastError = lastError ?? ""
        hasError = lastError != nil && refusedRevision == nil
        self.conditions = conditions
        self.history = history
        hasHistory = !history.isEmpty
        self.audit = audit
        auditClass = auditHolds ? "ok" : "bad"
    }
}
