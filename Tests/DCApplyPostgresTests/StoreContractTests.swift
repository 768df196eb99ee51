import DCApplyCore
@testable import DCApplyPostgres
import Foundation
import Testing

/// The StateStore contract, run against memory, SQLite and a real PostgreSQL 15 alike: what the
/// layers above rely on, whichever store holds the state.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct StoreContractTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case memory, sqlite, postgres
        var testDescription: String { rawValue }
    }

    /// A new, empty store, and a function that opens another handle on the same store (the
    /// same object for memory, which has no second handle).
    static func makeStore(_ kind: Kind) throws -> (store: any StateStore, reopen: () throws -> any StateStore) {
        switch kind {
        case .memory:
            let store = InMemoryStateStore()
            return (store, { store })
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-contract-\(UUID().uuidString)/state.db").path
            return (try SQLiteStateStore(path: path), { try SQLiteStateStore(path: path) })
        case .postgres:
            let url = try PostgresServer.running().createDatabase(site: "site-\(UUID().uuidString.prefix(8))")
            return (try PostgresStateStore.open(url, passwordFile: nil, environment: [:]),
                    { try PostgresStateStore.open(url, passwordFile: nil, environment: [:]) })
        }
    }

    static let target = TargetState(
        nodes: ["a": .init(pool: "p", powerState: .on), "b": .init(pool: nil, powerState: .off)],
        workloads: ["w": .init(replicas: [ReplicaPlacement(index: 1, nodes: ["a", "b"]), ReplicaPlacement(index: 0, nodes: ["a"])], unplaced: 2)],
        storageTiers: ["hot": .init(drives: [DriveAddress(node: "a", drive: "nvme0")], rawTiB: 7.68, satisfied: true)],
        grants: ["team": ["p", "q"]])

    static func record(_ summary: String = "Plan: 1 to assign.") -> ApplyRecord {
        ApplyRecord(startedAt: Date(timeIntervalSince1970: 1_800_000_000), finishedAt: Date(timeIntervalSince1970: 1_800_000_001),
                    user: "alice", host: "laptop", revision: "abc123", manifestDigest: "abc", planDigest: "def", summary: summary, changeCount: 1)
    }

    @Test(arguments: Kind.allCases)
    func aNewStoreIsEmptyAtSerialZero(kind: Kind) throws {
        let store = try Self.makeStore(kind).store
        let stored = try store.load()
        #expect(stored.serial == 0)
        #expect(stored.target == .empty)
        #expect(try store.history().isEmpty)
        #expect(try store.auditLog().isEmpty)
        #expect(try store.lockHolder() == nil)
        #expect(try store.unfinishedApply() == nil)
    }

    @Test(arguments: Kind.allCases)
    func theAppliedTargetHistoryAndAuditRoundTripThroughAReopen(kind: Kind) throws {
        let (store, reopen) = try Self.makeStore(kind)
        var target = Self.target
        target.drained["b"] = .degraded
        let stored = try store.commitApply(target: target, estimatedW: ["a": 9100], powerStates: ["b": .off], record: Self.record(), expectedSerial: 0)
        #expect(stored.serial == 1)
        let again = try reopen()
        let loaded = try again.load()
        #expect(loaded.target == target)
        #expect(loaded.serial == 1)
        #expect(loaded.manifestDigest == "abc")
        #expect(loaded.revision == "abc123")
        #expect(loaded.estimatedW["a"] == 9100)
        #expect(try again.overrides()["b"]?.powerState == .off)
        let history = try again.history()
        #expect(history.map(\.serial) == [1])
        #expect(history.map(\.id) == [1])
        #expect(history.first?.user == "alice")
        #expect(history.first?.summary == "Plan: 1 to assign.")
        _ = try again.commitApply(target: .empty, estimatedW: [:], powerStates: [:], record: Self.record("second"), expectedSerial: 1)
        let audit = try store.auditLog()
        #expect(audit.map(\.id) == [1, 2])
        #expect(audit.first?.actor == "alice@laptop")
        guard case .intact(entries: 2, _) = AuditChain.verify(audit) else {
            Issue.record("the audit chain does not verify: \(AuditChain.verify(audit))")
            return
        }
    }

    @Test(arguments: Kind.allCases)
    func anApplyFromAStalePlanIsRefusedAndChangesNothing(kind: Kind) throws {
        let store = try Self.makeStore(kind).store
        _ = try store.commitApply(target: Self.target, estimatedW: ["a": 9100], powerStates: [:], record: Self.record(), expectedSerial: 0)
        let error = #expect(throws: DCApplyError.self) {
            _ = try store.commitApply(target: .empty, estimatedW: [:], powerStates: [:], record: Self.record(), expectedSerial: 0)
        }
        #expect(error?.message.contains("serial 1, plan made at 0") == true, "\(String(describing: error))")
        #expect(try store.load().target == Self.target)
        #expect(try store.history().count == 1)
        #expect(try store.auditLog().count == 1)
    }

    @Test(arguments: Kind.allCases)
    func overridesPersistUntilCleared(kind: Kind) throws {
        let (store, reopen) = try Self.makeStore(kind)
        try store.setOverride(node: "a", health: .some(.degraded), powerState: nil)
        try store.setOverride(node: "a", health: nil, powerState: .some(.off))
        #expect(try reopen().overrides()["a"] == NodeOverride(health: .degraded, powerState: .off))
        try store.setOverride(node: "a", health: .some(nil), powerState: nil)
        #expect(try reopen().overrides()["a"] == NodeOverride(health: nil, powerState: .off))
    }

    @Test(arguments: Kind.allCases)
    func theJournalRecordsStepsAndFinishesIntoHistoryAndAudit(kind: Kind) throws {
        let (store, reopen) = try Self.makeStore(kind)
        let change = Change(.assign, .node("a"), to: "HardwarePool/p", reason: "test")
        let id = try store.beginApply(planJSON: "{}", baseSerial: 0, user: "bob", host: "ci", startedAt: Date(timeIntervalSince1970: 1_800_000_000))
        try store.recordStep(apply: id, JournalStep(index: 0, state: .started, attempts: 1), change: change)
        try store.recordStep(apply: id, JournalStep(index: 0, state: .done, attempts: 1), change: change)
        try store.recordStep(apply: id, JournalStep(index: 1, state: .failed, attempts: 3, error: "timeout"), change: change)
        let open = try #require(try reopen().unfinishedApply())
        #expect(open.id == id)
        #expect(open.user == "bob" && open.baseSerial == 0)
        #expect(open.steps[0]?.state == .done)
        #expect(open.steps[1] == JournalStep(index: 1, state: .failed, attempts: 3, error: "timeout"))
        #expect(throws: DCApplyError.self) {
            _ = try store.beginApply(planJSON: "{}", baseSerial: 5, user: "bob", host: "ci", startedAt: Date())
        }
        var record = Self.record()
        record.status = .partial
        let state = try store.finishApply(id, target: Self.target, estimatedW: [:], powerStates: [:], record: record)
        #expect(state.serial == 1)
        #expect(try reopen().unfinishedApply() == nil)
        #expect(try store.history().map(\.status) == [.partial])
        let lines = try store.auditLog().first?.actions ?? []
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("0\tassign\t") == true, "\(lines)")
        #expect(throws: DCApplyError.self) {
            _ = try store.finishApply(id, target: Self.target, estimatedW: [:], powerStates: [:], record: record)
        }
    }

    /// A batch lands as its steps would one by one: the last step of an action wins, errors are
    /// redacted, and a batch larger than one statement's rows (PostgreSQL: 1,000) is whole.
    @Test(arguments: Kind.allCases)
    func aJournalBatchRecordsEveryStepLastOneWinning(kind: Kind) throws {
        let (store, reopen) = try Self.makeStore(kind)
        Secrets.register("hunter2-batch")
        let change = Change(.powerOff, .node("a"), reason: "test")
        let id = try store.beginApply(planJSON: "{}", baseSerial: 0, user: "bob", host: "ci", startedAt: Date(timeIntervalSince1970: 1_800_000_000))
        try store.recordSteps(apply: id, [])
        var batch = (0..<2500).map { JournalEntry(JournalStep(index: $0, state: .done, attempts: 1), change: change) }
        batch.insert(JournalEntry(JournalStep(index: 7, state: .started, attempts: 2), change: change), at: 3)
        batch.append(JournalEntry(JournalStep(index: 2, state: .failed, attempts: 4, error: "BMC said password=hunter2-batch"), change: change))
        try store.recordSteps(apply: id, batch)
        let steps = try #require(try reopen().unfinishedApply()).steps
        #expect(steps.count == 2500)
        #expect(steps[7] == JournalStep(index: 7, state: .done, attempts: 1), "the later step of an action wins")
        #expect(steps[2]?.state == .failed && steps[2]?.attempts == 4)
        #expect(steps[2]?.error == "BMC said password=[redacted]", "errors are redacted: \(steps[2]?.error ?? "")")
        #expect(steps[2499]?.state == .done)
    }

    @Test(arguments: Kind.allCases)
    func actuatorRecordsAreKeptPerSiteAndActuator(kind: Kind) throws {
        let (store, reopen) = try Self.makeStore(kind)
        try store.setActuatorRecord(site: "s1", actuator: "slurm", key: "n1", value: "drained")
        try store.setActuatorRecord(site: "s2", actuator: "slurm", key: "n1", value: "other")
        try store.setActuatorRecord(site: "s1", actuator: "slurm", key: "n1", value: "resumed")
        #expect(try reopen().actuatorRecords(site: "s1", actuator: "slurm") == ["n1": "resumed"])
        try store.setActuatorRecord(site: "s1", actuator: "slurm", key: "n1", value: nil)
        #expect(try reopen().actuatorRecords(site: "s1", actuator: "slurm").isEmpty)
        #expect(try store.actuatorRecords(site: "s2", actuator: "slurm") == ["n1": "other"])
    }

    @Test(arguments: [Kind.sqlite, .postgres])
    func aSecondHolderIsRefusedNamingTheFirstUntilItReleases(kind: Kind) throws {
        let (store, reopen) = try Self.makeStore(kind)
        let other = try reopen()
        let first = LockHolder(host: ProcessInfo.processInfo.hostName, pid: getpid(), processStart: nil, since: Date(timeIntervalSince1970: 1_800_000_000),
                               command: "apply")
        #expect(try store.acquireLock(first, isStale: { _ in false }) == nil)
        #expect(try other.lockHolder()?.command == "apply")
        let second = LockHolder(host: "elsewhere", pid: 7, processStart: nil, since: Date(), command: "apply")
        let error = #expect(throws: DCApplyError.self) { _ = try other.acquireLock(second, isStale: { _ in false }) }
        #expect(error?.code == .locked)
        #expect(error?.message.contains("locked by pid \(getpid()) on \(first.host) (apply), since 2027-01-15T08:00:00Z") == true,
                "\(String(describing: error))")
        try store.releaseLock(first)
        #expect(try other.lockHolder() == nil)
        #expect(try other.acquireLock(second, isStale: { _ in false }) == nil)
        try other.releaseLock(second)
    }
}
