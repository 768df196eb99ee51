import Foundation
import Logging

/// How an apply runs.
public struct ApplyOptions: Sendable {
    /// Actions in flight at once (across nodes and BMCs).
    public var parallelism: Int
    /// Calls per action for transient provider errors, the first included.
    public var maxAttempts: Int
    /// First retry delay in milliseconds; each retry doubles it, up to `maxBackoffMS`, with
    /// full jitter.
    public var backoffMS: Int
    public var maxBackoffMS: Int
    public var failpoints: Failpoints
    /// Who the audit log names for this apply (a commit's signer); nil: `user@host`.
    public var actor: String?
    /// Asked before each action starts: once it answers true, no further action starts, the
    /// ones in flight finish and are journalled, and the apply ends with `ApplyStopped`, its
    /// journal left open for the next run to resume (a daemon told to shut down).
    public var shouldStop: @Sendable () -> Bool
    /// What backoff waits on and the apply record's times are read from.
    public var clock: any WallClock

    public init(parallelism: Int = 8, maxAttempts: Int = 4, backoffMS: Int = 200, maxBackoffMS: Int = 5000, failpoints: Failpoints = .none,
                actor: String? = nil, shouldStop: @escaping @Sendable () -> Bool = { false }, clock: any WallClock = SystemWallClock()) {
        self.clock = clock
        self.actor = actor
        self.shouldStop = shouldStop
        self.parallelism = max(1, parallelism)
        self.maxAttempts = max(1, maxAttempts)
        self.backoffMS = backoffMS
        self.maxBackoffMS = maxBackoffMS
        self.failpoints = failpoints
    }
}

/// What happens to one action, for progress displays and tests.
public struct ApplyEvent: Sendable {
    public enum Kind: Sendable, Equatable {
        case started
        case retrying(attempt: Int, error: String)
        case done
        case failed(String)
        case skipped(because: Int)
        /// Found already done at the provider when resuming (not called again).
        case alreadyDone
    }

    public var index: Int
    public var change: Change
    public var kind: Kind
}

/// How an apply ended.
public struct ApplyOutcome: Sendable {
    public var stored: StoredState
    public var status: ApplyStatus
    public var done: Int
    public var failed: [(change: Change, error: String)]
    public var skipped: [Change]
    /// Provider calls made by this run.
    public var providerCalls: Int
    /// Actuator `apply` calls made by this run.
    public var actuatorCalls: Int = 0

    public var succeeded: Bool { failed.isEmpty && skipped.isEmpty }
}

/// An apply asked to stop (`ApplyOptions.shouldStop`) before every action had run. Its journal
/// is left open: the next apply (or the next pass of `serve`) resumes it.
public struct ApplyStopped: Error, CustomStringConvertible, Sendable {
    public var journal: Int
    public var done: Int
    public var remaining: Int

    public var description: String {
        "apply stopped at an action boundary: \(done) actions done, \(remaining) not started; the next run resumes it"
    }
}

/// Carries out a plan as a graph of actions: journalled before and after each provider call,
/// in dependency order with bounded concurrency and disruption waves, retrying transient
/// provider errors; then records what was done in one transaction. The journal is written in
/// batches: everything that starts or ends at one turn of the walk in one `recordSteps`, before
/// anything that depends on it starts (docs/apply.md, "Journal batches").
///
/// Power changes reach the hardware provider; every change an actuator claims (see
/// ``Actuator``) reaches that actuator, in waves: the claimed changes ready at one moment go
/// to each actuator in one call, one wave at a time, after the provider's part of any power
/// change among them. Changes nobody carries are dcapply's own records, kept in the state store.
public struct Executor: Sendable {
    public let store: any StateStore
    public let logger: Logger
    public let options: ApplyOptions
    public let onEvent: (@Sendable (ApplyEvent) -> Void)?
    /// By Site name.
    public let actuators: [String: SiteActuators]

    public init(store: any StateStore, logger: Logger, options: ApplyOptions = ApplyOptions(), actuators: [String: SiteActuators] = [:],
                onEvent: (@Sendable (ApplyEvent) -> Void)? = nil) {
        self.store = store
        self.logger = logger
        self.options = options
        self.actuators = actuators
        self.onEvent = onEvent
    }

