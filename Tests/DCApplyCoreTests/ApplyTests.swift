@testable import DCApplyCore
import Foundation
import Logging
import Synchronization
import Testing

/// A provider that records power calls, for the layers above providers.
final class RecordingProvider: HardwareProvider {
    let calls = Mutex([(PowerState, String)]())
    func observe(site: Site) async throws -> (nodes: [ObservedNode], diagnostics: [Diagnostic]) { ([], []) }
    func setPower(_ state: PowerState, node: String, site: Site) async throws {
        calls.withLock { $0.append((state, node)) }
    }
    var count: Int { calls.withLock { $0.count } }
}

@Suite(.timeLimit(.minutes(5)))
struct ApplyGraphTests {
    static func change(_ action: Action, _ resource: ResourceAddress, from: String? = nil, to: String? = nil, replica: Int? = nil,
                       fromNodes: [String]? = nil, toNodes: [String]? = nil) -> Change {
        Change(action, resource, from: from, to: to, replica: replica, fromNodes: fromNodes, toNodes: toNodes, reason: "test")
    }

    @Test func ordersPowerPoolAndReplicaChangesMakeBeforeBreak() {
        let w = ResourceAddress(.workload, "w")
        let changes = [
            Self.change(.powerOn, .node("n1")),                                            // 0
            Self.change(.assign, .node("n1"), to: "HardwarePool/p"),                       // 1
            Self.change(.place, w, replica: 0, toNodes: ["n1"]),                           // 2
            Self.change(.move, w, replica: 1, fromNodes: ["n2"], toNodes: ["n1"]),         // 3
            Self.change(.evict, w, replica: 2, fromNodes: ["n2"]),                         // 4
            Self.change(.unassign, .node("n2"), from: "HardwarePool/p"),                   // 5
            Self.change(.powerOff, .node("n2")),                                           // 6
            Self.change(.assign, .node("n2"), to: "HardwarePool/q"),                       // 7
        ]
        let graph = ApplyGraph(changes: changes, budgets: [:])
        #expect(graph.dependencies[1] == [0], "power on before joining a pool")
        #expect(graph.dependencies[2] == [0, 1], "place after the node is on and in the pool")
        #expect(graph.dependencies[3] == [0, 1], "a move starts on its new node first; the old one is freed by the same step")
        #expect(graph.dependencies[5] == [3, 4], "a node leaves its pool after every replica left it")
        #expect(graph.dependencies[6] == [3, 4, 5], "power off last")
        #expect(graph.dependencies[7] == [5], "leave the old pool before joining the new one")
        #expect(graph.waveCount == 1)
    }

    @Test func disruptionBudgetsMakeWaves() {
        let w = ResourceAddress(.workload, "w")
        let changes = (0..<5).map { (i: Int) in Self.change(.evict, w, replica: i, fromNodes: ["n\(i)"]) } + [Self.change(.evict, ResourceAddress(.workload, "free"), replica: 0, fromNodes: ["m"])]
        let graph = ApplyGraph(changes: changes, budgets: [w: 2])
        #expect(graph.waveCount == 3)
        #expect(graph.wave == [0, 0, 1, 1, 2, 0])
        #expect(graph.dependencies[2] == [0, 1] && graph.dependencies[3] == [0, 1])
        #expect(graph.dependencies[4] == [2, 3])
        #expect(graph.dependencies[5].isEmpty, "an unbudgeted target is not held back")
    }

