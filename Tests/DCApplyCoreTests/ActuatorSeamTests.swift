@testable import DCApplyCore
import Foundation
import Logging
import Synchronization
import Testing

/// An in-memory actuator: records every call, and fails the ids it is told to.
final class FakeActuator: Actuator {
    let name: String
    let claims: Set<Action>
    /// Transient failures left per change index (the part after the dot of an id).
    let transient: Mutex<[Int: Int]>
    let terminal: Set<Int>
    let calls = Mutex([[ActuatorAction]]())
    let observation: ActuatorObservation

    init(_ name: String = "fake", claims: Set<Action> = Set(Action.allCases), transient: [Int: Int] = [:], terminal: Set<Int> = [],
         observation: ActuatorObservation = ActuatorObservation()) {
        self.name = name
        self.observation = observation
        self.claims = claims
        self.transient = Mutex(transient)
        self.terminal = terminal
    }

    func describe() async throws -> ActuatorDescription { ActuatorDescription(actions: claims, observes: true) }
    func observe(_ context: ActuatorContext) async throws -> ActuatorObservation { observation }

    func apply(_ actions: [ActuatorAction], context: ActuatorContext) async throws -> [ActuatorResult] {
        calls.withLock { $0.append(actions) }
        return actions.map { action in
            let index = Self.index(action.id)
            if terminal.contains(index) { return ActuatorResult(id: action.id, .failed(transient: false, message: "refused")) }
            let left = transient.withLock { left -> Int in
                let count = left[index] ?? 0
                if count > 0 { left[index] = count - 1 }
                return count
            }
            return ActuatorResult(id: action.id, left > 0 ? .failed(transient: true, message: "busy") : .done)
        }
    }

    static func index(_ id: String) -> Int { Int(id.split(separator: ".").last ?? "") ?? -1 }
    var received: [Int] { calls.withLock { $0.flatMap { $0.map { Self.index($0.id) } } } }
    var callCount: Int { calls.withLock { $0.count } }
}