    /// The actuators that carry change `change`, as (Site, index in its entries).
    func claimants(_ change: Change, desired: DesiredState, observed: ObservedState) -> [(site: String, entry: Int)] {
        guard !actuators.isEmpty, let site = SiteActuators.site(of: change, desired: desired, observed: observed),
              let siteActuators = actuators[site] else { return [] }
        return siteActuators.entries.indices.filter { siteActuators.entries[$0].description.claims(change, actuator: siteActuators.entries[$0].actuator.name) }
            .map { (site, $0) }
    }

    /// Applies a new plan. The caller holds the apply lock.
    public func apply(_ plan: Plan, desired: DesiredState, observed: ObservedState,
                      provider: @Sendable (Site) throws -> any HardwareProvider) async throws -> ApplyOutcome {
        let started = options.clock.now
        let id = try store.beginApply(planJSON: plan.json, baseSerial: plan.stateSerial, user: Self.user, host: ProcessInfo.processInfo.hostName, startedAt: started)
        return try await run(journal: id, plan: plan, desired: desired, observed: observed, provider: provider, already: [:], started: started, resumed: false)
    }

    /// Finishes an apply a dead process left unfinished, from the freshly observed hardware:
    /// actions journalled done are not repeated; a power action journalled as started (the
    /// process may have died after the call) counts as done when the node is already in the
    /// wanted state; everything else runs now.
    public func resume(_ unfinished: UnfinishedApply, plan: Plan, desired: DesiredState, observed: ObservedState,
                       provider: @Sendable (Site) throws -> any HardwareProvider) async throws -> ApplyOutcome {
        var already: [Int: StepState] = [:]
        var attempts: [Int: Int] = [:]
        var reached: [JournalEntry] = []
        for (index, step) in unfinished.steps where plan.changes.indices.contains(index) {
            let change = plan.changes[index]
            attempts[index] = step.attempts
            if step.state == .done {
                already[index] = .done
            } else if Self.reached(change, observed: observed) && claimants(change, desired: desired, observed: observed).isEmpty {
                // (An actuator's part of a power change cannot be seen in the hardware: it runs again.)
                // The process died after the call and before journalling it: journal it now.
                already[index] = .done
                reached.append(JournalEntry(JournalStep(index: index, state: .done, attempts: step.attempts), change: change))
            }
        }
        try store.recordSteps(apply: unfinished.id, reached.sorted { $0.step.index < $1.step.index })
        return try await run(journal: unfinished.id, plan: plan, desired: desired, observed: observed, provider: provider,
                             already: already, priorAttempts: attempts, started: options.clock.now, resumed: true)
    }

    /// Closes an unfinished apply without running anything more: records what was done (and
    /// power changes the hardware shows were reached) as an interrupted apply.
    public func close(_ unfinished: UnfinishedApply, plan: Plan, observed: ObservedState) throws -> ApplyOutcome {
        var done = Set<Int>()
        for (index, step) in unfinished.steps where plan.changes.indices.contains(index) {
            if step.state == .done || (step.state == .started && Self.reached(plan.changes[index], observed: observed)) { done.insert(index) }
        }
        let base = try store.load()
        let target = PartialTarget.fold(plan, done: done, base: base.target, observed: observed)
        let record = Self.record(plan, started: unfinished.startedAt, finished: options.clock.now, status: .interrupted, done: done.count, failed: 0,
                                 skipped: plan.changes.count - done.count, user: unfinished.user, host: unfinished.host)
        let stored = try store.finishApply(unfinished.id, target: target, estimatedW: Self.draws(plan, base: base, done: done, total: done.count == plan.changes.count),
                                           powerStates: [:], record: record)
        return ApplyOutcome(stored: stored, status: .interrupted, done: done.count, failed: [],
                            skipped: plan.changes.indices.filter { !done.contains($0) }.map { plan.changes[$0] }, providerCalls: 0)
    }

    /// Whether the hardware already shows a power change.
    static func reached(_ change: Change, observed: ObservedState) -> Bool {
        guard let node = observed.nodes[change.resource.name] else { return false }
        switch change.action {
        case .powerOn: return node.powerState == .on
        case .powerOff: return node.powerState == .off
        default: return false
        }
    }

    actor Progress {
        var providerCalls = 0
        var actuatorCalls = 0
        func call() { providerCalls += 1 }
        func actuatorCall() { actuatorCalls += 1 }
    }

    enum StepResult: Sendable {
        case done
        case failed(String)
    }

