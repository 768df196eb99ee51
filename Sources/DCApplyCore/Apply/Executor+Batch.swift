import Foundation
import Synchronization

extension Executor {
    /// One action that ended: its index in the plan, its outcome and the attempts it took.
    struct Ended: Sendable {
        var index: Int
        var result: StepResult
        var attempts: Int
    }

    /// Where the tasks of an apply (power changes, actuator waves) leave their outcomes for the
    /// apply loop, which journals them in its next batch. A task that throws (a simulated
    /// crash, a store error) leaves its error, so the loop stops at once, as a dead process would.
    final class Completions: Sendable {
        private let ended = Mutex<(results: [[Ended]], error: (any Error)?)>(([], nil))

        func add(_ results: [Ended]) { ended.withLock { $0.results.append(results) } }

        func fail(_ error: any Error) { ended.withLock { $0.error = $0.error ?? error } }

        var isEmpty: Bool { ended.withLock { $0.results.isEmpty && $0.error == nil } }

        /// The outcomes left since the last call, one array per task; throws a task's error.
        func drain() throws -> [[Ended]] {
            let (results, error) = ended.withLock { contents -> ([[Ended]], (any Error)?) in
                defer { contents.results = [] }
                return (contents.results, contents.error)
            }
            if let error { throw error }
            return results
        }
    }

    /// What the apply loop writes to the journal in one `recordSteps` call, and what it does
    /// once that call returned: starts the actions whose start it journals, and lets the
    /// dependents of the actions whose outcome it journals start.
    ///
    /// Safe because nothing that depends on an entry of the batch starts before the batch is
    /// written: a crash before or during the write is a crash a little earlier, and any part of
    /// the batch that did land is a state the journal could have been in anyway (see
    /// docs/apply.md, "Journal batches").
    struct JournalBatch {
        var entries: [JournalEntry] = []
        /// Outcomes journalled by this batch, in the order they were reached.
        var outcomes: [Ended] = []
        /// Power changes whose start this batch journals: called once it is written.
        var launches: [Int] = []
        /// The actuator wave whose start this batch journals: sent once it is written.
        var wave: [Int] = []

        var isEmpty: Bool { entries.isEmpty && outcomes.isEmpty && launches.isEmpty && wave.isEmpty }

        mutating func start(_ i: Int, _ change: Change, attempts: Int) {
            entries.append(JournalEntry(JournalStep(index: i, state: .started, attempts: attempts), change: change))
        }

        mutating func conclude(_ ended: Ended, _ change: Change) {
            switch ended.result {
            case .done:
                entries.append(JournalEntry(JournalStep(index: ended.index, state: .done, attempts: ended.attempts), change: change))
            case .failed(let message):
                entries.append(JournalEntry(JournalStep(index: ended.index, state: .failed, attempts: ended.attempts, error: message), change: change))
            }
            outcomes.append(ended)
        }
    }

    /// Writes a batch: the `journal.batch` failpoint, then one `recordSteps` call.
    func write(_ batch: JournalBatch, journal id: Int) async throws {
        guard !batch.entries.isEmpty else { return }
        try await options.failpoints.trigger(.journalBatch)
        try store.recordSteps(apply: id, batch.entries)
    }

    /// Fires the `apply.action` failpoint for an action that ended with `outcome`: an injected
    /// error fails it; a crash ends the apply before its outcome is journalled.
    func conclude(_ change: Change, outcome: StepResult) async throws -> StepResult {
        do {
            try await options.failpoints.trigger(.applyAction, node: change.resource.name)
        } catch let error as ProviderError {
            return .failed(error.message)
        }
        return outcome
    }
}
