import DCApplyCore
import DCApplyGit
import DCApplyServer
import Foundation
import Testing

/// The reconcile loop in process, one pass at a time: an in-memory repository whose branch the
/// test moves, an in-memory state store, the quickstart's local inventory. Each pass's decision,
/// the status and the metrics are checked after it.
@Suite("GitOpsLoop in process")
struct GitOpsLoopTests {
    @Test func aNewRevisionIsAppliedAndThenLeftAlone() async throws {
        let serve = ServeHarness()
        let first = serve.git.commit(try ServeHarness.quickstart(), message: "Quickstart site")
        #expect(await serve.loop.pass(.start) == .apply(revision: first, isNew: true))
        var status = serve.status
        #expect(status.lastAppliedRevision == first)
        #expect(status.lastAttemptedRevision == first)
        #expect(status.lastError == nil)
        #expect(status.reconcileCount == 1)
        #expect(status.condition("Ready")?.status == "True")
        #expect(status.condition("Ready")?.message == "Applied revision: main@sha1:\(first)")
        #expect(status.condition("Stalled")?.status == "False")
        #expect(status.condition("Reconciling")?.reason == "Succeeded")
        #expect(try serve.store.load().revision == first)
        #expect(serve.metric("dcapply_changes_applied_total") == "10")
        #expect(serve.metric(#"dcapply_reconcile_total{result="success"}"#) == "1")
        #expect(serve.metric(#"dcapply_revision_info{revision="\#(first)"}"#) == "1.0")
        #expect(ServeRoutes.readiness(status) == (true, "ready\n"))

        // Converged: the next pass changes nothing.
        #expect(await serve.loop.pass(.interval) == .nothing(revision: first))
        status = serve.status
        #expect(status.reconcileCount == 2)
        #expect(status.drift == nil)
        #expect(serve.metric("dcapply_changes_applied_total") == "10")
        #expect(serve.metric(#"dcapply_reconcile_total{result="success"}"#) == "2")

        // A new commit is applied.
        let second = try serve.editSite("\n  replicas: 4\n", "\n  replicas: 2\n", message: "Two replicas")
        #expect(await serve.loop.pass(.webhook) == .apply(revision: second, isNew: true))
        #expect(serve.status.lastAppliedRevision == second)
        #expect(serve.metric(#"dcapply_revision_info{revision="\#(second)"}"#) == "1.0")
        #expect(serve.metric(#"dcapply_revision_info{revision="\#(first)"}"#) == nil)
    }

    @Test func invalidAndUnsatisfiableRevisionsAreRefusedUntilTheBranchMovesPast() async throws {
        let serve = ServeHarness()
        let first = serve.git.commit(try ServeHarness.quickstart(), message: "Quickstart site")
        await serve.loop.pass(.start)

        let broken = try serve.editSite("\n  replicas: 4\n", "\n  replicas: lots\n", message: "Broken")
        let refused = await serve.loop.pass(.interval)
        guard case .refuse(broken, "ValidationFailed", let message) = refused else {
            Issue.record("expected a refusal, got \(refused)")
            return
        }
        #expect(message.hasPrefix("1 error in the manifests: manifests/site.yaml:"), "\(message)")
        var status = serve.status
        #expect(status.lastAppliedRevision == first)
        #expect(status.lastAttemptedRevision == broken)
        #expect(status.refusedRevision == broken)
        #expect(status.lastError == "revision \(broken.prefix(12)) refused, staying on the last good revision: \(message)")
        #expect(status.condition("Ready")?.status == "False")
        #expect(status.condition("Ready")?.reason == "ValidationFailed")
        #expect(status.condition("Ready")?.message == "revision \(broken.prefix(12)) refused, staying on the last good revision: \(message); the site stays on \(first.prefix(12))")
        #expect(status.condition("Stalled")?.status == "True")
        #expect(status.condition("Stalled")?.message == "revision \(broken.prefix(12)) will not be retried; push a fix")
        #expect(try serve.store.load().revision == first)
        #expect(serve.metric(#"dcapply_reconcile_total{result="refused"}"#) == "1")
        #expect(serve.metric("dcapply_revisions_refused_total") == "1")
        #expect(ServeRoutes.readiness(status).ready)

        // The refused head is not read again; the applied revision is still checked (and clean).
        #expect(await serve.loop.pass(.interval) == .nothing(revision: first))
        #expect(serve.status.refusedRevision == broken)
        #expect(serve.status.condition("Ready")?.status == "False")

        // Ten nodes asked of six: unsatisfiable, refused too.
        try serve.editSite("\n  replicas: lots\n", "\n  replicas: 2\n")
        let tooBig = try serve.editSite("size: {nodes: 4}", "size: {nodes: 10}", message: "Too big")
        let second = await serve.loop.pass(.interval)
        guard case .refuse(tooBig, "Unsatisfiable", let why) = second else {
            Issue.record("expected an unsatisfiable refusal, got \(second)")
            return
        }
        #expect(why.hasPrefix("unsatisfiable: "))
        #expect(serve.status.lastAppliedRevision == first)

        // The branch moves past: the fix is applied and the daemon is Ready again.
        let fixed = try serve.editSite("size: {nodes: 10}", "size: {nodes: 4}", message: "Fix")
        #expect(await serve.loop.pass(.interval) == .apply(revision: fixed, isNew: true))
        status = serve.status
        #expect(status.lastAppliedRevision == fixed)
        #expect(status.refusedRevision == nil)
        #expect(status.lastError == nil)
        #expect(status.condition("Ready")?.status == "True")
        #expect(status.condition("Stalled")?.status == "False")
    }

