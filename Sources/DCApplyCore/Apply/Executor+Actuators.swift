import Foundation
import Logging

extension Executor {
    /// One actuator of one Site, as the executor routes changes to it.
    struct Claim: Hashable, Sendable, Comparable {
        var site: String
        var entry: Int

        static func < (lhs: Claim, rhs: Claim) -> Bool { (lhs.site, lhs.entry) < (rhs.site, rhs.entry) }
    }

    /// What a wave needs from the apply around it.
    struct WaveContext: Sendable {
        var journal: Int
        var plan: Plan
        var desired: DesiredState
        var observed: ObservedState
        var applied: TargetState
        var providers: [String: any HardwareProvider]
        var priorAttempts: [Int: Int]
        /// The claimants of each step of the wave, in the wave's order.
        var claimed: [[Claim]]
    }

    /// One wave of claimed changes, whose starts the apply loop journalled: the provider's part
    /// of power changes (concurrently, with retries); then each actuator in turn (Sites by name,
    /// actuators in manifest order) with the wave's changes it claims that have not failed, in
    /// one call, retrying transient failures; then the `apply.action` failpoint of each change,
    /// in plan order. Returns the outcomes for the apply loop to journal in its next batch. A
    /// change fails as soon as one of its carriers fails it.
    func performWave(_ steps: [Int], _ context: WaveContext, progress: Progress) async throws -> [Ended] {
        let plan = context.plan
        var attempts: [Int: Int] = [:]
        var outcome: [Int: StepResult] = [:]
        for i in steps { attempts[i] = (context.priorAttempts[i] ?? 0) + 1 }

        let powered = steps.filter { Self.power(plan.changes[$0]) != nil }
        if !powered.isEmpty {
            let results = try await withThrowingTaskGroup(of: (Int, StepResult, Int).self) { group in
                var results: [(Int, StepResult, Int)] = []
                var pending = powered[...]
                var running = 0
                while true {
                    while running < options.parallelism, let i = pending.popFirst() {
                        running += 1
                        let change = plan.changes[i]
                        let node = context.observed.nodes[change.resource.name]
                        let site = node.flatMap { context.desired.sites[$0.site] }
                        let provider = node.flatMap { context.providers[$0.site] }
                        let prior = context.priorAttempts[i] ?? 0
                        var attempt = attempts[i] ?? prior + 1
                        group.addTask {
                            let result = try await callProvider(i, change, journal: context.journal, site: site, provider: provider, attempt: &attempt,
                                                                priorAttempts: prior, progress: progress)
                            return (i, result, attempt)
                        }
                    }
                    guard let result = try await group.next() else { break }
                    running -= 1
                    results.append(result)
                }
                return results
            }
            for (i, result, attempt) in results {
                attempts[i] = attempt
                if case .failed = result { outcome[i] = result }
            }
        }

        var byClaim: [Claim: [Int]] = [:]
        for (position, i) in steps.enumerated() {
            for claim in context.claimed[position] { byClaim[claim, default: []].append(i) }
        }
        for claim in byClaim.keys.sorted() {
            guard let siteActuators = actuators[claim.site] else { continue }
            let actuator = siteActuators.entries[claim.entry].actuator
            let mine = (byClaim[claim] ?? []).filter { outcome[$0] == nil }
            guard !mine.isEmpty else { continue }
            let actuatorContext = ActuatorContext(site: siteActuators.site, desired: context.desired, observed: context.observed, applied: context.applied,
                                                  target: plan.target, records: ActuatorRecords(store: store, site: claim.site, actuator: actuator.name),
                                                  logger: logger)
            let failed = try await call(actuator, steps: mine, context, actuatorContext: actuatorContext, attempts: &attempts, progress: progress)
            for (i, message) in failed { outcome[i] = .failed(message) }
        }

        var results: [Ended] = []
        for i in steps {
            let result = try await conclude(plan.changes[i], outcome: outcome[i] ?? .done)
            results.append(Ended(index: i, result: result, attempts: attempts[i] ?? 1))
        }
        return results
    }

    /// Sends changes to one actuator, retrying those that fail transiently (or the whole call,
    /// when it throws a transient error) up to `maxAttempts` calls. Returns the failures.
    private func call(_ actuator: any Actuator, steps: [Int], _ context: WaveContext, actuatorContext: ActuatorContext,
                      attempts: inout [Int: Int], progress: Progress) async throws -> [Int: String] {
        let plan = context.plan
        var failures: [Int: String] = [:]
        var pending = steps
        var call = 1
        while !pending.isEmpty {
            let actions = pending.map { ActuatorAction(id: Self.actionID(journal: context.journal, index: $0), change: plan.changes[$0]) }
            var retry: [Int: String] = [:]
            do {
                try await options.failpoints.trigger(.actuatorCall)
                await progress.actuatorCall()
                let results = try await actuator.apply(actions, context: actuatorContext)
                let byID = Dictionary(results.map { ($0.id, $0.status) }, uniquingKeysWith: { first, _ in first })
                for (i, action) in zip(pending, actions) {
                    switch byID[action.id] {
                    case .done?:
                        logger.info("actuator action done", metadata: ["dcapply.actuator": "\(actuator.name)", "dcapply.action": "\(action.change.action.rawValue)",
                                                                        "dcapply.resource": "\(action.change.resource)"])
                    case .failed(let transient, let message)?:
                        if transient { retry[i] = "\(actuator.name): \(message)" } else { failures[i] = "\(actuator.name): \(message)" }
                    case nil:
                        failures[i] = "\(actuator.name): reported no result for action \(action.id)"
                    }
                }
            } catch let error as ProviderError {
                let message = error.message.hasPrefix(actuator.name) ? error.message : "\(actuator.name): \(error.message)"
                for i in pending { if error.kind == .transient { retry[i] = message } else { failures[i] = message } }
            } catch is CancellationError {
                throw CancellationError()
            } catch let crash as Failpoints.SimulatedCrash {
                throw crash
            } catch {
                for i in pending { failures[i] = "\(actuator.name): \(error)" }
            }
            guard !retry.isEmpty else { break }
            guard call < options.maxAttempts else {
                for (i, message) in retry { failures[i] = "\(message) (gave up after \(call) attempts)" }
                break
            }
            for i in retry.keys.sorted() {
                onEvent?(ApplyEvent(index: i, change: plan.changes[i], kind: .retrying(attempt: attempts[i] ?? call, error: retry[i] ?? "")))
                attempts[i, default: call] += 1
                try store.recordStep(apply: context.journal, JournalStep(index: i, state: .started, attempts: attempts[i] ?? call), change: plan.changes[i])
            }
            logger.warning("retrying after a transient actuator error", metadata: ["dcapply.actuator": "\(actuator.name)", "dcapply.actions": "\(retry.count)"])
            try await options.clock.sleep(for: Swift.Duration.milliseconds(backoffMS(call)))
            call += 1
            pending = pending.filter { retry[$0] != nil }
        }
        return failures
    }

    /// The id an actuator sees for a change: stable for the plan, the same after a resume.
    public static func actionID(journal: Int, index: Int) -> String { "\(journal).\(index)" }
}
