import DCApplyCore
@testable import DCApplyServer
import Foundation
import Logging
import Testing

/// Two controllers in process on one repository and one state store, contending for one
/// in-memory leadership: one acts, the other stands by; a leader that loses the leadership
/// mid-apply stops at the next action boundary and the other finishes the journal.
@Suite("GitOpsLoop with a site leadership")
struct LeadershipLoopTests {
    static let alpha = SiteLeader(host: "alpha", pid: 101, since: Date(timeIntervalSince1970: 1_780_000_000))
    static let beta = SiteLeader(host: "beta", pid: 202, since: Date(timeIntervalSince1970: 1_780_000_100))

    /// A second controller on `serve`'s repository and store, with its own status.
    static func peer(of serve: ServeHarness, applyOptions: ApplyOptions = ApplyOptions(parallelism: 1)) -> (GitOpsLoop, ServeState) {
        var logger = Logger(label: "dcapply.serve.test")
        logger.logLevel = .critical
        let state = ServeState(status: ServeStatus(repository: "memory", branch: "main", path: "manifests", selfHeal: true))
        var loop = GitOpsLoop(repository: serve.git, branch: "main", paths: ["manifests"], interval: 30, selfHeal: true,
                              reconciler: Reconciler(store: serve.store, logger: logger), state: state, logger: logger,
                              trust: TrustGate(trustedSigners: nil), applyOptions: applyOptions)
        loop.clock = serve.clock
        loop.jitter = 1...1
        return (loop, state)
    }

    @Test func oneControllerActsAndTheOtherStandsByReady() async throws {
        let election = InMemoryLeaderElection()
        var serve = ServeHarness()
        serve.loop.leadership = InMemorySiteLeadership(election: election, id: 1, identity: Self.alpha)
        var (standby, standbyState) = Self.peer(of: serve)
        standby.leadership = InMemorySiteLeadership(election: election, id: 2, identity: Self.beta)
        let first = serve.git.commit(try ServeHarness.quickstart(), message: "Quickstart site")

        #expect(await serve.loop.pass(.start) == .apply(revision: first, isNew: true))
        #expect(await standby.pass(.start) == .standby(leader: Self.alpha))
        #expect(serve.status.leader == true)
        #expect(serve.status.leadBy == Self.alpha)
        let status = standbyState.status.withLock { $0 }
        #expect(status.leader == false)
        #expect(status.leadBy == Self.alpha)
        #expect(status.lastAppliedRevision == nil)
        #expect(status.condition("Ready")?.status == "True")
        #expect(status.condition("Ready")?.reason == "Standby")
        #expect(status.condition("Ready")?.message == "standing by: alpha pid 101 leads the site since 2026-05-28T20:26:40Z")
        #expect(status.condition("Reconciling")?.reason == "Standby")
        #expect(ServeRoutes.readiness(status) == (true, "ready: standby; alpha pid 101 leads\n"))
        #expect(status.json.contains(#""leader" : false"#))
        #expect(standbyState.metrics.text.contains(#"dcapply_reconcile_total{result="standby"} 1"#))
        // The standby wrote nothing: one apply in the history, the leader's.
        #expect(try serve.store.history().count == 1)
    }

    @Test func aStandbyWaitsTheLeaderCheckNotTheInterval() async throws {
        var serve = ServeHarness()
        serve.loop.leaderCheck = 5
        let waited = Task { [loop = serve.loop] in await loop.wait(after: .standby(leader: nil)) }
        await serve.clock.waitForSleeper()
        #expect(serve.clock.nextDeadline == serve.clock.now.addingTimeInterval(5))
        serve.clock.advance(by: 5)
        #expect(await waited.value == .interval)
    }

    @Test func aLeaderThatLosesTheLeadershipMidApplyStopsAndTheOtherFinishesTheJournal() async throws {
        let election = InMemoryLeaderElection()
        let asked = Counter()
        // The leadership is lost as the executor asks before its fourth action.
        let revokeBeforeFourth = ApplyOptions(parallelism: 1, shouldStop: {
            if asked.next() == 4 { election.revoke() }
            return false
        })
        var serve = ServeHarness(applyOptions: revokeBeforeFourth)
        serve.loop.leadership = InMemorySiteLeadership(election: election, id: 1, identity: Self.alpha)
        var (other, otherState) = Self.peer(of: serve)
        other.leadership = InMemorySiteLeadership(election: election, id: 2, identity: Self.beta)
        let first = serve.git.commit(try ServeHarness.quickstart(), message: "Quickstart site")

        #expect(await serve.loop.pass(.start) == .standby(leader: nil))
        #expect(serve.status.leader == false)
        #expect(serve.status.lastAppliedRevision == nil)
        let open = try #require(try serve.store.unfinishedApply())
        #expect(open.steps.values.filter { $0.state == .done }.count == 3)
        #expect(try serve.store.history().isEmpty)

        // The other controller takes over on its next pass and finishes the journal first.
        let decision = await other.pass(.interval)
        #expect(otherState.status.withLock { $0.leader } == true)
        #expect(try serve.store.unfinishedApply() == nil)
        #expect(decision == .nothing(revision: first))
        // One apply, resumed by the new leader: the 3 actions done before the loss are not
        // done again, the other 7 are done once.
        let history = try serve.store.history()
        #expect(history.count == 1)
        #expect(history.first?.status == .resumed)
        #expect(history.first?.done == 10)
        #expect(otherState.status.withLock { $0.lastAppliedRevision } == first)
        #expect(await other.pass(.interval) == .nothing(revision: first))

        // The old leader, asking again, stands by behind the new one.
        #expect(await serve.loop.pass(.interval) == .standby(leader: Self.beta))
    }

    @Test func aLeadershipThatCannotBeAskedStallsTheControllerWithoutActing() async throws {
        let election = InMemoryLeaderElection()
        var serve = ServeHarness()
        let leadership = InMemorySiteLeadership(election: election, id: 1, identity: Self.alpha)
        leadership.failure.withLock { $0 = ServeHarness.HarnessError(description: "connection refused") }
        serve.loop.leadership = leadership
        let first = serve.git.commit(try ServeHarness.quickstart(), message: "Quickstart site")
        let decision = await serve.loop.pass(.start)
        #expect(decision == .stall(backoff: .seconds(1), reason: "LeadershipUnavailable", message: "cannot ask who leads the site: connection refused"))
        #expect(try serve.store.history().isEmpty)
        #expect(try serve.store.unfinishedApply() == nil)
        // Not ready while the store cannot be asked (a balancer sends nothing its way), and
        // ready again, leading, once it can.
        #expect(ServeRoutes.readiness(serve.status) == (false, "not ready: cannot ask who leads the site: connection refused\n"))
        leadership.failure.withLock { $0 = nil }
        #expect(await serve.loop.pass(.interval) == .apply(revision: first, isNew: true))
        #expect(ServeRoutes.readiness(serve.status) == (true, "ready\n"))
    }
}