    @Test func circularRulesAreBrokenNotDeadlocked() {
        // Two nodes swap pools while a replica of each pool's workload swaps nodes.
        let a = ResourceAddress(.workload, "a"), b = ResourceAddress(.workload, "b")
        let changes = [
            Self.change(.assign, .node("x"), to: "HardwarePool/q"),
            Self.change(.assign, .node("y"), to: "HardwarePool/p"),
            Self.change(.move, a, replica: 0, fromNodes: ["x"], toNodes: ["y"]),
            Self.change(.move, b, replica: 0, fromNodes: ["y"], toNodes: ["x"]),
            Self.change(.unassign, .node("x"), from: "HardwarePool/p"),
            Self.change(.unassign, .node("y"), from: "HardwarePool/q"),
        ]
        let graph = ApplyGraph(changes: changes, budgets: [:])
        var indegree = graph.dependencies.map(\.count)
        var order: [Int] = []
        var ready = indegree.indices.filter { indegree[$0] == 0 }
        while let i = ready.popLast() {
            order.append(i)
            for j in graph.dependencies.indices where graph.dependencies[j].contains(i) {
                indegree[j] -= 1
                if indegree[j] == 0 { ready.append(j) }
            }
        }
        #expect(order.count == changes.count, "every change can run")
    }
}

