@testable import DCApplyServer
import Testing

/// The pure choice of which sites a controller keeps, releases, contends for or leaves.
@Suite("LeadershipBalance")
struct LeadershipBalanceTests {
    @Test(arguments: [(0, 3, 0), (1, 3, 1), (2, 3, 1), (3, 3, 1), (4, 3, 2), (2, 1, 2), (5, 2, 3), (2, 0, 2)])
    func theShareIsTheCeilingOfSitesOverMembers(sites: Int, members: Int, share: Int) {
        #expect(LeadershipBalance.share(sites: sites, members: members) == share)
    }

    @Test func theScoreIsStableAcrossRunsAndProcesses() {
        // FNV-1a 64 of "a\0east", written down: Swift's Hasher is seeded per process and would not do.
        #expect(LeadershipBalance.score(member: "a", site: "east") == 0xbc09_c2ec_3aa6_8991)
        #expect(LeadershipBalance.score(member: "a", site: "east") != LeadershipBalance.score(member: "b", site: "east"))
    }

    @Test func everySiteRanksEveryMemberOnceAndTheRanksDiffer() {
        let members = ["101", "202", "303"]
        for site in ["east", "west", "north", "south"] {
            let ranks = members.map { LeadershipBalance.rank(of: $0, for: site, among: members) }
            #expect(ranks.sorted() == [0, 1, 2], "\(site): \(ranks)")
        }
        // Not every site prefers the same member: the first free sites spread.
        let firsts = Set(["east", "west", "north", "south", "a", "b", "c", "d"].map { site in
            members.first { LeadershipBalance.rank(of: $0, for: site, among: members) == 0 }
        })
        #expect(firsts.count > 1)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var site: String
        var sites: [String]
        var leading: Set<String>
        var members: [String]
        var waited: Int
        var choice: LeadershipBalance.Choice
        var testDescription: String { name }
    }

    static let two = ["east", "west"]
    static let me = "m"

    static let cases: [Case] = [
        Case(name: "alone: keeps both", site: "east", sites: two, leading: ["east", "west"], members: ["m"], waited: 0, choice: .keep),
        Case(name: "alone: contends for a free site at once", site: "west", sites: two, leading: ["east"], members: ["m"], waited: 0, choice: .contend),
        Case(name: "three for two sites: one leading waits for the other", site: "west", sites: two, leading: ["east"], members: ["m", "n", "o"],
             waited: 99, choice: .wait),
        Case(name: "a site no longer served does not count", site: "west", sites: two, leading: ["gone"], members: ["m", "n", "o"],
             waited: 99, choice: .contend),
        Case(name: "two for two: keeps its one", site: "east", sites: two, leading: ["east"], members: ["m", "n"], waited: 0, choice: .keep),
        Case(name: "me missing from the members still counts once", site: "east", sites: two, leading: ["east", "west"], members: [],
             waited: 0, choice: .keep),
    ]

    @Test(arguments: cases)
    func decides(_ example: Case) {
        #expect(LeadershipBalance.decide(site: example.site, sites: example.sites, leading: example.leading, members: example.members,
                                         me: Self.me, waited: example.waited) == example.choice)
    }

    @Test func overItsShareItReleasesExactlyTheSitesItRanksLowest() {
        let sites = ["a", "b", "c", "d", "e"]
        let members = ["m", "n"]  // share 3; m leads all five: releases two
        let choices = sites.map {
            LeadershipBalance.decide(site: $0, sites: sites, leading: Set(sites), members: members, me: Self.me, waited: 0)
        }
        #expect(choices.filter { $0 == .release }.count == 2)
        #expect(choices.filter { $0 == .keep }.count == 3)
        let released = zip(sites, choices).filter { $0.1 == .release }.map(\.0)
        let lowest = sites.sorted { LeadershipBalance.score(member: Self.me, site: $0) < LeadershipBalance.score(member: Self.me, site: $1) }.prefix(2)
        #expect(Set(released) == Set(lowest))
    }

    @Test func withRoomItContendsAfterWaitingAsManyPassesAsItsRank() {
        let members = ["m", "n", "o"]
        for site in ["east", "west", "north"] {
            let rank = LeadershipBalance.rank(of: Self.me, for: site, among: members)
            for waited in 0..<4 {
                let choice = LeadershipBalance.decide(site: site, sites: [site, "x", "y", "z"], leading: [], members: members, me: Self.me, waited: waited)
                #expect(choice == (waited >= rank ? .contend : .wait), "\(site) rank \(rank) waited \(waited)")
            }
        }
    }

    @Test func aContentionReservesItsSlotSoTwoLoopsOfOneControllerCannotOvershoot() {
        let members = ["m", "n"]  // two sites: share 1
        let names = ["east", "west", "north", "south", "a", "b", "c", "d"]
        let first = names.first { LeadershipBalance.rank(of: "m", for: $0, among: members) == 0 } ?? "east"
        let other = names.first { $0 != first } ?? "west"
        let balancer = LeadershipBalancer(membership: InMemoryMembership(registry: InMemoryMemberRegistry(), id: "m"))
        balancer.serve([first, other])
        #expect(balancer.choose(first, me: "m", members: members) == .contend)
        // The other site's loop asks while the first contention is still under way: no room.
        for _ in 0..<3 { #expect(balancer.choose(other, me: "m", members: members) == .wait) }
        balancer.settle(first, leading: false)  // the lock said no
        // Room again; the passes without room did not count as waiting: m, ranked second for the
        // other site, leaves it one pass to the first-ranked, then contends.
        #expect(LeadershipBalance.rank(of: "m", for: other, among: members) == 1)
        #expect(balancer.choose(other, me: "m", members: members) == .wait)
        #expect(balancer.choose(other, me: "m", members: members) == .contend)
        balancer.settle(other, leading: true)
        #expect(balancer.leading == [other])
        balancer.serve([first])
        #expect(balancer.leading.isEmpty, "a site no longer served is forgotten")
    }
}
