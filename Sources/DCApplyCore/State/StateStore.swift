import Foundation

/// What the state store holds at one point: the applied target and its serial.
public struct StoredState: Hashable, Sendable {
    public var target: TargetState
    /// Increases by one with every apply; a plan records the serial it was made against.
    public var serial: Int
    public var manifestDigest: String?
    public var revision: String?
    /// Estimated draw per node when the target was applied.
    public var estimatedW: [String: Double]

    public init(target: TargetState = .empty, serial: Int = 0, manifestDigest: String? = nil, revision: String? = nil, estimatedW: [String: Double] = [:]) {
        self.target = target
        self.estimatedW = estimatedW
        self.serial = serial
        self.manifestDigest = manifestDigest
        self.revision = revision
    }
}

/// One apply, as `state history` lists it.
public struct ApplyRecord: Hashable, Sendable {
    public var id: Int
    public var startedAt: Date
    public var finishedAt: Date
    public var user: String
    public var host: String
    public var revision: String?
    public var manifestDigest: String
    public var planDigest: String
    public var summary: String
    public var changeCount: Int
    public var serial: Int
    public var status: ApplyStatus
    /// Actions done, failed and skipped (all done for applies recorded before the journal).
    public var done: Int
    public var failed: Int
    public var skipped: Int
    /// The history id of the interrupted apply this one finished.
    public var resumes: Int?
    /// Who the audit log names: the commit's signer in GitOps mode; nil means `user@host`.
    public var actor: String?

    public init(id: Int = 0, startedAt: Date, finishedAt: Date, user: String, host: String, revision: String?,
                manifestDigest: String, planDigest: String, summary: String, changeCount: Int, serial: Int = 0,
                status: ApplyStatus = .completed, done: Int? = nil, failed: Int = 0, skipped: Int = 0, resumes: Int? = nil, actor: String? = nil) {
        self.actor = actor
        self.status = status
        self.done = done ?? changeCount
        self.failed = failed
        self.skipped = skipped
        self.resumes = resumes
        self.id = id
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.user = user
        self.host = host
        self.revision = revision
        self.manifestDigest = manifestDigest
        self.planDigest = planDigest
        self.summary = summary
        self.changeCount = changeCount
        self.serial = serial
    }
}

/// Where dcapply keeps what it applied and the history of applies.
///
/// Contract: `commitApply` writes the whole target, the power states reached and the history
/// record in one transaction, or nothing; it refuses (throws) when the stored serial is not
/// `expectedSerial`, so two applies from the same plan cannot both land. `load` of a new store
/// returns an empty target at serial 0.
public protocol StateStore: LocalHardwareStore, ApplyJournal, ActuatorRecordStore {
    func load() throws -> StoredState
    func commitApply(target: TargetState, estimatedW: [String: Double], powerStates: [String: PowerState], record: ApplyRecord, expectedSerial: Int) throws -> StoredState
    func history() throws -> [ApplyRecord]
    /// The audit log, oldest first: one entry per apply, appended in the apply's transaction.
    func auditLog() throws -> [AuditEntry]
}

/// Opens the store a state URL names (the CLI's `--state`).
public enum StateStores {
    public static let defaultURL = "sqlite:.dcapply/state.db"

    public static func open(_ url: String) throws -> any StateStore {
        if url.hasPrefix("sqlite:") {
            let path = String(url.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw DCApplyError(.usage, "the state URL sqlite: needs a path, such as sqlite:.dcapply/state.db", hint: .stateURLWithoutPath) }
            return try SQLiteStateStore(path: path)
        }
        if url == "memory:" { return InMemoryStateStore() }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            throw DCApplyError(.stateStore, "PostgreSQL state stores are not available in this build yet; use sqlite:PATH")
        }
        throw DCApplyError(.usage, "unknown state URL \(quoted(url)): expected sqlite:PATH or postgres://...", hint: .unknownStateURL(url))
    }
}