@Suite(.timeLimit(.minutes(5)))
struct ExecutorTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// Six nodes in three racks, all off; a pool of four with a disruption budget of one and a
    /// spread workload, so the plan powers on, assigns and places.
    static func site(budget: Int = 1, replicas: Int = 4) -> TestSite {
        var site = TestSite(manifests: TestSite.manifests("""
            apiVersion: dcapply/v1
            kind: RedundancyPolicy
            metadata: {name: spread}
            spec: {failureDomain: rack, maxPerDomain: 2, maxUnavailable: \(budget)}
            ---
            apiVersion: dcapply/v1
            kind: HardwarePool
            metadata: {name: p}
            spec: {site: s1, size: {nodes: 4}, redundancy: spread}
            ---
            apiVersion: dcapply/v1
            kind: Workload
            metadata: {name: w}
            spec: {pool: p, replicas: \(replicas), resources: {gpus: 2, cpuCores: 8}, redundancy: spread}
            """, energy: "powerOffIdle: true"), inventory: TestSite.gpuInventory(racks: 3, perRack: 2))
        for name in site.observed.nodes.keys { site.observed.nodes[name]?.powerState = .off }
        return site
    }

    static func run(_ plan: Plan, _ site: TestSite, store: any StateStore, provider: RecordingProvider, options: ApplyOptions,
                    onEvent: (@Sendable (ApplyEvent) -> Void)? = nil) async throws -> ApplyOutcome {
        try await Executor(store: store, logger: logger, options: options, onEvent: onEvent)
            .apply(plan, desired: site.desired, observed: site.observed, provider: { _ in provider })
    }

    @Test func appliesEverythingAndRecordsThePlansTarget() async throws {
        let site = Self.site()
        let plan = site.plan()
        let store = InMemoryStateStore(), provider = RecordingProvider()
        let outcome = try await Self.run(plan, site, store: store, provider: provider, options: ApplyOptions(parallelism: 4))
        #expect(outcome.succeeded && outcome.status == .completed)
        #expect(outcome.done == plan.changes.count)
        #expect(provider.count == plan.changes.filter { $0.action == .powerOn || $0.action == .powerOff }.count)
        #expect(try store.load().target == plan.target)
        #expect(try store.unfinishedApply() == nil, "the journal is closed")
        #expect(try store.history().last?.status == .completed)
    }

    @Test func transientErrorsAreRetried() async throws {
        let site = Self.site()
        let plan = site.plan()
        let powers = plan.changes.filter { $0.action == .powerOn }.count
        #expect(powers > 0)
        let store = InMemoryStateStore(), provider = RecordingProvider()
        let outcome = try await Self.run(plan, site, store: store, provider: provider,
                                         options: ApplyOptions(parallelism: 1, failpoints: try Failpoints(parsing: "provider.call=error@1,provider.call=error@2"), clock: ManualWallClock()))
        #expect(outcome.succeeded)
        #expect(outcome.providerCalls == powers + 2, "two failed calls, retried")
        #expect(provider.count == powers, "the failpoint fires before the call reaches the hardware")
    }

    @Test func transientErrorsGiveUpAfterMaxAttempts() async throws {
        let site = Self.site()
        let plan = site.plan()
        let outcome = try await Self.run(plan, site, store: InMemoryStateStore(), provider: RecordingProvider(),
                                         options: ApplyOptions(parallelism: 1, maxAttempts: 3, failpoints: try Failpoints(parsing: "provider.call=error@1+"), clock: ManualWallClock()))
        #expect(!outcome.succeeded)
        #expect(outcome.failed.allSatisfy { $0.error.contains("gave up after 3 attempts") })
    }

    @Test func aTerminalErrorSkipsOnlyWhatDependsOnIt() async throws {
        let site = Self.site()
        let plan = site.plan()
        let store = InMemoryStateStore(), provider = RecordingProvider()
        let outcome = try await Self.run(plan, site, store: store, provider: provider,
                                         options: ApplyOptions(parallelism: 1, failpoints: try Failpoints(parsing: "provider.call=terminal@1")))
        let failedNode = try #require(outcome.failed.first?.change.resource.name)
        #expect(outcome.failed.count == 1)
        #expect(outcome.status == .partial)
        #expect(!outcome.skipped.isEmpty)
        for change in outcome.skipped {
            let touches = change.resource.name == failedNode || (change.toNodes ?? []).contains(failedNode)
            #expect(touches || change.action == .powerOff, "\(change.action) \(change.resource) was skipped but does not depend on \(failedNode)")
        }
        // The store holds exactly what was done.
        let stored = try store.load()
        #expect(stored.target.nodes[failedNode]?.pool == nil)
        #expect(stored.target.nodes[failedNode]?.powerState == .off)
        let placed = stored.target.workloads["w"]?.replicas ?? []
        #expect(!placed.contains { $0.nodes.contains(failedNode) })
        #expect(placed.count + (stored.target.workloads["w"]?.unplaced ?? 0) == 4)
        let record = try #require(try store.history().last)
        #expect(record.status == .partial && record.failed == 1 && record.skipped == outcome.skipped.count)
        // A second apply plans only what is left and finishes it.
        var after = site
        for (node, state) in stored.target.nodes { after.observed.nodes[node]?.powerState = state.powerState }
        let rest = after.plan(current: stored.target)
        #expect(rest.changes.count <= outcome.skipped.count + outcome.failed.count)
    }

    @Test func noTargetEverHasMoreThanMaxUnavailableMembersDisrupted() async throws {
        // Apply, then lose a rack: the moves of the spread workload go in waves of one.
        let site = Self.site(budget: 1, replicas: 6)
        let store = InMemoryStateStore(), provider = RecordingProvider()
        let first = site.plan()
        _ = try await Self.run(first, site, store: store, provider: provider, options: ApplyOptions(parallelism: 8))
        var failed = site
        for node in failed.observed.nodes.keys {
            failed.observed.nodes[node]?.powerState = first.target.nodes[node]?.powerState ?? .off
            if failed.observed.nodes[node]?.labels["rack"] == "r01" { failed.observed.nodes[node]?.health = .failed }
        }
        var plan = failed.plan(current: try store.load().target)
        plan.stateSerial = 1
        let disruptive = plan.changes.filter { $0.resource.kind == "Workload" && ($0.action == .move || $0.action == .evict) }
        #expect(disruptive.count >= 2, "the rack held replicas: \(plan.changes.map { "\($0.action) \($0.resource)" })")
        #expect(plan.waves == disruptive.count)

        let inFlight = Mutex([String: Int]()), peak = Mutex([String: Int]())
        let replicasAlive = Mutex(Set((try store.load().target.workloads["w"]?.replicas ?? []).map(\.index)))
        let lowest = Mutex(Int.max)
        let outcome = try await Self.run(plan, failed, store: store, provider: provider,
                                         options: ApplyOptions(parallelism: 8, failpoints: try Failpoints(parsing: "apply.action=sleep:5"))) { event in
            let key = event.change.resource.description
            let disrupts = event.change.resource.kind == "Workload" && (event.change.action == .move || event.change.action == .evict)
            switch event.kind {
            case .started where disrupts:
                inFlight.withLock { $0[key, default: 0] += 1; let now = $0[key]!; peak.withLock { $0[key] = max($0[key] ?? 0, now) } }
            case .done where disrupts, .failed where disrupts:
                inFlight.withLock { $0[key, default: 0] -= 1 }
                if event.change.action == .evict, let index = event.change.replica {
                    replicasAlive.withLock { _ = $0.remove(index) }
                }
            case .done where event.change.action == .place:
                if let index = event.change.replica { replicasAlive.withLock { _ = $0.insert(index) } }
            default: break
            }
            let alive = replicasAlive.withLock { $0.count }
            lowest.withLock { $0 = min($0, alive) }
        }
        #expect(outcome.succeeded)
        #expect((peak.withLock { $0["Workload/w"] } ?? 0) == 1, "maxUnavailable 1: one member disrupted at a time")
        let wanted = min(6, plan.target.workloads["w"]?.replicas.count ?? 0)
        #expect(lowest.withLock { $0 } >= min(wanted, 6 - disruptive.filter { $0.action == .evict }.count),
                "a move keeps its replica running: replicas never drop below what the plan keeps")
    }
}

