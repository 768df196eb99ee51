import DCApplyCore
@testable import DCApplyPostgres
import Foundation
import Synchronization
import Testing

/// What happens to the store and the leadership when PostgreSQL goes away and comes back, and
/// the fencing token: a write is checked against the leadership epoch in its own transaction.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct PostgresRecoveryTests {
    static let change = Change(.assign, .node("a"), to: "HardwarePool/p", reason: "test")
    static let holder = LockHolder(host: "h", pid: 1, processStart: nil, since: Date(timeIntervalSince1970: 1_800_000_000), command: "apply")

    static func database(of url: String) -> String { String(url.split(separator: "/").last?.split(separator: "?").first ?? "") }

    /// A controller whose machine vanishes never closes its connections; the server ends them
    /// (and so releases their locks) only as fast as its side of the socket notices. Every
    /// session the store and the leadership open sets the keepalives, after a reconnect too.
    /// A dedicated server (restartable), a store on it and a leadership sharing its URL, all
    /// stopped when `body` returns or throws.
    static func withStoreAndLeadership(_ body: (PostgresServer, PostgresStateStore, PostgresSiteLeadership) throws -> Void) throws {
        let server = try PostgresServer.dedicated()
        defer { server.stop() }
        let store = try PostgresStateStore.open(try server.createDatabase(), passwordFile: nil, environment: [:])
        let leadership = PostgresSiteLeadership(sharing: store)
        defer {
            leadership.shutdown()
            store.shutdown()
        }
        try body(server, store, leadership)
    }

    @Test func everySessionAsksTheServerToNoticeADeadPeerWithinSeconds() throws {
        try Self.withStoreAndLeadership { server, store, leadership in
            #expect(try leadership.tryLead())
            let query = "SELECT string_agg(name || '=' || setting, ',' ORDER BY name) FROM pg_settings WHERE name LIKE 'tcp_%'"
            let expected = "tcp_keepalives_count=3,tcp_keepalives_idle=2,tcp_keepalives_interval=1,tcp_user_timeout=5000"
            #expect(try store.single("read the TCP settings", query).first?.decode(String.self) == expected)
            // The leadership's own session (the one holding the leader lock), seen from the store's.
            let leader = try #require(leadership.leadingSession)
            #expect(try store.run("SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND client_port IS NOT NULL", [.int(Int(leader))]).first?.decode(Int.self) == 1,
                    "the leader's session is a TCP one, where the settings apply")
            try server.restart()
            // The first calls after the restart find the session gone, then wait out the backoff.
            var again: String?
            let deadline = Date().addingTimeInterval(30)
            while again == nil && Date() < deadline {
                again = try? store.single("read the TCP settings", query).first?.decode(String.self)
                if again == nil { Thread.sleep(forTimeInterval: 0.1) }
            }
            #expect(again == expected, "a reconnected session sets them again")
        }
    }

    @Test func theStoreAndTheLeadershipReconnectAfterARestartAndALostLockStopsTheApply() throws {
        try Self.withStoreAndLeadership { server, store, leadership in
            store.fence { leadership.fencingToken }
            #expect(try leadership.tryLead())
            #expect(leadership.fencingToken?.epoch == 1)
            #expect(try store.acquireLock(Self.holder, isStale: { _ in false }) == nil)
            let id = try store.beginApply(planJSON: "{}", baseSerial: 0, user: "u", host: "h", startedAt: Date())
            try store.recordStep(apply: id, JournalStep(index: 0, state: .done, attempts: 1), change: Self.change)

            try server.restart()
            #expect(leadership.stillLeading() == false, "the leadership went with its session")
            // The store opens a new session by itself, but the apply lock went with the old one:
            // the apply that held it may write nothing more.
            let refused = #expect(throws: DCApplyError.self) {
                try store.recordStep(apply: id, JournalStep(index: 1, state: .done, attempts: 1), change: Self.change)
            }
            #expect(refused?.message.contains("refused to journal an action: the apply lock of site default went with its database session") == true,
                    "\(String(describing: refused))")
            #expect(try store.unfinishedApply()?.steps.keys.sorted() == [0], "reads work on the new session; nothing was written after the loss")
            try store.releaseLock(Self.holder)

            // A new leadership term: a new epoch, and the apply is finished under it.
            #expect(try leadership.tryLead())
            #expect(leadership.fencingToken?.epoch == 2)
            #expect(try store.acquireLock(Self.holder, isStale: { _ in false }) == Self.holder, "the lost session's row is taken over")
            try store.recordStep(apply: id, JournalStep(index: 1, state: .done, attempts: 1), change: Self.change)
            _ = try store.finishApply(id, target: StoreContractTests.target, estimatedW: [:], powerStates: [:], record: StoreContractTests.record())
            try store.releaseLock(Self.holder)
            #expect(try store.history().count == 1)

            // While the server is down every call fails at once, and the store does not try again
            // before its backoff; once it is back, the next call after the backoff goes through.
            server.stopServer()
            var messages: [String] = []
            for _ in 0..<5 {
                let failed = #expect(throws: DCApplyError.self) { _ = try store.load() }
                messages.append(failed.map { "\($0)" } ?? "")
            }
            #expect(messages[0].contains("cannot connect to PostgreSQL at"), "\(messages)")
            // Five calls in a row cannot all be attempts: the backoff (0.25 s, 0.5 s, 1 s...) answers some at once.
            #expect(messages.contains { $0.contains("no connection to PostgreSQL at") && $0.contains("next attempt in") }, "\(messages)")
            #expect(leadership.stillLeading() == false)
            #expect(throws: DCApplyError.self) { _ = try leadership.tryLead() }
            try server.startAgain()
            var loaded: StoredState?
            let deadline = Date().addingTimeInterval(20)
            while loaded == nil && Date() < deadline {
                loaded = try? store.load()
                if loaded == nil { Thread.sleep(forTimeInterval: 0.1) }
            }
            #expect(loaded?.serial == 1, "the store came back without being reopened")
            #expect(try leadership.tryLead())
            #expect(leadership.fencingToken?.epoch == 3)
        }
    }

    @Test func anOldLeadersWriteIsOrderedBeforeTheNewLeaderOrRefused() throws {
        let server = try PostgresServer.running()
        let url = try server.createDatabase()
        let database = Self.database(of: url)
        let old = try PostgresStateStore.open(url, passwordFile: nil, environment: [:])
        let new = try PostgresStateStore.open(url, passwordFile: nil, environment: [:])
        let oldLeadership = PostgresSiteLeadership(sharing: old)
        let newLeadership = PostgresSiteLeadership(sharing: new)
        defer {
            oldLeadership.shutdown()
            newLeadership.shutdown()
        }
        old.fence { oldLeadership.fencingToken }
        new.fence { newLeadership.fencingToken }
        #expect(try oldLeadership.tryLead())
        #expect(try newLeadership.tryLead() == false)
        let id = try old.beginApply(planJSON: "{}", baseSerial: 0, user: "u", host: "h", startedAt: Date())

        // The old leader is inside a write transaction, its fence passed, when it loses its
        // session and the other takes the lead: taking it (bumping the epoch) waits for that
        // transaction, so the write lands before the new term starts, never inside it.
        let tookOver = Mutex<Result<Bool, any Error>?>(nil)
        try old.transaction("write inside the old term") {
            try old.checkFence("write inside the old term")
            // With a timeout it returns once the backend is gone, so its locks are free (under load
            // a bare call returned before, and the new leader found the lock still held).
            let session = try #require(oldLeadership.leadingSession)
            #expect(try server.psql(database, "SELECT pg_terminate_backend(\(session), 10000)") == "t\n")
            let thread = Thread {
                let result = Result { try newLeadership.tryLead() }  // not under the mutex: the test polls it meanwhile
                tookOver.withLock { $0 = result }
            }
            thread.start()
            // The new leader holds the lock and waits on the leader row (a Lock wait in pg_stat_activity).
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                let waiting = try server.psql(database, """
                    SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO serve_leader%'
                    """)
                if waiting == "1\n" { break }
                Thread.sleep(forTimeInterval: 0.05)
            }
            #expect(tookOver.withLock { $0 == nil }, "taking the lead waits for the old term's write")
            try old.run("INSERT INTO actuator_record (site, resource_site, actuator, key, value) VALUES ($1, 's', 'a', 'old-term', 'v')", [old.site])
        }
        let deadline = Date().addingTimeInterval(30)
        while tookOver.withLock({ $0 == nil }) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(try tookOver.withLock { $0 }?.get() == true, "the new leader took over once the write committed")
        #expect(newLeadership.fencingToken?.epoch == 2)

        // Every later write of the old leader is refused, whatever it believes: even with a
        // token naming a session that does hold the lock, the epoch is stale.
        let staleButLive = try #require(newLeadership.leadingSession)
        old.fence { PostgresSiteLeadership.FencingToken(backendPID: staleButLive, epoch: 1) }
        let refused = #expect(throws: DCApplyError.self) {
            try old.recordStep(apply: id, JournalStep(index: 0, state: .done, attempts: 1), change: Self.change)
        }
        #expect(refused?.message.contains("refused to journal an action: this controller does not lead site default") == true)
        #expect(throws: DCApplyError.self) { try old.setActuatorRecord(site: "s", actuator: "a", key: "after", value: "v") }
        #expect(throws: DCApplyError.self) { try old.setOverride(node: "n1", health: .some(.failed), powerState: nil) }
        #expect(throws: DCApplyError.self) {
            _ = try old.finishApply(id, target: .empty, estimatedW: [:], powerStates: [:], record: StoreContractTests.record())
        }
        // The new leader writes, and finishes the apply from the journal as it stands.
        try new.recordStep(apply: id, JournalStep(index: 0, state: .done, attempts: 1), change: Self.change)
        _ = try new.finishApply(id, target: StoreContractTests.target, estimatedW: [:], powerStates: [:], record: StoreContractTests.record())
        #expect(try server.psql(database, "SELECT key FROM actuator_record ORDER BY key") == "old-term\n", "the old term's write, nothing after")
        #expect(try server.psql(database, "SELECT count(*) FROM node_observed") == "0\n")
        #expect(try server.psql(database, "SELECT step, attempts FROM journal_step") == "0|1\n", "one step, journalled once, by the new leader")
        #expect(try server.psql(database, "SELECT count(*) FROM apply_history") == "1\n")
    }
}