@Suite struct ActuatorSeamTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    static let fast = ApplyOptions(parallelism: 4, backoffMS: 1, maxBackoffMS: 2)

    /// The executor tests' site, with one (exec) actuator listed on s1.
    static func actuated(_ site: TestSite) -> TestSite {
        var site = site
        site.desired.sites["s1"]?.actuators = [.exec(ExecConfiguration(command: ["./plugin"], directory: "/"))]
        return site
    }

    static func prepared(_ site: TestSite, _ actuators: [FakeActuator]) async throws -> [String: SiteActuators] {
        var entries: [SiteActuators.Entry] = []
        for actuator in actuators { entries.append(SiteActuators.Entry(actuator: actuator, description: try await actuator.describe())) }
        return ["s1": SiteActuators(site: try #require(site.desired.sites["s1"]), entries: entries)]
    }

    static func executor(_ store: any StateStore, _ actuators: [String: SiteActuators], options: ApplyOptions = fast) -> Executor {
        Executor(store: store, logger: logger, options: options, actuators: actuators)
    }

    @Test func everyClaimedChangeReachesTheActuatorOnceWaveByWaveInGraphOrder() async throws {
        let site = Self.actuated(ExecutorTests.site())
        let plan = site.plan()
        let actuator = FakeActuator(claims: [.assign, .place, .powerOn, .drain])
        let provider = RecordingProvider()
        let outcome = try await Self.executor(InMemoryStateStore(), try await Self.prepared(site, [actuator]))
            .apply(plan, desired: site.desired, observed: site.observed, provider: { _ in provider })
        #expect(outcome.succeeded)
        let claimed = plan.changes.indices.filter { [.assign, .place, .powerOn, .drain].contains(plan.changes[$0].action) }
        #expect(claimed.count > 8, "the plan powers on, assigns and places: \(plan.summary)")
        #expect(actuator.received.sorted() == claimed, "each claimed change exactly once, nothing else")
        #expect(outcome.actuatorCalls == actuator.callCount)
        #expect(provider.count == plan.changes.filter { $0.action == .powerOn }.count, "power still goes to the provider")
        // One wave after another, each in plan order, never before what it depends on.
        let calls = actuator.calls.withLock { $0 }
        var wave: [Int: Int] = [:]
        for (number, call) in calls.enumerated() {
            let indexes = call.map { FakeActuator.index($0.id) }
            #expect(indexes == indexes.sorted())
            for index in indexes { wave[index] = number }
            #expect(call.allSatisfy { $0.id == "1.\(FakeActuator.index($0.id))" }, "ids are <journal>.<change index>")
        }
        let graph = ApplyGraph(changes: plan.changes, desired: site.desired)
        for index in claimed {
            for dependency in graph.dependencies[index] where wave[dependency] != nil {
                #expect(try #require(wave[dependency]) < (wave[index] ?? -1), "\(plan.changes[index].action) after \(plan.changes[dependency].action)")
            }
        }
        #expect(calls.count >= 3, "power on, then assign, then place are separate waves")
    }

    @Test func transientFailuresAreRetriedAndOnlyTheFailedActionsSentAgain() async throws {
        let site = Self.actuated(ExecutorTests.site())
        let plan = site.plan()
        let first = try #require(plan.changes.firstIndex { $0.action == .assign })
        let actuator = FakeActuator(claims: [.assign], transient: [first: 2])
        let outcome = try await Self.executor(InMemoryStateStore(), try await Self.prepared(site, [actuator]))
            .apply(plan, desired: site.desired, observed: site.observed, provider: { _ in RecordingProvider() })
        #expect(outcome.succeeded)
        #expect(actuator.received.filter { $0 == first }.count == 3, "two transient failures, then done")
        let assigns = plan.changes.indices.filter { plan.changes[$0].action == .assign }
        #expect(Set(actuator.received) == Set(assigns) && actuator.received.count == assigns.count + 2)
    }

    @Test func anActionThatKeepsFailingFailsAndWhatDependsOnItIsNeverSent() async throws {
        let site = Self.actuated(ExecutorTests.site())
        let plan = site.plan()
        let assign = try #require(plan.changes.firstIndex { $0.action == .assign })
        let node = plan.changes[assign].resource.name
        let placesOnIt = plan.changes.indices.filter { plan.changes[$0].action == .place && (plan.changes[$0].toNodes ?? []).contains(node) }
        #expect(!placesOnIt.isEmpty)
        for (transient, expected) in [(true, "fake: busy (gave up after 2 attempts)"), (false, "fake: refused")] {
            let actuator = FakeActuator(claims: [.assign, .place], transient: transient ? [assign: 99] : [:], terminal: transient ? [] : [assign])
            var options = Self.fast
            options.maxAttempts = 2
            let outcome = try await Self.executor(InMemoryStateStore(), try await Self.prepared(site, [actuator]), options: options)
                .apply(plan, desired: site.desired, observed: site.observed, provider: { _ in RecordingProvider() })
            #expect(outcome.failed.map(\.error) == [expected])
            #expect(Set(outcome.skipped) == Set(placesOnIt.map { plan.changes[$0] }))
            #expect(Set(actuator.received).isDisjoint(with: placesOnIt), "a skipped change never reaches the actuator")
        }
    }

    @Test func theActuatorCallFailpointFailsCallsBeforeTheyReachTheActuator() async throws {
        let site = Self.actuated(ExecutorTests.site())
        let plan = site.plan()
        let assigns = plan.changes.indices.filter { plan.changes[$0].action == .assign }
        var options = Self.fast
        options.failpoints = try Failpoints(parsing: "actuator.call=error@1")
        let retried = FakeActuator(claims: [.assign])
        let outcome = try await Self.executor(InMemoryStateStore(), try await Self.prepared(site, [retried]), options: options)
            .apply(plan, desired: site.desired, observed: site.observed, provider: { _ in RecordingProvider() })
        #expect(outcome.succeeded && retried.received.sorted() == assigns, "the injected transient error is retried, each assign sent once")

        options.failpoints = try Failpoints(parsing: "actuator.call=terminal@1")
        let refused = FakeActuator(claims: [.assign])
        let failed = try await Self.executor(InMemoryStateStore(), try await Self.prepared(site, [refused]), options: options)
            .apply(plan, desired: site.desired, observed: site.observed, provider: { _ in RecordingProvider() })
        // The first wave's call fails before it is made; later waves go through.
        let refusedIndexes = failed.failed.compactMap { failure in plan.changes.firstIndex(of: failure.change) }
        #expect(!refusedIndexes.isEmpty && Set(failed.failed.map(\.error)) == ["fake: injected terminal error (failpoint actuator.call)"])
        #expect(Set(refused.received).isDisjoint(with: refusedIndexes) && Set(refused.received).union(refusedIndexes) == Set(assigns))
    }

    @Test func aCrashMidApplyIsResumedWithoutSendingAnythingJournalledDoneAgain() async throws {
        let site = Self.actuated(ExecutorTests.site())
        let plan = site.plan()
        // A wave's outcomes are journalled in one batch once the whole wave answered: crash at
        // the first action of the second wave, so the first wave is journalled done.
        let reference = FakeActuator()
        _ = try await Self.executor(InMemoryStateStore(), try await Self.prepared(site, [reference]))
            .apply(plan, desired: site.desired, observed: site.observed, provider: { _ in RecordingProvider() })
        let waves = reference.calls.withLock { $0 }.map { $0.map { FakeActuator.index($0.id) } }
        #expect(waves.count >= 3)
        let store = InMemoryStateStore()
        let before = FakeActuator()
        var options = Self.fast
        options.failpoints = .simulatedCrash(atAction: waves[0].count + 1)
        await #expect(throws: Failpoints.SimulatedCrash.self) {
            _ = try await Self.executor(store, try await Self.prepared(site, [before]), options: options)
                .apply(plan, desired: site.desired, observed: site.observed, provider: { _ in RecordingProvider() })
        }
        let unfinished = try #require(try store.unfinishedApply())
        let done = Set(unfinished.steps.filter { $0.value.state == .done }.keys)
        #expect(done == Set(waves[0]), "the first wave journalled done before the crash, nothing of the second")
        #expect(Set(unfinished.steps.filter { $0.value.state == .started }.keys) == Set(waves[1]), "the second wave's starts are journalled")
        let after = FakeActuator()
        let outcome = try await Self.executor(store, try await Self.prepared(site, [after]))
            .resume(unfinished, plan: plan, desired: site.desired, observed: site.observed, provider: { _ in RecordingProvider() })
        #expect(outcome.succeeded && outcome.status == .resumed)
        #expect(Set(after.received).isDisjoint(with: done), "nothing journalled done is sent again")
        #expect(Set(waves[1]).isSubset(of: after.received), "the interrupted wave is sent again in full")
        #expect(Set(before.received).union(after.received) == Set(plan.changes.indices), "every change reached the actuator")
        #expect(try store.load().target == plan.target)
    }

    @Test func disruptionBudgetsSplitEvictionsIntoSeparateWaves() async throws {
        let placed = Self.actuated(ExecutorTests.site(budget: 1, replicas: 4))
        let first = placed.plan()
        let site = Self.actuated(ExecutorTests.site(budget: 1, replicas: 0))
        var observed = site.observed
        for name in observed.nodes.keys { observed.nodes[name]?.powerState = first.target.nodes[name]?.powerState ?? .off }
        let plan = Planner().plan(desired: site.desired, observed: observed, current: first.target,
                                  placement: PortfolioPlacementSolver().solve(PlacementInput(desired: site.desired, observed: observed, current: first.target)))
        let evictions = plan.changes.indices.filter { plan.changes[$0].action == .evict }
        #expect(evictions.count == 4)
        let actuator = FakeActuator(claims: [.evict])
        let store = InMemoryStateStore()
        _ = try store.commitApply(target: first.target, estimatedW: [:], powerStates: [:],
                                  record: ApplyRecord(startedAt: Date(), finishedAt: Date(), user: "u", host: "h", revision: nil, manifestDigest: "", planDigest: "", summary: "", changeCount: 0),
                                  expectedSerial: 0)
        var stale = plan
        stale.stateSerial = 1
        let outcome = try await Self.executor(store, try await Self.prepared(site, [actuator]))
            .apply(stale, desired: site.desired, observed: observed, provider: { _ in RecordingProvider() })
        #expect(outcome.succeeded)
        #expect(actuator.calls.withLock { $0.map(\.count) } == [1, 1, 1, 1], "maxUnavailable 1: one eviction per wave")
    }

    @Test func drainAndResumeArePlannedOnlyOnSitesWithActuators() throws {
        var plain = ExecutorTests.site()
        for name in plain.observed.nodes.keys { plain.observed.nodes[name]?.powerState = .on }
        var site = Self.actuated(plain)
        let applied = site.plan().target
        let off = Set(applied.nodes.filter { $0.value.powerState == .off }.keys)
        #expect(!off.isEmpty && applied.drained == Dictionary(uniqueKeysWithValues: off.map { ($0, DrainCause.powerOff) }),
                "the nodes to power off are drained first")

        // Without powerOffIdle: a failed node is drained, and resumed when healthy again.
        site.desired.energyPolicies = [:]
        plain.desired.energyPolicies = [:]
        let running = site.plan().target, plainRunning = plain.plan().target
        #expect(running.drained.isEmpty)
        site.setHealth("g-r01-n01", .failed)
        plain.setHealth("g-r01-n01", .failed)
        let failedPlan = site.plan(current: running)
        let drain = try #require(failedPlan.changes.first { $0.action == .drain })
        #expect(drain.resource == .node("g-r01-n01") && drain.to == "failed" && drain.reason == "node failed")
        #expect(!plain.plan(current: plainRunning).changes.contains { $0.action == .drain || $0.action == .resume }, "no actuator, no drain")

        site.setHealth("g-r01-n01", .healthy)
        let healed = site.plan(current: failedPlan.target)
        let resume = try #require(healed.changes.first { $0.action == .resume })
        #expect(resume.resource == .node("g-r01-n01") && resume.from == "failed")

        // Power-off: drained first, and the graph holds the power-off until the drain is done.
        var powered = ExecutorTests.site()
        for name in powered.observed.nodes.keys { powered.observed.nodes[name]?.powerState = .on }
        let first = Self.actuated(powered).plan()
        let powerOffs = first.changes.indices.filter { first.changes[$0].action == .powerOff }
        #expect(powerOffs.count == off.count)
        let graph = ApplyGraph(changes: first.changes, desired: site.desired)
        for index in powerOffs {
            let drainIndex = try #require(first.changes.firstIndex { $0.action == .drain && $0.resource == first.changes[index].resource })
            #expect(first.changes[drainIndex].to == "powerOff")
            #expect(graph.dependencies[index].contains(drainIndex))
        }
    }

    @Test func repairsOfDriftGoToTheirActuatorOnlyAndChangeNoState() async throws {
        let site = Self.actuated(ExecutorTests.site())
        let applied = site.plan().target
        var observed = site.observed
        for name in observed.nodes.keys { observed.nodes[name]?.powerState = applied.nodes[name]?.powerState ?? .off }
        let member = try #require(applied.nodes.first { $0.value.pool == "p" }?.key)
        let repair = Change(.assign, .node(member), to: "HardwarePool/p", reason: "changed outside dcapply", subject: ResourceAddress(.hardwarePool, "p"), actuator: "a")
        let plan = Planner().plan(desired: site.desired, observed: observed, current: applied,
                                  placement: PortfolioPlacementSolver().solve(PlacementInput(desired: site.desired, observed: observed, current: applied)),
                                  actuators: ActuatorFindings(repairs: [repair, repair]))
        #expect(plan.changes == [repair], "one repair, nothing else: \(plan.summary)")
        #expect(plan.target == applied)
        let json = try Plan(json: plan.json, source: "test")
        #expect(json.changes == plan.changes && json.target.drained == plan.target.drained, "the JSON plan keeps the repair's actuator and the drained nodes")

        let a = FakeActuator("a"), b = FakeActuator("b")
        _ = try await Self.executor(InMemoryStateStore(), try await Self.prepared(site, [a, b]))
            .apply(plan, desired: site.desired, observed: observed, provider: { _ in RecordingProvider() })
        #expect(a.received == [0] && b.received.isEmpty)
    }

    @Test func actuatorFindingsReachThePlanThroughTheReconciler() async throws {
        let fake = FakeActuator("watcher", observation: ActuatorObservation(
            degraded: ["g-r01-n01": "drained by a person"],
            problems: [Problem(.error, ResourceAddress(.workload, "w"), "reservation w exists and was not made by dcapply")]))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-seam-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let manifests = TestSite.manifests("""
            apiVersion: dcapply/v1
            kind: HardwarePool
            metadata: {name: p}
            spec: {site: s1, size: {nodes: 2}}
            """).replacingOccurrences(of: "provider: {local: {inventory: inventory.yaml}}",
                                      with: "provider: {local: {inventory: inventory.yaml}}\n  actuators: [{exec: {command: [./watcher]}}]")
        try manifests.write(to: directory.appendingPathComponent("site.yaml"), atomically: true, encoding: .utf8)
        try TestSite.gpuInventory(racks: 1, perRack: 3).write(to: directory.appendingPathComponent("inventory.yaml"), atomically: true, encoding: .utf8)
        let made = Mutex(0)
        let reconciler = Reconciler(store: InMemoryStateStore(), logger: Self.logger, actuators: { _, _, _, _ in
            made.withLock { $0 += 1 }
            return fake
        })
        let loaded = try await reconciler.load([directory.path])
        #expect(!loaded.diagnostics.hasErrors, "\(loaded.diagnostics)")
        #expect(loaded.observed.nodes["g-r01-n01"]?.health == .degraded, "a node someone else took out is observed degraded")
        let plan = try reconciler.plan(loaded)
        #expect(plan.problems.contains { $0.message == "reservation w exists and was not made by dcapply" })
        #expect(!plan.target.drained.keys.contains("g-r01-n01"), "dcapply does not drain what someone else took out")
        #expect(plan.target.nodes["g-r01-n01"]?.pool == nil, "a degraded node takes nothing new")
        _ = try await reconciler.load([directory.path])
        #expect(made.withLock { $0 } == 1, "actuators are made and described once per reconciler")
    }

    @Test(arguments: StateStoreTests.Kind.allCases)
    func storesKeepActuatorRecordsAndDrainedNodes(_ kind: StateStoreTests.Kind) throws {
        let store = try StateStoreTests.makeStore(kind)
        try store.setActuatorRecord(site: "s1", actuator: "slurm", key: "partition:p", value: "created")
        try store.setActuatorRecord(site: "s1", actuator: "slurm", key: "reservation:w", value: "created")
        try store.setActuatorRecord(site: "s1", actuator: "exec:x", key: "partition:p", value: "other")
        try store.setActuatorRecord(site: "s1", actuator: "slurm", key: "reservation:w", value: nil)
        #expect(try store.actuatorRecords(site: "s1", actuator: "slurm") == ["partition:p": "created"])
        #expect(try store.actuatorRecords(site: "s2", actuator: "slurm").isEmpty)
        let target = TargetState(nodes: ["n1": .init(pool: nil, powerState: .off)], drained: ["n1": .powerOff, "n2": .failed])
        _ = try store.commitApply(target: target, estimatedW: [:], powerStates: [:],
                                  record: ApplyRecord(startedAt: Date(), finishedAt: Date(), user: "u", host: "h", revision: nil, manifestDigest: "", planDigest: "", summary: "", changeCount: 0),
                                  expectedSerial: 0)
        #expect(try store.load().target == target)
    }

    @Test func theSchemaListsActuatorsAsExactlyOneOfSlurmAndExec() throws {
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(JSONSchema.manifests().utf8)) as? [String: Any])
        let definitions = try #require(schema["$defs"] as? [String: Any])
        let site = try #require(definitions["Site"] as? [String: Any])
        let spec = try #require((site["properties"] as? [String: Any])?["spec"] as? [String: Any])
        let actuators = try #require((spec["properties"] as? [String: Any])?["actuators"] as? [String: Any])
        let item = try #require(actuators["items"] as? [String: Any])
        #expect((item["oneOf"] as? [[String: [String]]])?.map { $0["required"] ?? [] } == [["slurm"], ["exec"]])
        let slurm = try #require((item["properties"] as? [String: Any])?["slurm"] as? [String: Any])
        #expect(Set(((slurm["properties"] as? [String: Any]) ?? [:]).keys) == ["conf", "prefix", "features", "drainTimeout"])
    }

    @Test func actuatorsAreValidatedWithPositions() {
        let text = """
            apiVersion: dcapply/v1
            kind: Site
            metadata: {name: s}
            spec:
              failureDomains: [rack]
              provider: {local: {inventory: inventory.yaml}}
              actuators:
                - slurm: {drainTimeout: soon, prefix: dc-}
                - exec: {command: []}
                - {}
                - slurm: {}
                  exec: {command: [x]}
                - slurm: {feature: [rack]}
            """
        let messages = ManifestParser().parse([SourceFile(path: "site.yaml", text: text)]).diagnostics.map(\.description)
        #expect(messages.contains("site.yaml:8:29: error: spec.actuators[0].slurm.drainTimeout: expected a duration such as 90s, 5m or 1h30m, got \"soon\""), "\(messages)")
        #expect(messages.contains("site.yaml:9:23: error: spec.actuators[1].exec.command: must list at least 1 item"), "\(messages)")
        #expect(messages.contains { $0.hasPrefix("site.yaml:10:7: error: spec.actuators[2]: needs exactly one of slurm, exec") }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("site.yaml:11:7: error: spec.actuators[3]: takes exactly one of slurm, exec") }, "\(messages)")
        #expect(messages.contains("site.yaml:13:7: error: spec.actuators[4]: only one slurm actuator per Site"), "\(messages)")
        #expect(messages.count == 6, "one message per mistake: \(messages)")
        #expect(messages.contains { $0.hasPrefix("site.yaml:13:15: error: spec.actuators[4].slurm.feature: unknown field \"feature\"; did you mean \"features\"?") }, "\(messages)")

        let good = text.components(separatedBy: "\n").prefix(7).joined(separator: "\n")
            + "\n    - slurm: {conf: slurm.conf, prefix: dc-, features: [rack], drainTimeout: 2m}\n    - exec: {command: [./sync, --site, s], timeout: 5s}"
        let (state, _, diagnostics) = ManifestParser().parse([SourceFile(path: "/m/site.yaml", text: good)])
        #expect(!diagnostics.hasErrors, "\(diagnostics)")
        #expect(state.sites["s"]?.actuators.count == 2)
        if case .slurm(let slurm)? = state.sites["s"]?.actuators.first {
            #expect(slurm.conf == "/m/slurm.conf" && slurm.prefix == "dc-" && slurm.features == ["rack"] && slurm.drainTimeoutSeconds == 120)
        } else {
            Issue.record("the first actuator is slurm")
        }
        if case .exec(let exec)? = state.sites["s"]?.actuators.last {
            #expect(exec.command == ["./sync", "--site", "s"] && exec.executable == "/m/./sync" && exec.timeoutSeconds == 5)
        } else {
            Issue.record("the second actuator is exec")
        }
    }
}
