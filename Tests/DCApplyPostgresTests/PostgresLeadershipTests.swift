import DCApplyCore
@testable import DCApplyPostgres
import DCApplyServer
import Foundation
import Testing

/// The site leadership on a real PostgreSQL: one leader per site, a leadership that goes with
/// its session, and a store whose writes are fenced by it.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct PostgresLeadershipTests {
    static func database(of url: String) -> String { String(url.split(separator: "/").last?.split(separator: "?").first ?? "") }

    @Test func oneLeadsTheOtherSeesWhoAndTakesOverWhenTheSessionIsKilled() throws {
        let server = try PostgresServer.running()
        let url = try server.createDatabase(site: "east")
        _ = try PostgresStateStore.open(url, passwordFile: nil, environment: [:])  // migrated
        let parsed = try PostgresStateURL(parsing: url)
        let first = PostgresSiteLeadership(url: parsed, password: nil)
        let second = PostgresSiteLeadership(url: parsed, password: nil)
        defer {
            first.shutdown()
            second.shutdown()
        }
        #expect(second.stillLeading() == false, "nothing is led before trying")
        #expect(try first.tryLead())
        #expect(try first.tryLead(), "leading again is still leading")
        #expect(try second.tryLead() == false)
        let leader = try #require(try second.leader())
        #expect(leader.pid == ProcessInfo.processInfo.processIdentifier)
        #expect(leader.host == ProcessInfo.processInfo.hostName)
        #expect(first.stillLeading())
        #expect(second.stillLeading() == false)
        // Another site in the same database has its own leadership.
        let west = PostgresSiteLeadership(url: try PostgresStateURL(parsing: url.replacingOccurrences(of: "site=east", with: "site=west")), password: nil)
        defer { west.shutdown() }
        #expect(try west.tryLead())

        let session = try #require(first.leadingSession)
        #expect(try server.psql(Self.database(of: url), "SELECT pg_terminate_backend(\(session), 10000)") == "t\n")
        #expect(first.stillLeading() == false, "a killed session is a lost leadership")
        #expect(try second.tryLead(), "the lock went with the session")
        #expect(try second.leader()?.pid == ProcessInfo.processInfo.processIdentifier)
        #expect(try first.tryLead() == false, "the old leader reconnects as a standby")
        #expect(try first.leader() != nil)
    }

    @Test func aFencedStoreRefusesEveryWriteOnceTheLeaderSessionIsGone() throws {
        let server = try PostgresServer.running()
        let url = try server.createDatabase()
        let store = try PostgresStateStore.open(url, passwordFile: nil, environment: [:])
        let leadership = PostgresSiteLeadership(sharing: store)
        defer { leadership.shutdown() }
        store.fence { leadership.fencingToken }
        let record = StoreContractTests.record()
        let refusedBeforeLeading = #expect(throws: DCApplyError.self) {
            _ = try store.commitApply(target: StoreContractTests.target, estimatedW: [:], powerStates: [:], record: record, expectedSerial: 0)
        }
        #expect(refusedBeforeLeading?.message.contains("refused to record the apply: this controller does not lead site default") == true)
        #expect(try leadership.tryLead())
        _ = try store.commitApply(target: StoreContractTests.target, estimatedW: [:], powerStates: [:], record: record, expectedSerial: 0)
        let id = try store.beginApply(planJSON: "{}", baseSerial: 1, user: "u", host: "h", startedAt: Date())
        let holder = LockHolder(host: "h", pid: 1, processStart: nil, since: Date(), command: "apply")
        #expect(try store.acquireLock(holder, isStale: { _ in false }) == nil)

        let session = try #require(leadership.leadingSession)
        _ = try server.psql(Self.database(of: url), "SELECT pg_terminate_backend(\(session), 10000)")
        // The store's own session lives on; the fence, not a broken connection, refuses.
        #expect(throws: DCApplyError.self) {
            _ = try store.commitApply(target: .empty, estimatedW: [:], powerStates: [:], record: record, expectedSerial: 1)
        }
        #expect(throws: DCApplyError.self) { try store.setOverride(node: "n1", health: .some(.degraded), powerState: nil) }
        #expect(throws: DCApplyError.self) { try store.setActuatorRecord(site: "s", actuator: "a", key: "k", value: "v") }
        #expect(throws: DCApplyError.self) {
            _ = try store.finishApply(id, target: .empty, estimatedW: [:], powerStates: [:], record: record)
        }
        #expect(try store.history().count == 1, "reads still work")
        #expect(try store.load().target == StoreContractTests.target)
        #expect(try store.overrides().isEmpty)
        try store.releaseLock(holder)  // what it holds, a fenced controller still lets go of
        #expect(try store.lockHolder() == nil)
    }
}