    @Test func aRefusedFirstRevisionLeavesNothingToDoUntilTheBranchMoves() async throws {
        let serve = ServeHarness()
        var files = try ServeHarness.quickstart()
        files["manifests/site.yaml"] = Data("kind: Nonsense\n".utf8)
        let broken = serve.git.commit(files)
        guard case .refuse(broken, "ValidationFailed", _) = await serve.loop.pass(.start) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(await serve.loop.pass(.interval) == .nothing(revision: nil))
        #expect(serve.metric(#"dcapply_reconcile_total{result="refused"}"#) == "2")
        #expect(ServeRoutes.readiness(serve.status) == (false, "not ready: \(serve.status.lastError ?? "")\n"))
    }

    @Test func driftIsCorrectedWithSelfHeal() async throws {
        let serve = ServeHarness()
        let first = serve.git.commit(try ServeHarness.quickstart())
        await serve.loop.pass(.start)
        try serve.store.setOverride(node: "gpu-r01-n01", health: .some(.failed), powerState: nil)
        #expect(await serve.loop.pass(.interval) == .apply(revision: first, isNew: false))
        var status = serve.status
        #expect(status.drift?.hasPrefix("corrected: ") == true, "\(status.drift ?? "nil")")
        #expect(status.lastDrift == status.drift)
        #expect(status.lastDriftTime == serve.clock.now)
        #expect(serve.metric("dcapply_drift_detected_total") == "1")
        let applied = Int(serve.metric("dcapply_changes_applied_total") ?? "") ?? 0
        #expect(applied > 10)

        // Corrected: the next pass is clean, and the last drift stays visible.
        #expect(await serve.loop.pass(.interval) == .nothing(revision: first))
        status = serve.status
        #expect(status.drift == nil)
        #expect(status.lastDrift?.hasPrefix("corrected: ") == true)
        #expect(serve.metric("dcapply_drift_detected_total") == "1")
    }

    @Test func driftIsOnlyReportedWithoutSelfHeal() async throws {
        let serve = ServeHarness(selfHeal: false)
        let first = serve.git.commit(try ServeHarness.quickstart())
        await serve.loop.pass(.start)
        try serve.store.setOverride(node: "gpu-r01-n01", health: .some(.failed), powerState: nil)
        #expect(await serve.loop.pass(.interval) == .reportDrift(revision: first))
        #expect(serve.status.drift?.hasPrefix("not corrected (self-heal is off): ") == true)
        #expect(serve.status.condition("Ready")?.status == "True")
        #expect(serve.metric("dcapply_changes_applied_total") == "10")
        #expect(serve.metric("dcapply_drift_detected_total") == "1")
        // Still drifted, still reported on every pass.
        #expect(await serve.loop.pass(.interval) == .reportDrift(revision: first))
        #expect(serve.metric("dcapply_drift_detected_total") == "2")
    }

    @Test func aRevisionThatTakesAwayTooMuchIsRefusedUnlessAllowed() async throws {
        var serve = ServeHarness()
        let first = serve.git.commit(try ServeHarness.quickstart())
        await serve.loop.pass(.start)
        // The pool, workload and tier left out of the next commit: a wrong edit, not a wish.
        let site = String(decoding: try ServeHarness.quickstart()["manifests/site.yaml"] ?? Data(), as: UTF8.self)
        let kept = site.components(separatedBy: "\n---\n").filter {
            !$0.contains("kind: HardwarePool") && !$0.contains("kind: Workload") && !$0.contains("kind: StorageTier")
        }
        let emptied = serve.git.commit(changing: ["manifests/site.yaml": Data(kept.joined(separator: "\n---\n").utf8)], message: "Site only")
        let decision = await serve.loop.pass(.interval)
        guard case .refuse(emptied, "DestroyRefused", let message) = decision else {
            Issue.record("expected a blast-radius refusal, got \(decision)")
            return
        }
        #expect(message.hasPrefix("refused: this plan takes away more than 50% of what is applied: 4 of 4 pool members, 4 of 4 replicas, 2 of 2 drives, 0 of 6 powered nodes."), "\(message)")
        #expect(message.hasSuffix("Start serve with --allow-destroy to allow it."))
        #expect(serve.status.lastAppliedRevision == first)
        let ready = ServeRoutes.readiness(serve.status)
        #expect(ready.ready, "the site still runs the last good revision")
        #expect(ready.body.hasPrefix("ready: serving revision \(first.prefix(12)); Ready=False (DestroyRefused): revision \(emptied.prefix(12)) refused"), "\(ready.body)")

        // --allow-destroy: the same revision is applied.
        serve.loop.destroyLimit = nil
        serve.state.status.withLock { $0.refusedRevision = nil }  // a restarted daemon starts without it
        #expect(await serve.loop.pass(.start) == .apply(revision: emptied, isNew: true))
        #expect(ServeRoutes.readiness(serve.status) == (true, "ready\n"))
    }

