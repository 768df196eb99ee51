import DCApplyCore
@testable import DCApplyPostgres
import DCApplyServer
import Foundation
import Testing

/// The balanced leadership on a real PostgreSQL, without serve: a lone controller leads both
/// sites, hands one over (its lock freed) when a second joins, and takes it back when that one
/// dies.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct PostgresBalanceTests {
    /// One controller: its membership and a balanced leadership per site.
    struct Controller {
        let membership: PostgresControllerMembership
        let balancer: LeadershipBalancer
        let sites: [BalancedSiteLeadership]
        let inner: [PostgresSiteLeadership]

        init(_ url: PostgresStateURL) {
            membership = PostgresControllerMembership(url: url, password: nil)
            let balancer = LeadershipBalancer(membership: membership)
            balancer.serve(["east", "west"])
            self.balancer = balancer
            let inner = ["east", "west"].map { site in
                var sited = url
                sited.site = site
                return PostgresSiteLeadership(url: sited, password: nil)
            }
            self.inner = inner
            sites = zip(["east", "west"], inner).map { BalancedSiteLeadership(site: $0, inner: $1, balancer: balancer) }
        }

        func pass() throws { for site in sites { _ = try site.tryLead() } }

        func die() {
            for leadership in inner { leadership.shutdown() }
            membership.shutdown()
        }
    }

    @Test func aLoneControllerHandsASiteOverWhenAnotherJoinsAndTakesItBackWhenItDies() throws {
        let url = try PostgresServer.running().createDatabase()
        _ = try PostgresStateStore.open(url, passwordFile: nil, environment: [:])  // migrated
        let parsed = try PostgresStateURL(parsing: url)
        let first = Controller(parsed)
        let second = Controller(parsed)
        defer {
            first.die()
            second.die()
        }
        for _ in 0..<2 { try first.pass() }
        #expect(first.balancer.leading == ["east", "west"], "alone, its share is both")

        _ = try second.membership.liveMembers()
        for _ in 0..<4 {
            try second.pass()
            try first.pass()
        }
        #expect(first.balancer.leading.count == 1)
        #expect(second.balancer.leading.count == 1)
        #expect(Set(first.balancer.leading + second.balancer.leading) == ["east", "west"])
        #expect(first.sites.filter { $0.stillLeading() }.map(\.site) == first.balancer.leading, "the book and the locks agree")
        #expect(second.sites.filter { $0.stillLeading() }.map(\.site) == second.balancer.leading)

        first.die()
        for _ in 0..<3 { try second.pass() }
        #expect(second.balancer.leading == ["east", "west"])
    }
}