@Suite(.timeLimit(.minutes(5)))
struct JournalTests {
    static func sqlite() throws -> SQLiteStateStore {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-journal-\(UUID().uuidString)")
        return try SQLiteStateStore(path: directory.appendingPathComponent("state.db").path)
    }

    @Test(arguments: StateStoreTests.Kind.allCases)
    func aLiveHolderLocksOthersOutNamingItself(_ kind: StateStoreTests.Kind) throws {
        let store = try StateStoreTests.makeStore(kind)
        let me = LockHolder.current(command: "apply")
        #expect(try store.acquireLock(me, isStale: { $0.isAlive == false }) == nil)
        let other = LockHolder(host: me.host, pid: me.pid, processStart: me.processStart, since: Date(), command: "apply")
        #expect { try store.acquireLock(other, isStale: { $0.isAlive == false }) } throws: { error in
            guard let error = error as? DCApplyError, error.code == .locked else { return false }
            return error.description.contains("pid \(me.pid) on \(me.host)") && error.description.contains("wait for it to finish")
        }
        try store.releaseLock(me)
        #expect(try store.lockHolder() == nil)
    }

    @Test(arguments: StateStoreTests.Kind.allCases)
    func aDeadHoldersLockIsTakenOver(_ kind: StateStoreTests.Kind) throws {
        let store = try StateStoreTests.makeStore(kind)
        // A process that has exited: its pid is free (or reused, which the start token tells).
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        let dead = LockHolder(host: ProcessInfo.processInfo.hostName, pid: process.processIdentifier, processStart: "0", since: Date(), command: "apply")
        #expect(dead.isAlive == false)
        _ = try store.acquireLock(dead, isStale: { _ in false })
        let me = LockHolder.current(command: "apply")
        #expect(try store.acquireLock(me, isStale: { $0.isAlive == false })?.pid == dead.pid)
        #expect(try store.lockHolder()?.pid == me.pid)
    }

    @Test func aHolderOnAnotherHostIsNeitherAliveNorDead() {
        let remote = LockHolder(host: "elsewhere.example", pid: 1, processStart: nil, since: Date(), command: "apply")
        #expect(remote.isAlive == nil)
        let error = DCApplyError.locked(by: remote, path: "x")
        #expect(error.description == "the state store x is locked by \(remote); it runs on another host", "the core names no flag")
        #expect(error.hint == .breakLockOfRemoteHolder, "the shell words the remedy")
    }

    @Test func failpointsParseAndCount() throws {
        let points = try Failpoints(parsing: "apply.action=crash@17, provider.call=error@3+,apply.action=sleep:20")
        #expect(points.hit(.applyAction) == [.sleep(milliseconds: 20)])
        for _ in 2...16 { _ = points.hit(.applyAction) }
        #expect(points.hit(.applyAction) == [.crash, .sleep(milliseconds: 20)])
        #expect(points.hit(.providerCall).isEmpty && points.hit(.providerCall).isEmpty)
        #expect(points.hit(.providerCall) == [.transientError] && points.hit(.providerCall) == [.transientError])
        #expect { try Failpoints(parsing: "apply.action=explode") } throws: { ($0 as? DCApplyError)?.code == .usage }
        #expect { try Failpoints(parsing: "nothing=crash") } throws: { ($0 as? DCApplyError)?.code == .usage }
    }

    /// Crash (in process) after every action of an apply and before every journal batch it
    /// writes, resume each time, and compare with an apply that ran through: same state, no
    /// power call twice.
    @Test(arguments: [1, 4])
    func aCrashAtEveryStepIsResumedExactly(parallelism: Int) async throws {
        let site = ExecutorTests.site()
        let plan = site.plan()
        let reference = JournalSpyStore(InMemoryStateStore())
        _ = try await ExecutorTests.run(plan, site, store: reference, provider: RecordingProvider(), options: ApplyOptions(parallelism: parallelism))
        let expected = try reference.load().target
        let powers = plan.changes.filter { $0.action == .powerOn || $0.action == .powerOff }.count
        let batches = reference.timeline.withLock { $0 }.count
        #expect(batches > 1 && batches < plan.changes.count)

        let points = (1...plan.changes.count).map { (Failpoints.Name.applyAction, $0) } + (1...batches).map { (Failpoints.Name.journalBatch, $0) }
        var tornBatches = 0
        for (name, crashAt) in points {
            let store = try Self.sqlite()
            let provider = RecordingProvider()
            let local = LocalProvider(store: store)
            // The local provider's hardware lives in the store; the recording one counts calls.
            let both = CombinedProvider(local: local, recorder: provider)
            do {
                _ = try await Executor(store: store, logger: ExecutorTests.logger,
                                       options: ApplyOptions(parallelism: parallelism, failpoints: .simulatedCrash(atAction: crashAt, on: name)))
                    .apply(plan, desired: site.desired, observed: site.observed, provider: { _ in both })
                // How outcomes fall into batches depends on when the provider's calls end, so an
                // apply may write fewer batches than the reference did.
                if name == .applyAction { Issue.record("\(name.rawValue)=crash@\(crashAt) did not crash") }
                continue
            } catch is Failpoints.SimulatedCrash {}
            if name == .journalBatch { tornBatches += 1 }
            let unfinished = try #require(try store.unfinishedApply(), "\(name.rawValue)=crash@\(crashAt) leaves the apply open")
            // Re-observe: the power states reached before the crash are on the hardware.
            var observed = site.observed
            for (node, override) in try store.overrides() { if let power = override.powerState { observed.nodes[node]?.powerState = power } }
            let outcome = try await Executor(store: store, logger: ExecutorTests.logger, options: ApplyOptions(parallelism: 1))
                .resume(unfinished, plan: try Plan(json: unfinished.planJSON, source: "journal"), desired: site.desired, observed: observed, provider: { _ in both })
            #expect(outcome.succeeded && outcome.status == .resumed)
            #expect(try store.load().target == expected, "\(name.rawValue)=crash@\(crashAt)")
            #expect(provider.count == powers, "\(name.rawValue)=crash@\(crashAt): \(provider.count) power calls for \(powers) power changes")
            #expect(try store.unfinishedApply() == nil)
            #expect(try store.history().map(\.status) == [.resumed])
        }
        #expect(tornBatches > 1, "the apply crashed before \(tornBatches) of the reference's \(batches) batches")
    }
}