    @Test func aLockedStoreStallsWithABackoffThatDoublesAndALaterPassApplies() async throws {
        let serve = ServeHarness()
        let first = serve.git.commit(try ServeHarness.quickstart())
        let other = LockHolder(host: "another-host.invalid", pid: 4242, processStart: nil, since: serve.clock.now, command: "dcapply apply")
        _ = try serve.store.acquireLock(other, isStale: { _ in false })
        let stalled = await serve.loop.pass(.start)
        guard case .stall(.seconds(1), "Locked", let message) = stalled else {
            Issue.record("expected a stall, got \(stalled)")
            return
        }
        #expect(message.hasPrefix("the state store is locked; retrying after a backoff: "), "\(message)")
        // The remedy is worded for the operator reading /status (the core words none).
        #expect(message.hasSuffix("; if it is gone, `dcapply state unlock --force` breaks the lock"), "\(message)")
        #expect(serve.state.failures == 1)
        #expect(serve.status.lastAppliedRevision == nil)
        #expect(serve.status.lastError == message)
        #expect(serve.status.condition("Ready")?.reason == "Locked")
        #expect(serve.metric(#"dcapply_reconcile_total{result="failure"}"#) == "1")
        guard case .stall(.seconds(2), "Locked", _) = await serve.loop.pass(.interval) else {
            Issue.record("expected a second, longer stall")
            return
        }
        #expect(serve.state.failures == 2)

        try serve.store.releaseLock(other)
        #expect(await serve.loop.pass(.interval) == .apply(revision: first, isNew: true))
        #expect(serve.state.failures == 0)
        #expect(serve.status.lastError == nil)
        #expect(serve.status.condition("Ready")?.status == "True")
    }

    @Test func aFetchFailureStallsAndTheSiteStaysWhereItWas() async throws {
        let serve = ServeHarness()
        let first = serve.git.commit(try ServeHarness.quickstart())
        await serve.loop.pass(.start)
        serve.git.failFetches(GitError(.remote, "cannot fetch main from memory: the remote is away"))
        #expect(await serve.loop.pass(.interval)
                == .stall(backoff: .seconds(1), reason: "GitOperationFailed", message: "fetch failed: cannot fetch main from memory: the remote is away"))
        let status = serve.status
        #expect(status.condition("Ready")?.status == "False")
        #expect(status.lastAppliedRevision == first)
        #expect(ServeRoutes.readiness(status).ready)  // still serving the last good revision
        #expect(serve.metric("dcapply_fetch_failures_total") == "1")
        serve.git.failFetches(nil)
        #expect(await serve.loop.pass(.interval) == .nothing(revision: first))
        #expect(serve.status.condition("Ready")?.status == "True")
        #expect(serve.status.lastError == nil)
    }

    @Test func aStopBetweenActionsLeavesTheApplyForTheNextStart() async throws {
        // The apply is asked before each action whether to stop; it says yes from the third on.
        let asked = Counter()
        let stopping = ServeHarness(applyOptions: ApplyOptions(parallelism: 1, shouldStop: { asked.next() > 2 }))
        let first = stopping.git.commit(try ServeHarness.quickstart())
        #expect(await stopping.loop.pass(.start) == .stop)
        #expect(stopping.status.lastAppliedRevision == nil)
        #expect(stopping.status.lastError?.isEmpty == false)
        #expect(try stopping.store.load().revision == nil)
        #expect(stopping.metric(#"dcapply_reconcile_total{result="success"}"#) == "0")

        // The next start, on the same store, finishes the apply.
        var again = ServeHarness()
        again.loop = GitOpsLoop(repository: stopping.git, branch: "main", paths: ["manifests"], interval: 30, selfHeal: true,
                                reconciler: stopping.loop.reconciler, state: again.state, logger: again.loop.logger, trust: again.loop.trust)
        again.loop.clock = again.clock
        #expect(await again.loop.pass(.start) == .apply(revision: first, isNew: true))
        #expect(try stopping.store.load().revision == first)
        #expect(await again.loop.pass(.interval) == .nothing(revision: first))
    }

    @Test func aStoppingDaemonStartsNoPass() async throws {
        let serve = ServeHarness()
        serve.git.commit(try ServeHarness.quickstart())
        serve.state.stop()
        #expect(await serve.loop.pass(.interval) == .stop)
        #expect(serve.git.fetchCount == 0)
        #expect(serve.status.condition("Reconciling")?.reason == "Stopped")
    }
}
