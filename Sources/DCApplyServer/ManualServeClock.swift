import DCApplyCore
import Foundation
import Synchronization

/// A clock a test moves by hand: `sleep(until:)` returns only when ``advance(by:)`` reaches
/// its deadline, and ``waitForSleeper()`` lets the test know the loop is waiting, so a test
/// drives the daemon's timing without sleeping or timing anything.
public final class ManualServeClock: ServeClock {
    private struct Sleeper {
        var id: UInt64
        var deadline: Date
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct Contents {
        var now: Date
        var sleepers: [Sleeper] = []
        var serial: UInt64 = 0
        var watchers: [(after: Date?, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let contents: Mutex<Contents>

    /// A clock that starts at `now` and moves only when told.
    public init(now: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        contents = Mutex(Contents(now: now))
    }

    public var now: Date { contents.withLock { $0.now } }

    /// How many tasks are asleep on this clock.
    public var sleeperCount: Int { contents.withLock { $0.sleepers.count } }

    /// The earliest deadline any task sleeps until, or nil when none sleeps.
    public var nextDeadline: Date? { contents.withLock { $0.sleepers.map(\.deadline).min() } }

    /// Waits until the clock has been advanced by `duration` (unlike ``ManualWallClock``, which
    /// advances itself): the daemon's waits are what a test drives.
    public func sleep(for duration: Swift.Duration) async throws {
        let (seconds, attoseconds) = duration.components
        try await sleep(until: now.addingTimeInterval(TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18))
    }

    public func sleep(until deadline: Date) async throws {
        let id = contents.withLock { contents in
            contents.serial += 1
            return contents.serial
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Outcome { case cancelled, due, asleep([CheckedContinuation<Void, Never>]) }
                let outcome = contents.withLock { contents -> Outcome in
                    if Task.isCancelled { return .cancelled }
                    if deadline <= contents.now { return .due }
                    contents.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    let woken = contents.watchers.filter { $0.after.map { deadline > $0 } ?? true }
                    contents.watchers.removeAll { $0.after.map { deadline > $0 } ?? true }
                    return .asleep(woken.map(\.continuation))
                }
                switch outcome {
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .due: continuation.resume()
                case .asleep(let watchers): for watcher in watchers { watcher.resume() }
                }
            }
        } onCancel: {
            let removed = contents.withLock { contents -> Sleeper? in
                guard let index = contents.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return contents.sleepers.remove(at: index)
            }
            removed?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the time on by `seconds` and wakes every sleeper whose deadline it reaches.
    public func advance(by seconds: Double) {
        let due = contents.withLock { contents -> [Sleeper] in
            contents.now = contents.now.addingTimeInterval(seconds)
            let now = contents.now
            let due = contents.sleepers.filter { $0.deadline <= now }
            contents.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Returns once a task sleeps on this clock (with a deadline later than `after`, when given):
    /// the daemon finished its pass and waits for the next.
    public func waitForSleeper(after: Date? = nil) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let asleep = contents.withLock { contents -> Bool in
                if contents.sleepers.contains(where: { sleeper in after.map { sleeper.deadline > $0 } ?? true }) { return true }
                contents.watchers.append((after, continuation))
                return false
            }
            if asleep { continuation.resume() }
        }
    }
}
