@testable import DCApplyCore
import Foundation
import Testing

/// The journal written in batches (docs/apply.md, "Journal batches").
@Suite(.timeLimit(.minutes(5)))
struct JournalBatchTests {
    /// Every action's outcome is journalled before anything that depends on it starts, and a
    /// power change's start before its provider call; and the apply writes fewer batches than
    /// it journals steps.
    @Test(arguments: [1, 4])
    func aBatchIsWrittenBeforeAnythingThatDependsOnItStarts(parallelism: Int) async throws {
        let site = ExecutorTests.site()
        let plan = site.plan()
        let spy = JournalSpyStore(InMemoryStateStore())
        let provider = TimelineProvider(spy: spy, local: LocalProvider(store: spy), recorder: RecordingProvider())
        let outcome = try await Executor(store: spy, logger: ExecutorTests.logger, options: ApplyOptions(parallelism: parallelism),
                                         onEvent: { event in if case .started = event.kind { spy.log(.started(event.index)) } })
            .apply(plan, desired: site.desired, observed: site.observed, provider: { _ in provider })
        #expect(outcome.succeeded)

        let graph = ApplyGraph(changes: plan.changes, desired: site.desired)
        var done = Set<Int>(), started = Set<Int>(), batches = 0, steps = 0
        for event in spy.timeline.withLock({ $0 }) {
            switch event {
            case .batch(let written):
                batches += 1
                steps += written.count
                for step in written {
                    if step.state == .done { done.insert(step.index) }
                    if step.state == .started { started.insert(step.index) }
                }
            case .started(let i):
                let missing = graph.dependencies[i].filter { !done.contains($0) }
                #expect(missing.isEmpty, "\(plan.changes[i].action) \(plan.changes[i].resource) started before \(missing) were journalled done")
                if ExecutorTests.isPower(plan.changes[i]) { #expect(started.contains(i), "a power change's start is journalled before it runs") }
            case .call(let node):
                #expect(plan.changes.indices.contains { started.contains($0) && plan.changes[$0].resource.name == node },
                        "the provider is called for \(node) only after its start is journalled")
            }
        }
        let powers = plan.changes.filter(ExecutorTests.isPower).count
        #expect(steps == plan.changes.count + powers, "one outcome per action and one start per power change")
        #expect(done.count == plan.changes.count)
        #expect(batches < steps, "\(batches) batches for \(steps) steps")
    }

    /// An action slowed by an `apply.action=sleep` failpoint does not hold back the journal of
    /// the actions that ended before it (tests that wait for steps journalled while an apply is
    /// slowed rely on it): each records-only action starts after the outcomes of those before it
    /// were written.
    @Test func aSlowedActionWaitsWithTheOutcomesBeforeItJournalled() async throws {
        let site = ExecutorTests.site()
        let plan = site.plan()
        let spy = JournalSpyStore(InMemoryStateStore())
        let provider = TimelineProvider(spy: spy, local: LocalProvider(store: spy), recorder: RecordingProvider())
        let options = ApplyOptions(parallelism: 1, failpoints: try Failpoints(parsing: "apply.action=sleep:1@1+"))
        let outcome = try await Executor(store: spy, logger: ExecutorTests.logger, options: options,
                                         onEvent: { event in if case .started = event.kind { spy.log(.started(event.index)) } })
            .apply(plan, desired: site.desired, observed: site.observed, provider: { _ in provider })
        #expect(outcome.succeeded)
        var done = Set<Int>(), startedLocally: [Int] = []
        for event in spy.timeline.withLock({ $0 }) {
            switch event {
            case .batch(let written): for step in written where step.state == .done { done.insert(step.index) }
            case .started(let i) where !ExecutorTests.isPower(plan.changes[i]):
                #expect(startedLocally.allSatisfy(done.contains), "\(plan.changes[i].action) started with \(startedLocally.filter { !done.contains($0) }) not journalled")
                startedLocally.append(i)
            default: break
            }
        }
        #expect(startedLocally.count > 2)
    }

    /// A store that writes a batch step by step (the protocol's default) can die half way
    /// through one: for every batch of the apply and every number of its steps written before
    /// the crash, the resumed apply reaches the state of an uninterrupted one, with each power
    /// change called once.
    @Test func aBatchTornAtEveryStepIsResumedExactly() async throws {
        let site = ExecutorTests.site()
        let plan = site.plan()
        let reference = JournalSpyStore(InMemoryStateStore())
        _ = try await ExecutorTests.run(plan, site, store: reference, provider: RecordingProvider(), options: ApplyOptions(parallelism: 1))
        let expected = try reference.load().target
        let sizes = reference.timeline.withLock { $0 }.compactMap { event -> Int? in
            if case .batch(let steps) = event { return steps.count }
            return nil
        }
        let powers = plan.changes.filter(ExecutorTests.isPower).count
        #expect(sizes.contains { $0 > 1 }, "some batch holds several steps: \(sizes)")

        var runs = 0
        for (batch, size) in sizes.enumerated() {
            for keep in 0..<size {
                let inner = InMemoryStateStore(), recorder = RecordingProvider()
                let torn = JournalSpyStore(inner, tear: (batch + 1, keep))
                let provider = CombinedProvider(local: LocalProvider(store: inner), recorder: recorder)
                do {
                    _ = try await Executor(store: torn, logger: ExecutorTests.logger, options: ApplyOptions(parallelism: 1))
                        .apply(plan, desired: site.desired, observed: site.observed, provider: { _ in provider })
                    Issue.record("batch \(batch + 1) torn after \(keep) steps: no crash")
                    continue
                } catch is Failpoints.SimulatedCrash {}
                runs += 1
                let unfinished = try #require(try inner.unfinishedApply(), "batch \(batch + 1) torn after \(keep) steps")
                var observed = site.observed
                for (node, override) in try inner.overrides() { if let power = override.powerState { observed.nodes[node]?.powerState = power } }
                let outcome = try await Executor(store: inner, logger: ExecutorTests.logger, options: ApplyOptions(parallelism: 1))
                    .resume(unfinished, plan: try Plan(json: unfinished.planJSON, source: "journal"), desired: site.desired, observed: observed,
                            provider: { _ in provider })
                #expect(outcome.succeeded, "batch \(batch + 1) torn after \(keep) steps")
                #expect(try inner.load().target == expected, "batch \(batch + 1) torn after \(keep) steps: the final state differs")
                #expect(recorder.count == powers, "batch \(batch + 1) torn after \(keep) steps: \(recorder.count) power calls for \(powers)")
            }
        }
        #expect(runs == sizes.reduce(0, +) && runs > sizes.count)
    }
}

/// The SQLite store's timestamps (journal steps, observations, history) read as they did when
/// each was made by an `ISO8601DateFormatter`: the audit chain hashes them.
@Suite struct SQLiteTimestampTests {
    @Test(arguments: [0, 1_800_000_000.25, 1_764_400_293, 4_102_444_799.999])
    func timestampsAreTheFormattersText(seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(SQLiteStateStore.timestamp(date) == ISO8601DateFormatter().string(from: date))
    }
}

extension ExecutorTests {
    static func isPower(_ change: Change) -> Bool { change.action == .powerOn || change.action == .powerOff }
}
