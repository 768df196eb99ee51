@testable import DCApplyCore
import Foundation
import Logging
import Synchronization
import Testing

/// The apply pipeline the CLI used to run itself: recover → read again → plan → saved-plan
/// check → review → execute, now `Reconciler.applySession`, tested in process.
struct ApplySessionTests {
    static func reconciler(_ store: any StateStore) -> Reconciler {
        Reconciler(store: store, logger: ExecutorTests.logger)
    }

    static func loaded(_ site: TestSite) -> LoadedSite {
        LoadedSite(desired: site.desired, observed: site.observed, diagnostics: [])
    }

    /// A session over a fixed site that counts its loads and keeps the plans it reviewed.
    final class Recorder: Sendable {
        let loads = Mutex(0)
        let reviewed = Mutex([Plan]())
        let recoveries = Mutex([Bool]())
    }

    static func session(_ site: TestSite, reconciler: Reconciler, recorder: Recorder, options: ApplyOptions = ApplyOptions(),
                        savedPlan: (() throws -> Plan)? = nil, approve: Bool = true) -> ApplySession {
        ApplySession(options: options, savedPlan: savedPlan,
                     load: { recorder.loads.withLock { $0 += 1 }; return loaded(site) },
                     plan: { try reconciler.plan($0) },
                     recovered: { recovery in recorder.recoveries.withLock { $0.append(recovery.resumed) } },
                     review: { plan, _ in recorder.reviewed.withLock { $0.append(plan) }; return approve })
    }

    @Test func aReviewedPlanIsAppliedAndRecorded() async throws {
        let site = ExecutorTests.site()
        let store = InMemoryStateStore(), recorder = Recorder()
        let reconciler = Self.reconciler(store)
        let result = try await reconciler.applySession(Self.session(site, reconciler: reconciler, recorder: recorder))
        guard case .applied(let plan, _, let outcome) = result else {
            Issue.record("expected the plan to be applied, got \(result)")
            return
        }
        #expect(outcome.succeeded && outcome.done == plan.changes.count && !plan.isEmpty)
        #expect(recorder.reviewed.withLock { $0.map(\.json) } == [plan.json], "the plan applied is the one reviewed")
        #expect(recorder.loads.withLock { $0 } == 1)
        #expect(try store.load().serial == 1 && store.load().target == plan.target)
        #expect(try store.lockHolder() == nil, "the lock is released")
    }

    @Test func aReviewThatSaysNoChangesNothing() async throws {
        let site = ExecutorTests.site()
        let store = InMemoryStateStore(), recorder = Recorder()
        let reconciler = Self.reconciler(store)
        let result = try await reconciler.applySession(Self.session(site, reconciler: reconciler, recorder: recorder, approve: false))
        guard case .notApplied(let plan, _) = result else {
            Issue.record("expected nothing applied, got \(result)")
            return
        }
        #expect(!plan.isEmpty)
        #expect(try store.load().serial == 0 && store.history().isEmpty)
        #expect(try store.lockHolder() == nil)
    }

    @Test func aSavedPlanFromAnotherSerialIsRefusedBeforeAnythingRuns() async throws {
        let site = ExecutorTests.site()
        let store = InMemoryStateStore(), recorder = Recorder()
        let reconciler = Self.reconciler(store)
        var saved = try reconciler.plan(Self.loaded(site))
        saved.stateSerial = 5
        let session = Self.session(site, reconciler: reconciler, recorder: recorder, savedPlan: { saved })
        await #expect { try await reconciler.applySession(session) } throws: { error in
            (error as? StaleSavedPlan)?.reasons == "the state changed (serial 5 when planned, 0 now: another apply ran)"
        }
        #expect(recorder.reviewed.withLock { $0 }.isEmpty, "a refused plan is not shown for review")
        #expect(try store.load().serial == 0 && store.lockHolder() == nil)
    }

    @Test func aSavedPlanThatStillFitsIsTheOneApplied() async throws {
        let site = ExecutorTests.site()
        let store = InMemoryStateStore(), recorder = Recorder()
        let reconciler = Self.reconciler(store)
        var saved = try reconciler.plan(Self.loaded(site))
        saved.revision = "saved-revision"  // not part of the check: tells the saved plan from the fresh one
        let result = try await reconciler.applySession(Self.session(site, reconciler: reconciler, recorder: recorder, savedPlan: { saved }))
        guard case .applied(let plan, _, _) = result else {
            Issue.record("expected the saved plan to be applied, got \(result)")
            return
        }
        #expect(plan.revision == "saved-revision")
        #expect(try store.history().last?.revision == "saved-revision")
    }

    @Test func anUnfinishedApplyIsResumedThenTheSiteIsReadAgain() async throws {
        let site = ExecutorTests.site()
        let store = InMemoryStateStore(), recorder = Recorder()
        let reconciler = Self.reconciler(store)
        let interrupted = try reconciler.plan(Self.loaded(site))
        _ = try store.beginApply(planJSON: interrupted.json, baseSerial: 0, user: "u", host: "h", startedAt: Date())
        let result = try await reconciler.applySession(Self.session(site, reconciler: reconciler, recorder: recorder, approve: false))
        #expect(recorder.recoveries.withLock { $0 } == [true], "resumed: the manifests are those it was applying")
        #expect(recorder.loads.withLock { $0 } == 2, "read once before recovering and once after")
        #expect(try store.unfinishedApply() == nil)
        #expect(try store.history().last?.status == .resumed)
        guard case .notApplied(let plan, _) = result else {
            Issue.record("the review said no, got \(result)")
            return
        }
        #expect(plan.stateSerial == 1, "planned against the state the recovery reached")
    }
}

