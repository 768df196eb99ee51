import Foundation

/// Who holds the state store's apply lock.
public struct LockHolder: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var pid: Int32
    /// Identifies the process beyond its pid (its start time in clock ticks on Linux), so a pid
    /// reused by another process is not taken for the holder.
    public var processStart: String?
    public var since: Date
    public var command: String

    public init(host: String, pid: Int32, processStart: String?, since: Date, command: String) {
        self.host = host
        self.pid = pid
        self.processStart = processStart
        self.since = since
        self.command = command
    }

    /// This process.
    public static func current(command: String) -> LockHolder {
        let pid = getpid()
        return LockHolder(host: ProcessInfo.processInfo.hostName, pid: pid, processStart: processStartToken(pid), since: Date(), command: command)
    }

    public var description: String {
        "pid \(pid) on \(host) (\(command)), since \(ISO8601DateFormatter().string(from: since))"
    }

    /// Whether the holder is known to be running: true or false on this host, nil (unknown) for
    /// a holder on another host.
    public var isAlive: Bool? {
        guard host == ProcessInfo.processInfo.hostName else { return nil }
        if kill(pid, 0) != 0 && errno == ESRCH { return false }
        if let token = processStart, let now = Self.processStartToken(pid), now != token { return false }
        return true
    }

    /// Field 22 of /proc/PID/stat (start time since boot); nil where there is no /proc.
    static func processStartToken(_ pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
    }
}

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
/// durable when it returns. `finishApply` writes the target, the power states, the history
/// record and the end of the journal in one transaction, and increases the serial by one.
public protocol ApplyJournal: Sendable {
    func acquireLock(_ holder: LockHolder, isStale: (LockHolder) -> Bool) throws -> LockHolder?
    func releaseLock(_ holder: LockHolder) throws
    func lockHolder() throws -> LockHolder?
    func breakLock() throws
    func beginApply(planJSON: String, baseSerial: Int, user: String, host: String, startedAt: Date) throws -> Int
    func recordStep(apply: Int, _ step: JournalStep, change: Change) throws
    func unfinishedApply() throws -> UnfinishedApply?
    func finishApply(_ id: Int, target: TargetState, estimatedW: [String: Double], powerStates: [String: PowerState], record: ApplyRecord) throws -> StoredState
}

extension DCApplyError {
    /// A plan (or an apply's journal) made against another state serial than the stored one.
    static func staleState(stored: Int, planned: Int) -> DCApplyError {
        DCApplyError(.stateStore, "the state changed since the plan was made (serial \(stored), plan made at \(planned)); plan again")
    }

    static func locked(by holder: LockHolder, path: String) -> DCApplyError {
        let alive = holder.isAlive
        let hint = alive == false
            ? "that process is no longer running; `dcapply state unlock` breaks the lock"
            : alive == nil ? "it runs on another host; if it is gone, `dcapply state unlock --force` breaks the lock"
            : "wait for it to finish"
        return DCApplyError(.locked, "the state store \(path) is locked by \(holder.description); \(hint)")
    }
}