    private func run(journal id: Int, plan: Plan, desired: DesiredState, observed: ObservedState,
                     provider makeProvider: @Sendable (Site) throws -> any HardwareProvider,
                     already: [Int: StepState], priorAttempts: [Int: Int] = [:], started: Date, resumed: Bool) async throws -> ApplyOutcome {
        let base = try store.load()
        let graph = ApplyGraph(changes: plan.changes, desired: desired)
        let count = plan.changes.count
        var providers: [String: any HardwareProvider] = [:]
        for change in plan.changes where change.action == .powerOn || change.action == .powerOff {
            guard let site = observed.nodes[change.resource.name]?.site, providers[site] == nil, let manifest = desired.sites[site] else { continue }
            let made = try makeProvider(manifest)
            providers[site] = options.failpoints.isEmpty ? made : FaultInjectingProvider(made, failpoints: options.failpoints)
        }

        let claimed = plan.changes.map { claimants($0, desired: desired, observed: observed) }
        // Calls the hardware provider itself: runs as a task, at most `parallelism` at once.
        let called = plan.changes.indices.map { claimed[$0].isEmpty && Self.power(plan.changes[$0]) != nil }
        var state: [StepState?] = (0..<count).map { already[$0] }
        var failures: [Int: String] = [:]
        var remaining = graph.dependencies.map(\.count)
        var dependents = Array(repeating: [Int](), count: count)
        for (i, deps) in graph.dependencies.enumerated() { for d in deps { dependents[d].append(i) } }
        // Ready to start, popped from the end (plan order): provider calls apart, as they wait for a free slot.
        var ready: [Int] = [], readyCalls: [Int] = []
        var batch = JournalBatch()
        func settle(_ i: Int) {
            for j in dependents[i] {
                remaining[j] -= 1
                if remaining[j] == 0 && state[j] == nil {
                    if called[j] { readyCalls.append(j) } else { ready.append(j) }
                }
            }
        }
        func skip(_ i: Int, because cause: Int) {
            guard state[i] == nil else { return }
            state[i] = .skipped
            batch.entries.append(JournalEntry(JournalStep(index: i, state: .skipped, attempts: 0,
                                                          error: "depends on \(plan.changes[cause].action.rawValue) \(plan.changes[cause].resource)"),
                                              change: plan.changes[i]))
            onEvent?(ApplyEvent(index: i, change: plan.changes[i], kind: .skipped(because: cause)))
            for j in dependents[i] { skip(j, because: cause) }
        }
        for i in 0..<count where state[i] == .done {
            onEvent?(ApplyEvent(index: i, change: plan.changes[i], kind: .alreadyDone))
        }
        for i in 0..<count where state[i] == .done { settle(i) }
        for i in 0..<count where state[i] == nil && remaining[i] == 0 {
            if called[i] { readyCalls.append(i) } else { ready.append(i) }
        }
        ready.sort(by: >)
        readyCalls.sort(by: >)

        // The loop journals in batches (docs/apply.md, "Journal batches"): each turn starts
        // everything ready — records-only changes at once, provider calls up to `parallelism`,
        // the next actuator wave — writes the starts and every outcome reached since the last
        // turn in one `recordSteps`, and only then calls the provider or the actuators, and
        // lets the dependents of what ended start.
        let progress = Progress()
        let completions = Completions()
        try await withThrowingTaskGroup(of: Void.self) { group in
            var inFlight = 0
            // Claimed changes wait here for the next wave; one wave is in flight at a time.
            var wave: [Int] = []
            var waveInFlight = false
            while true {
                for results in try completions.drain() {
                    inFlight -= 1
                    if results.contains(where: { !claimed[$0.index].isEmpty }) { waveInFlight = false }
                    for ended in results { batch.conclude(ended, plan.changes[ended.index]) }
                }
                // Changes dcapply only records have no effect outside the store until their
                // outcome is journalled: they are carried out here, in plan order.
                while !options.shouldStop(), let i = ready.popLast() {
                    guard state[i] == nil else { continue }
                    state[i] = .started
                    if !claimed[i].isEmpty {
                        wave.append(i)
                        continue
                    }
                    if options.failpoints.sleepsOnNextHit(.applyAction) {
                        // A slowed action (tests): in real life only a call is slow, and it
                        // runs as a task while the loop journals what ended before it.
                        try await write(batch, journal: id)
                        batch.entries = []
                    }
                    onEvent?(ApplyEvent(index: i, change: plan.changes[i], kind: .started))
                    let result = try await conclude(plan.changes[i], outcome: .done)
                    batch.conclude(Ended(index: i, result: result, attempts: (priorAttempts[i] ?? 0) + 1), plan.changes[i])
                }
                while inFlight + batch.launches.count < options.parallelism, !options.shouldStop(), let i = readyCalls.popLast() {
                    guard state[i] == nil else { continue }
                    state[i] = .started
                    batch.start(i, plan.changes[i], attempts: (priorAttempts[i] ?? 0) + 1)
                    batch.launches.append(i)
                }
                if !waveInFlight && !wave.isEmpty {
                    batch.wave = wave.sorted()
                    wave = []
                    waveInFlight = true
                    for i in batch.wave { batch.start(i, plan.changes[i], attempts: (priorAttempts[i] ?? 0) + 1) }
                }

                try await write(batch, journal: id)
                let written = batch
                batch = JournalBatch()
                // Their start is durable: call the provider and the actuators.
                for i in written.launches {
                    inFlight += 1
                    let change = plan.changes[i]
                    let node = observed.nodes[change.resource.name]
                    let site = node.flatMap { desired.sites[$0.site] }
                    let nodeProvider = node.flatMap { providers[$0.site] }
                    let prior = priorAttempts[i] ?? 0
                    onEvent?(ApplyEvent(index: i, change: change, kind: .started))
                    group.addTask {
                        do {
                            var attempt = prior + 1
                            let outcome = try await callProvider(i, change, journal: id, site: site, provider: nodeProvider, attempt: &attempt,
                                                                 priorAttempts: prior, progress: progress)
                            completions.add([Ended(index: i, result: try await conclude(change, outcome: outcome), attempts: attempt)])
                        } catch {
                            completions.fail(error)
                            throw error
                        }
                    }
                }
                if !written.wave.isEmpty {
                    inFlight += 1
                    let steps = written.wave
                    for i in steps { onEvent?(ApplyEvent(index: i, change: plan.changes[i], kind: .started)) }
                    let context = WaveContext(journal: id, plan: plan, desired: desired, observed: observed, applied: base.target,
                                              providers: providers, priorAttempts: priorAttempts,
                                              claimed: steps.map { claimed[$0].map { Claim(site: $0.site, entry: $0.entry) } })
                    group.addTask {
                        do {
                            completions.add(try await performWave(steps, context, progress: progress))
                        } catch {
                            completions.fail(error)
                            throw error
                        }
                    }
                }
                // Their outcome is durable: what depends on them may start.
                let readyBefore = ready.count, callsBefore = readyCalls.count
                for ended in written.outcomes {
                    let i = ended.index, change = plan.changes[i]
                    switch ended.result {
                    case .done:
                        state[i] = .done
                        onEvent?(ApplyEvent(index: i, change: change, kind: .done))
                        settle(i)
                    case .failed(let message):
                        state[i] = .failed
                        failures[i] = message
                        onEvent?(ApplyEvent(index: i, change: change, kind: .failed(message)))
                        logger.error("action failed", metadata: ["dcapply.resource": "\(change.resource)", "dcapply.action": "\(change.action.rawValue)",
                                                                  "dcapply.error": "\(message)"])
                        for j in dependents[i] { skip(j, because: i) }
                    }
                }
                // Only what became ready is out of order (a large list of power changes waiting
                // for a slot is not sorted again each turn).
                if ready.count > readyBefore { ready.sort(by: >) }
                if readyCalls.count > callsBefore { readyCalls.sort(by: >) }

                let canStart = (!waveInFlight && !wave.isEmpty)
                    || (!options.shouldStop() && (!ready.isEmpty || (!readyCalls.isEmpty && inFlight < options.parallelism)))
                if batch.isEmpty && !canStart && completions.isEmpty {
                    if inFlight == 0 { break }
                    // Wait for a task to end; its outcome is in `completions` (its error, if it threw, too).
                    _ = try? await group.next()
                }
            }
        }

        let done = Set((0..<count).filter { state[$0] == .done })
        if options.shouldStop() && state.contains(where: { $0 == nil }) {
            // Stopped at an action boundary: every action that started is journalled; the
            // journal stays open so that the next run resumes the same plan.
            logger.notice("apply stopped at an action boundary", metadata: ["dcapply.apply": "\(id)", "dcapply.done": "\(done.count)"])
            throw ApplyStopped(journal: id, done: done.count, remaining: state.filter { $0 == nil }.count)
        }
        let complete = done.count == count
        let target = complete ? plan.target : PartialTarget.fold(plan, done: done, base: base.target, observed: observed)
        var powerStates: [String: PowerState] = [:]
        for i in done where plan.changes[i].action == .powerOn || plan.changes[i].action == .powerOff {
            powerStates[plan.changes[i].resource.name] = plan.changes[i].action == .powerOn ? .on : .off
        }
        let skipped = (0..<count).filter { state[$0] == .skipped || state[$0] == nil }
        let status: ApplyStatus = resumed ? .resumed : complete ? .completed : .partial
        let record = Self.record(plan, started: started, finished: options.clock.now, status: status, done: done.count, failed: failures.count, skipped: skipped.count,
                                 user: Self.user, host: ProcessInfo.processInfo.hostName, actor: options.actor)
        let stored = try store.finishApply(id, target: target, estimatedW: Self.draws(plan, base: base, done: done, total: complete),
                                           powerStates: powerStates, record: record)
        return ApplyOutcome(stored: stored, status: complete ? (resumed ? .resumed : .completed) : .partial, done: done.count,
                            failed: failures.keys.sorted().map { (plan.changes[$0], failures[$0]!) },
                            skipped: skipped.map { plan.changes[$0] }, providerCalls: await progress.providerCalls,
                            actuatorCalls: await progress.actuatorCalls)
    }

