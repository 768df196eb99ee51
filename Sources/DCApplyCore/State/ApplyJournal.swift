import Foundation

/// Where one action of an apply got to, as the journal records it.
public enum StepState: String, Sendable, Hashable {
    /// Recorded before the provider is called.
    case started
    case done
    case failed
    /// Not attempted: something it depends on failed.
    case skipped
}

public struct JournalStep: Hashable, Sendable {
    public var index: Int
    public var state: StepState
    public var attempts: Int
    public var error: String?

    public init(index: Int, state: StepState, attempts: Int, error: String? = nil) {
        self.index = index
        self.state = state
        self.attempts = attempts
        self.error = error
    }
}

/// One step to journal and the change it is a step of: an element of a journal batch.
public struct JournalEntry: Sendable {
    public var step: JournalStep
    public var change: Change

    public init(_ step: JournalStep, change: Change) {
        self.step = step
        self.change = change
    }
}

/// How an apply ended, as `state history` shows it.
public enum ApplyStatus: String, Sendable, Hashable {
    /// Every action done.
    case completed
    /// Some actions failed or were skipped; what was done is recorded.
    case partial
    /// The process stopped mid-apply (crash, kill, power loss); a later run recorded what was
    /// done and closed it without finishing (the manifests had changed).
    case interrupted
    /// The process stopped mid-apply and a later run finished it.
    case resumed
}

/// An apply whose journal has a beginning and no end: the process running it died.
public struct UnfinishedApply: Sendable {
    public var id: Int
    /// The plan being applied, in the saved-plan JSON.
    public var planJSON: String
    public var baseSerial: Int
    public var startedAt: Date
    public var user: String
    public var host: String
    public var steps: [Int: JournalStep]

    public init(id: Int, planJSON: String, baseSerial: Int, startedAt: Date, user: String, host: String, steps: [Int: JournalStep]) {
        self.id = id
        self.planJSON = planJSON
        self.baseSerial = baseSerial
        self.startedAt = startedAt
        self.user = user
        self.host = host
        self.steps = steps
    }
}

/// The journal and lock half of a state store.
///
/// Contract: `acquireLock` takes the lock, or takes it over from a holder `isStale` says is
/// gone (returning that holder), or throws `DCApplyError(.locked)` naming the holder.
/// `beginApply` refuses (throws) when the stored serial is not `baseSerial`. `recordStep` is
/// durable when it returns; so is every step of `recordSteps` (a batch: one transaction in the
/// stores that can, one `recordStep` each by default — see docs/apply.md, "Journal batches",
/// for why a batch need not land atomically). `finishApply` writes the target, the power states, the history
/// record and the end of the journal in one transaction, and increases the serial by one.
public protocol ApplyJournal: Sendable {
    func acquireLock(_ holder: LockHolder, isStale: (LockHolder) -> Bool) throws -> LockHolder?
    func releaseLock(_ holder: LockHolder) throws
    func lockHolder() throws -> LockHolder?
    func breakLock() throws
    func beginApply(planJSON: String, baseSerial: Int, user: String, host: String, startedAt: Date) throws -> Int
    func recordStep(apply: Int, _ step: JournalStep, change: Change) throws
    /// Records several steps of one apply, in order (a later step of the same action wins).
    func recordSteps(apply: Int, _ steps: [JournalEntry]) throws
    func unfinishedApply() throws -> UnfinishedApply?
    func finishApply(_ id: Int, target: TargetState, estimatedW: [String: Double], powerStates: [String: PowerState], record: ApplyRecord) throws -> StoredState
}

extension ApplyJournal {
    /// One `recordStep` each, in order: correct for any store (a batch need not land
    /// atomically), just not faster.
    public func recordSteps(apply: Int, _ steps: [JournalEntry]) throws {
        for entry in steps { try recordStep(apply: apply, entry.step, change: entry.change) }
    }
}

extension DCApplyError {
    /// A plan (or an apply's journal) made against another state serial than the stored one.
    static func staleState(stored: Int, planned: Int) -> DCApplyError {
        DCApplyError(.stateStore, "the state changed since the plan was made (serial \(stored), plan made at \(planned)); plan again")
    }

    /// The lock is taken: the message says by whom and whether it still runs; breaking a lock
    /// that is safe to break is a hint for the shell to word.
    static func locked(by holder: LockHolder, path: String) -> DCApplyError {
        let message = "the state store \(path) is locked by \(holder.description); "
        switch holder.isAlive {
        case false?: return DCApplyError(.locked, message + "that process is no longer running", hint: .breakLockOfDeadHolder)
        case nil: return DCApplyError(.locked, message + "it runs on another host", hint: .breakLockOfRemoteHolder)
        case true?: return DCApplyError(.locked, message + "wait for it to finish")
        }
    }
}
