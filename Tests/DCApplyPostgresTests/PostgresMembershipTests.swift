import DCApplyCore
@testable import DCApplyPostgres
import DCApplyServer
import Foundation
import Testing

/// Controller membership on a real PostgreSQL: every live controller counted from `pg_locks`,
/// a controller whose session ends counted out at once, and a site's leader read without
/// contending for it.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct PostgresMembershipTests {
    @Test func liveControllersAreCountedAndADeadSessionLeavesAtOnce() throws {
        let server = try PostgresServer.running()
        let url = try server.createDatabase()
        let database = PostgresLeadershipTests.database(of: url)
        _ = try PostgresStateStore.open(url, passwordFile: nil, environment: [:])  // migrated
        let parsed = try PostgresStateURL(parsing: url)
        let members = (0..<3).map { _ in PostgresControllerMembership(url: parsed, password: nil) }
        defer { for member in members { member.shutdown() } }
        let ids = try members.map { try $0.liveMembers().me }
        #expect(Set(ids).count == 3)
        let seen = try members[0].liveMembers()
        #expect(seen.all == ids.sorted { $0 < $1 }, "every member sees all three, sorted")
        #expect(seen.all.allSatisfy { Int32($0) != nil }, "a member is named by its session's backend pid")

        members[1].shutdown()
        #expect(try members[0].liveMembers().all == [ids[0], ids[2]].sorted())
        #expect(try server.psql(database, "SELECT pg_terminate_backend(\(ids[2]), 10000)") == "t\n")
        #expect(try members[0].liveMembers().all == [ids[0]])
        // The terminated member joins again under a new session when asked.
        let rejoined = try members[2].liveMembers()
        #expect(rejoined.me != ids[2])
        #expect(rejoined.all.count == 2)
    }

    @Test func aSitesLeaderIsReadWithoutContending() throws {
        let url = try PostgresServer.running().createDatabase(site: "east")
        _ = try PostgresStateStore.open(url, passwordFile: nil, environment: [:])
        let parsed = try PostgresStateURL(parsing: url)
        let membership = PostgresControllerMembership(url: parsed, password: nil)
        let east = PostgresSiteLeadership(url: parsed, password: nil)
        defer {
            membership.shutdown()
            east.shutdown()
        }
        #expect(try membership.leader(of: "east") == nil)
        #expect(try east.tryLead())
        #expect(try membership.leader(of: "east")?.pid == ProcessInfo.processInfo.processIdentifier)
        #expect(try membership.leader(of: "west") == nil)
        east.release()
        #expect(east.stillLeading() == false)
        #expect(try membership.leader(of: "east") == nil, "a released leadership leaves no leader behind")
    }
}