    static func power(_ change: Change) -> PowerState? {
        guard change.actuator == nil else { return nil }
        return change.action == .powerOn ? .on : change.action == .powerOff ? .off : nil
    }

    /// The provider's part of a power change, with retries; `.done` for any other change.
    func callProvider(_ i: Int, _ change: Change, journal id: Int, site: Site?, provider: (any HardwareProvider)?,
                      attempt: inout Int, priorAttempts: Int, progress: Progress) async throws -> StepResult {
        guard let power = Self.power(change) else { return .done }
        while true {
            do {
                guard let provider, let site else { throw ProviderError(.terminal, node: change.resource.name, "no provider observes this node") }
                await progress.call()
                try await provider.setPower(power, node: change.resource.name, site: site)
                logger.info("power change", metadata: ["dcapply.resource": "\(change.resource)", "dcapply.power": "\(power.rawValue)"])
                return .done
            } catch let error as ProviderError where error.kind == .transient && attempt - priorAttempts < options.maxAttempts {
                onEvent?(ApplyEvent(index: i, change: change, kind: .retrying(attempt: attempt, error: error.description)))
                logger.warning("retrying after a transient provider error", metadata: ["dcapply.resource": "\(change.resource)", "dcapply.error": "\(error)"])
                try await options.clock.sleep(for: Swift.Duration.milliseconds(backoffMS(attempt)))
                attempt += 1
                try store.recordStep(apply: id, JournalStep(index: i, state: .started, attempts: attempt), change: change)
            } catch let error as ProviderError {
                return .failed(error.kind == .transient ? "\(error.message) (gave up after \(attempt - priorAttempts) attempts)" : error.message)
            } catch is CancellationError {
                throw CancellationError()
            } catch let crash as Failpoints.SimulatedCrash {
                throw crash
            } catch {
                return .failed("\(error)")
            }
        }
    }