struct SavedPlanCheckTests {
    @Test func everyChangeIsNamedInOrder() throws {
        var saved = ExecutorTests.site().plan()
        saved.manifestDigest = "aaaaaaaaaaaaaaaaaaaa"
        saved.observedDigest = "o1"
        saved.stateSerial = 2
        var fresh = saved
        fresh.manifestDigest = "bbbbbbbbbbbbbbbbbbbb"
        fresh.observedDigest = "o2"
        #expect(SavedPlanCheck.staleness(saved, fresh: fresh, stored: StoredState(serial: 3)) ==
            "the manifests changed (digest aaaaaaaaaaaa when planned, bbbbbbbbbbbb now); the observed hardware changed (inventory, health or power); the state changed (serial 2 when planned, 3 now: another apply ran)")
        fresh = saved
        #expect(SavedPlanCheck.staleness(saved, fresh: fresh, stored: StoredState(serial: 2)) == nil)
        saved.observedDigest = ""
        #expect(SavedPlanCheck.staleness(saved, fresh: saved, stored: StoredState(serial: 2)) == "the observed hardware changed (inventory, health or power)",
                "a plan without an observed digest (an older format) never fits")
    }
}

/// Time in the executor and the lock comes from an injected clock.
struct InjectedClockTests {
    @Test func backoffWaitsOnTheClockAndTheRecordReadsIt() async throws {
        let site = ExecutorTests.site()
        let plan = site.plan()
        let clock = ManualWallClock()
        let start = clock.now
        let store = InMemoryStateStore()
        let outcome = try await ExecutorTests.run(plan, site, store: store, provider: RecordingProvider(), options: ApplyOptions(
            parallelism: 1, backoffMS: 200, maxBackoffMS: 5000, failpoints: try Failpoints(parsing: "provider.call=error@1,provider.call=error@2"), clock: clock))
        #expect(outcome.succeeded)
        let sleeps = clock.sleeps
        #expect(sleeps.count == 2, "one wait per retry, none real")
        #expect(sleeps.count == 2 && sleeps[0] <= .milliseconds(200) && sleeps[1] <= .milliseconds(400), "full jitter under a doubling ceiling: \(sleeps)")
        let record = try #require(try store.history().last)
        #expect(record.startedAt == start)
        let waited = sleeps.reduce(0) { $0 + $1.timeInterval }
        #expect(waited > 0 || sleeps.allSatisfy { $0 == .zero })
        #expect(abs(record.finishedAt.timeIntervalSince(start) - waited) < 1e-6, "the apply took exactly its waits on the manual clock")
    }

    @Test func theLockHolderIsStampedByTheReconcilersClock() async throws {
        let store = InMemoryStateStore()
        var reconciler = ApplySessionTests.reconciler(store)
        let clock = ManualWallClock(start: Date(timeIntervalSince1970: 1_000_000))
        reconciler.clock = clock
        let since = try await reconciler.withLock(command: "test") { try store.lockHolder()?.since }
        #expect(since == Date(timeIntervalSince1970: 1_000_000))
    }
}
