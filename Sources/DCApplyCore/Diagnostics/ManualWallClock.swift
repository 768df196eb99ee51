import Foundation
import Synchronization

/// A clock that moves only when told to, for tests: `sleep(for:)` advances it by the duration
/// and returns at once, and remembers each duration asked for, so backoff is tested without
/// waiting and timestamps are known in advance.
public final class ManualWallClock: WallClock {
    private struct State {
        var now: Date
        var sleeps: [Swift.Duration] = []
    }

    private let state: Mutex<State>

    /// A clock that reads `start` until it is advanced.
    public init(start: Date = Date(timeIntervalSince1970: 1_767_225_600)) {
        state = Mutex(State(now: start))
    }

    public var now: Date { state.withLock { $0.now } }

    /// Every duration `sleep(for:)` was asked for, in order.
    public var sleeps: [Swift.Duration] { state.withLock { $0.sleeps } }

    public func sleep(for duration: Swift.Duration) async throws {
        try Task.checkCancellation()
        state.withLock {
            $0.sleeps.append(duration)
            $0.now += duration.timeInterval
        }
    }

    /// Moves the clock forward by `duration`.
    public func advance(by duration: Swift.Duration) {
        state.withLock { $0.now += duration.timeInterval }
    }
}

extension Swift.Duration {
    /// The duration in seconds, as `Date` arithmetic takes it.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
