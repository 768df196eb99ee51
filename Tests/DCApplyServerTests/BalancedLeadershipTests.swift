import DCApplyCore
import DCApplyServer
import Foundation
import Testing

/// Controllers in process sharing two sites' stores and leaderships: each leads at most its
/// share, a dead one's site goes to a survivor, and a joining one is handed a site.
@Suite("Leadership balanced over controllers")
struct BalancedLeadershipTests {
    static let sites = [SiteAssignment.Site(name: "east", path: "sites/east"), SiteAssignment.Site(name: "west", path: "sites/west")]

    /// One controller: its membership, balancer, and a loop per site.
    struct Controller {
        let id: Int
        let balancer: LeadershipBalancer
        let loops: [GitOpsLoop]

        func pass() async {
            for loop in loops { await loop.pass(.interval) }
        }
    }

    /// The shared elections (one per site) and membership registry.
    final class World: Sendable {
        let harness = FleetHarness()
        let registry = InMemoryMemberRegistry()
        let elections = ["east": InMemoryLeaderElection(), "west": InMemoryLeaderElection()]
        let head: String

        init() throws {
            head = harness.git.commit(try FleetHarness.files(folder: "east", site: "east").merging(try FleetHarness.files(folder: "west", site: "west")) { $1 })
        }

        func controller(_ id: Int) -> Controller {
            let balancer = LeadershipBalancer(membership: InMemoryMembership(registry: registry, id: "c\(id)"))
            balancer.serve(BalancedLeadershipTests.sites.map(\.name))
            let loops = BalancedLeadershipTests.sites.map { site in
                let leader = SiteLeader(host: "c\(id)", pid: Int32(id), since: Date(timeIntervalSince1970: 1_800_000_000))
                let inner = InMemorySiteLeadership(election: elections[site.name] ?? InMemoryLeaderElection(), id: id, identity: leader)
                var status = ServeStatus(repository: "memory", branch: "main", path: site.path, selfHeal: true)
                status.site = site.name
                return harness.loop(site, state: ServeState(status: status),
                                    leadership: BalancedSiteLeadership(site: site.name, inner: inner, balancer: balancer))
            }
            return Controller(id: id, balancer: balancer, loops: loops)
        }

        /// Who holds each site's election, by site.
        var holders: [String: String] { elections.compactMapValues { $0.leader?.host } }

        /// Kills controller `id` as its process dying would: its member lock and site locks freed.
        func kill(_ id: Int) {
            registry.remove("c\(id)")
            for election in elections.values where election.leader?.pid == Int32(id) { election.revoke() }
        }
    }

    @Test func threeControllersLeadAtMostOneOfTwoSitesAndASurvivorTakesADeadOnesSite() async throws {
        let world = try World()
        let controllers = (1...3).map { world.controller($0) }
        for controller in controllers { _ = try controller.balancer.membership.liveMembers() }  // all three alive from the start
        for _ in 0..<4 { for controller in controllers { await controller.pass() } }
        #expect(world.holders.count == 2, "both sites led: \(world.holders)")
        for controller in controllers { #expect(controller.balancer.leading.count <= 1, "c\(controller.id) leads \(controller.balancer.leading)") }
        #expect(try world.harness.store("east").history().count == 1)
        #expect(try world.harness.store("west").history().count == 1)

        let dead = try #require(controllers.first { $0.balancer.leading == ["east"] })
        world.kill(dead.id)
        let survivors = controllers.filter { $0.id != dead.id }
        for _ in 0..<4 { for controller in survivors { await controller.pass() } }
        let east = try #require(world.holders["east"])
        #expect(east != "c\(dead.id)", "a survivor leads the dead one's site")
        for controller in survivors { #expect(controller.balancer.leading.count == 1, "c\(controller.id) leads \(controller.balancer.leading)") }
        #expect(try world.harness.store("east").history().count == 1, "the new leader found nothing left to do")
    }

    @Test func aControllerAloneLeadsBothAndHandsOneOverWhenAnotherJoins() async throws {
        let world = try World()
        let first = world.controller(1)
        for _ in 0..<2 { await first.pass() }
        #expect(first.balancer.leading == ["east", "west"])
        #expect(world.holders == ["east": "c1", "west": "c1"])

        let second = world.controller(2)
        for _ in 0..<4 {
            await second.pass()
            await first.pass()
        }
        #expect(first.balancer.leading.count == 1)
        #expect(second.balancer.leading.count == 1)
        #expect(Set(world.holders.values) == ["c1", "c2"])
        #expect(try world.harness.store("east").history().count == 1)
        #expect(try world.harness.store("west").history().count == 1)
    }

    @Test func withoutMembershipAControllerKeepsWhatItLeadsAndTakesNothing() async throws {
        struct Down: ControllerMembership {
            struct Unreachable: Error {}
            func liveMembers() throws -> (me: String, all: [String]) { throw Unreachable() }
            func leader(of site: String) throws -> SiteLeader? { nil }
        }
        let election = InMemoryLeaderElection()
        let leader = SiteLeader(host: "c1", pid: 1, since: Date(timeIntervalSince1970: 0))
        let held = InMemorySiteLeadership(election: election, id: 1, identity: leader)
        #expect(try held.tryLead())
        let balanced = BalancedSiteLeadership(site: "east", inner: held, balancer: LeadershipBalancer(membership: Down()))
        #expect(try balanced.tryLead())
        election.revoke()
        #expect(throws: Down.Unreachable.self) { try balanced.tryLead() }
        #expect(election.leader == nil)
    }
}