/// Calls the local provider (whose hardware is the state store) and records each call.
struct CombinedProvider: HardwareProvider {
    let local: LocalProvider
    let recorder: RecordingProvider
    func observe(site: Site) async throws -> (nodes: [ObservedNode], diagnostics: [Diagnostic]) { ([], []) }
    func setPower(_ state: PowerState, node: String, site: Site) async throws {
        try await recorder.setPower(state, node: node, site: site)
        try local.setPower(state, node: node, site: site)
    }
}

/// The sample site of the repository, crashed at every journal step of its first apply.
@Suite(.timeLimit(.minutes(20)))  // in process, but about 1,500 crash points: minutes on a loaded machine
struct SampleSiteCrashTests {
    static let manifests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Manifests").path

    /// For every action N of the first apply of `Manifests/`: die after its provider call and
    /// before its outcome is journalled (`apply.action`), and — for power actions — after its
    /// start is journalled and before the provider is called (`provider.call`); and before
    /// every journal batch the apply writes (`journal.batch`); then resume on
    /// re-observed hardware. Every run must end in the state an uninterrupted apply reaches,
    /// with each power change made once. (In process, with the in-memory store, so that all
    /// 719 × 2 crash points and the batches run in seconds; the CLI tests kill the real binary at
    /// some of them.)
    @Test func everyJournalStepOfTheSampleSitesFirstApply() async throws {
        let loader = Reconciler(store: InMemoryStateStore(), solver: PortfolioPlacementSolver(solveTime: 0.2), logger: ExecutorTests.logger)
        let site = try await loader.load([Self.manifests])
        #expect(!site.diagnostics.hasErrors)
        let plan = try loader.plan(site)
        let powers = plan.changes.filter { $0.action == .powerOn || $0.action == .powerOff }.count
        #expect(plan.changes.count > 500 && powers > 0)
        let reference = JournalSpyStore(InMemoryStateStore())
        _ = try await ExecutorTests.run(plan, TestSite(site), store: reference, provider: RecordingProvider(), options: ApplyOptions(parallelism: 1))
        let expected = try reference.load().target
        let batches = reference.timeline.withLock { $0 }.count

        var points: [(Failpoints.Name, Int)] = (1...plan.changes.count).map { (.applyAction, $0) }
        points += (1...powers).map { (.providerCall, $0) }
        points += (1...batches).map { (.journalBatch, $0) }
        var tornBatches = 0
        for (name, n) in points {
            let store = InMemoryStateStore(), recorder = RecordingProvider()
            let provider = CombinedProvider(local: LocalProvider(store: store), recorder: recorder)
            do {
                _ = try await Executor(store: store, logger: ExecutorTests.logger, options: ApplyOptions(parallelism: 1, failpoints: .simulatedCrash(atAction: n, on: name)))
                    .apply(plan, desired: site.desired, observed: site.observed, provider: { _ in provider })
                // How outcomes fall into batches depends on when the provider's calls end, so an
                // apply may write fewer batches than the reference did.
                if name != .journalBatch { Issue.record("\(name.rawValue)=crash@\(n) did not crash") }
                continue
            } catch is Failpoints.SimulatedCrash {}
            if name == .journalBatch { tornBatches += 1 }
            guard let unfinished = try store.unfinishedApply() else {
                Issue.record("\(name.rawValue)=crash@\(n) left no unfinished apply")
                continue
            }
            var observed = site.observed
            for (node, override) in try store.overrides() { if let power = override.powerState { observed.nodes[node]?.powerState = power } }
            let outcome = try await Executor(store: store, logger: ExecutorTests.logger, options: ApplyOptions(parallelism: 1))
                .resume(unfinished, plan: try Plan(json: unfinished.planJSON, source: "journal"), desired: site.desired, observed: observed, provider: { _ in provider })
            #expect(outcome.succeeded, "\(name.rawValue)=crash@\(n)")
            // Compared as `state show -o json` prints them: a resumed apply reads its plan back
            // from the journal's JSON, where TiB and watts are rounded.
            #expect(Self.shown(try store.load().target) == Self.shown(expected), "\(name.rawValue)=crash@\(n): the final state differs")
            #expect(recorder.count == powers, "\(name.rawValue)=crash@\(n): \(recorder.count) power calls for \(powers) power changes")
        }
        #expect(tornBatches > batches / 2, "the apply crashed before \(tornBatches) of the reference's \(batches) batches")
    }
}

extension SampleSiteCrashTests {
    static func shown(_ target: TargetState) -> String { PlanDocument.encode(PlanDocument.target(target, draws: [:])) }
}

extension TestSite {
    init(_ loaded: LoadedSite) {
        desired = loaded.desired
        observed = loaded.observed
    }
}
