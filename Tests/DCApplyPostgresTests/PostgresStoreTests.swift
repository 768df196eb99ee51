import DCApplyCore
@testable import DCApplyPostgres
import Foundation
import Testing

/// What only the PostgreSQL store does: many sites in one database, locks that go with the
/// session, migrations recorded once, URLs that never carry a password.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct PostgresStoreTests {
    static func open(_ url: String) throws -> PostgresStateStore { try PostgresStateStore.open(url, passwordFile: nil, environment: [:]) }

    static let holder = LockHolder(host: "h1", pid: 11, processStart: nil, since: Date(timeIntervalSince1970: 1_800_000_000), command: "apply")

    @Test func sitesInOneDatabaseAreIndependent() throws {
        let server = try PostgresServer.running()
        let url = try server.createDatabase()
        let east = try Self.open(url + "&site=east")
        let west = try Self.open(url + "&site=west")
        let record = StoreContractTests.record()
        _ = try east.commitApply(target: StoreContractTests.target, estimatedW: [:], powerStates: [:], record: record, expectedSerial: 0)
        #expect(try west.load().serial == 0)
        #expect(try west.load().target == .empty)
        #expect(try west.history().isEmpty)
        _ = try west.commitApply(target: .empty, estimatedW: [:], powerStates: [:], record: record, expectedSerial: 0)
        #expect(try west.history().map(\.id) == [1], "ids count from 1 in each site")
        #expect(try east.load().target == StoreContractTests.target)
        // Each site has its own lock.
        #expect(try east.acquireLock(Self.holder, isStale: { _ in false }) == nil)
        #expect(try west.acquireLock(Self.holder, isStale: { _ in false }) == nil)
        let versions = try server.psql(String(url.split(separator: "/").last?.split(separator: "?").first ?? ""), "SELECT version FROM schema_migrations")
        #expect(versions.split(separator: "\n") == ["1-initial", "2-serve-leader", "3-leader-epoch"], "migrations are recorded once however many stores open")
    }

    @Test func aHolderWhoseSessionEndsReleasesTheLockWithNoCleanup() throws {
        let url = try PostgresServer.running().createDatabase()
        let first = try Self.open(url)
        #expect(try first.acquireLock(Self.holder, isStale: { _ in false }) == nil)
        let second = try Self.open(url)
        let next = LockHolder(host: "h2", pid: 22, processStart: nil, since: Date(), command: "apply")
        let refused = #expect(throws: DCApplyError.self) { _ = try second.acquireLock(next, isStale: { _ in true }) }
        #expect(refused?.code == .locked, "a live session's lock is never stale, whatever isStale says")
        #expect(refused?.message.contains("pid 11 on h1 (apply)") == true, "\(String(describing: refused))")
        first.shutdown()  // as when the process dies: the connection closes
        #expect(try second.lockHolder() == nil, "the row of a dead session is no lock")
        let previous = try second.acquireLock(next, isStale: { _ in false })
        #expect(previous == Self.holder, "the dead holder is reported as taken over")
        #expect(try second.lockHolder()?.host == "h2")
    }

    @Test func takingTheLockTwiceThroughOneStoreIsRefusedAndOneReleaseFreesIt() throws {
        let url = try PostgresServer.running().createDatabase()
        let store = try Self.open(url)
        #expect(try store.acquireLock(Self.holder, isStale: { _ in false }) == nil)
        let again = LockHolder(host: "h1", pid: 12, processStart: nil, since: Date(), command: "serve")
        let error = #expect(throws: DCApplyError.self) { _ = try store.acquireLock(again, isStale: { _ in false }) }
        #expect(error?.code == .locked)
        try store.releaseLock(Self.holder)
        // Had the nested advisory lock kept a count, another session could not take it now.
        let other = try Self.open(url)
        #expect(try other.acquireLock(again, isStale: { _ in false }) == nil)
    }

    @Test func aPasswordInTheURLIsRefused() {
        let error = #expect(throws: DCApplyError.self) { _ = try PostgresStateURL(parsing: "postgres://u:secret@db:5432/x") }
        #expect(error?.code == .usage)
        #expect(error?.message == "--state must not hold a password (it would show in process lists and logs); set PGPASSWORD or pass --state-password-file FILE")
        #expect(error?.message.contains("secret") == false)
    }

    @Test func urlsParseLikeLibpq() throws {
        let url = try PostgresStateURL(parsing: "postgresql://ops@db.example:6543/state?sslmode=verify-full&site=hall-b")
        #expect(url == PostgresStateURL(user: "ops", host: "db.example", port: 6543, database: "state", sslMode: .verifyFull, site: "hall-b"))
        let defaults = try PostgresStateURL(parsing: "postgres://db.example/state")
        #expect(defaults == PostgresStateURL(user: "postgres", host: "db.example", port: 5432, database: "state", sslMode: .prefer, site: "default"))
        #expect(throws: DCApplyError.self) { _ = try PostgresStateURL(parsing: "postgres://db.example/state?sslmode=sometimes") }
        #expect(throws: DCApplyError.self) { _ = try PostgresStateURL(parsing: "postgres://db.example/") }
        #expect(throws: DCApplyError.self) { _ = try PostgresStateURL(parsing: "postgres://db.example/state?colour=blue") }
    }

    @Test func theTLSModesMapToPostgresNIOsOptions() throws {
        #expect(try !PostgresStateStore.tls(.disable).isAllowed)
        #expect(try PostgresStateStore.tls(.prefer).isAllowed && !PostgresStateStore.tls(.prefer).isEnforced)
        for mode in [PostgresStateURL.SSLMode.require, .verifyCA, .verifyFull] {
            #expect(try PostgresStateStore.tls(mode).isEnforced, "\(mode)")
        }
    }

    @Test func aServerThatIsNotThereIsAStateStoreErrorNamingIt() throws {
        let error = #expect(throws: DCApplyError.self) { _ = try Self.open("postgres://nobody@127.0.0.1:1/none?sslmode=disable") }
        #expect(error?.code == .stateStore)
        #expect(error?.message == "cannot open the state store postgres://nobody@127.0.0.1:1/none?site=default", "\(String(describing: error))")
    }
}
