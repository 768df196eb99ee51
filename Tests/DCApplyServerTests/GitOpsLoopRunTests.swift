import DCApplyCore
import DCApplyGit
import DCApplyServer
import Foundation
import Testing

/// The loop's timing with a manual clock: it sleeps for the interval, a webhook wakes it at
/// once, a failure shortens the wait to the backoff, and a stop ends it. The test knows the
/// loop waits when it sleeps on the clock; nothing here sleeps or measures time.
@Suite("GitOpsLoop run with a manual clock")
struct GitOpsLoopRunTests {
    @Test(.timeLimit(.minutes(5)))
    func theLoopWaitsForTheIntervalWakesForAWebhookBacksOffAndStops() async throws {
        let serve = ServeHarness(interval: 30)
        let first = serve.git.commit(try ServeHarness.quickstart())
        let start = serve.clock.now
        let loop = serve.loop
        let running = Task { try await loop.run() }

        // The first pass, then a wait of one interval.
        await serve.clock.waitForSleeper()
        #expect(serve.status.lastAppliedRevision == first)
        #expect(serve.clock.nextDeadline == start.addingTimeInterval(30))

        // A webhook wakes the loop without the clock moving past the deadline.
        serve.clock.advance(by: 5)
        let second = try serve.editSite("\n  replicas: 4\n", "\n  replicas: 2\n")
        serve.state.trigger(.webhook)
        await serve.clock.waitForSleeper(after: start.addingTimeInterval(30))
        #expect(serve.status.lastAppliedRevision == second)
        #expect(serve.status.reconcileCount == 2)
        #expect(serve.clock.nextDeadline == start.addingTimeInterval(35))
        #expect(serve.clock.sleeperCount == 1)

        // The interval: a pass that finds nothing to do.
        serve.clock.advance(by: 30)
        await serve.clock.waitForSleeper(after: start.addingTimeInterval(35))
        #expect(serve.status.reconcileCount == 3)
        #expect(serve.git.fetchCount == 3)

        // The remote goes away: the next wait is the backoff (1 s, then 2 s), not the interval.
        serve.git.failFetches(GitError(.remote, "the remote is away"))
        serve.clock.advance(by: 30)
        await serve.clock.waitForSleeper(after: start.addingTimeInterval(65))
        #expect(serve.clock.nextDeadline == start.addingTimeInterval(66))
        serve.clock.advance(by: 1)
        await serve.clock.waitForSleeper(after: start.addingTimeInterval(66))
        #expect(serve.clock.nextDeadline == start.addingTimeInterval(68))
        #expect(serve.state.failures == 2)
        serve.git.failFetches(nil)
        serve.clock.advance(by: 2)
        await serve.clock.waitForSleeper(after: start.addingTimeInterval(68))
        #expect(serve.state.failures == 0)
        #expect(serve.clock.nextDeadline == start.addingTimeInterval(98))
        #expect(serve.status.condition("Ready")?.status == "True")

        // A stop ends the wait at once.
        serve.state.stop()
        try await running.value
        #expect(serve.status.reconcileCount == 6)
        #expect(serve.clock.sleeperCount == 0)
    }

    @Test(.timeLimit(.minutes(5)))
    func aWebhookDuringAPassIsServedByTheNextOne() async throws {
        let serve = ServeHarness(interval: 30)
        serve.git.commit(try ServeHarness.quickstart())
        serve.state.trigger(.webhook)  // arrives before the pass: the pass serves it
        #expect(serve.state.takeTrigger() == .webhook)
        #expect(serve.state.takeTrigger() == nil)
        serve.state.trigger(.webhook)
        // A waiter finds a pending trigger at once.
        #expect(await serve.state.nextTrigger() == .webhook)
        serve.state.stop()
        #expect(await serve.state.nextTrigger() == nil)
    }
}