    /// Full jitter: a random delay up to backoff × 2^(attempt-1), capped.
    func backoffMS(_ attempt: Int) -> Int {
        let ceiling = min(options.backoffMS << min(attempt - 1, 20), options.maxBackoffMS)
        return Int.random(in: 0...max(ceiling, 1))
    }

    static var user: String { ProcessInfo.processInfo.environment["USER"] ?? NSUserName() }

    static func record(_ plan: Plan, started: Date, finished: Date, status: ApplyStatus, done: Int, failed: Int, skipped: Int, user: String, host: String,
                       actor: String? = nil) -> ApplyRecord {
        ApplyRecord(startedAt: started, finishedAt: finished, user: user, host: host, revision: plan.revision, manifestDigest: plan.manifestDigest,
                    planDigest: Digest.sha256(plan.json), summary: plan.summary, changeCount: plan.changes.count,
                    status: status, done: done, failed: failed, skipped: skipped, actor: actor)
    }

    /// Estimated draw: the plan's where everything was done, else the old figure for nodes
    /// some undone change touches.
    static func draws(_ plan: Plan, base: StoredState, done: Set<Int>, total: Bool) -> [String: Double] {
        guard !total else { return plan.targetDrawW }
        var draws = plan.targetDrawW
        for (i, change) in plan.changes.enumerated() where !done.contains(i) {
            let nodes = change.resource.kind == "Node" ? [change.resource.name] : (change.toNodes ?? []) + (change.fromNodes ?? [])
            for node in nodes { draws[node] = base.estimatedW[node] ?? 0 }
        }
        return draws
    }
}
