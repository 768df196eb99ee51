import Foundation

/// Where the engine reads the time and waits: the executor's retry backoff, the timestamps the
/// state store and the journal write, the apply lock's `since`.
///
/// Contract: `now` never goes backwards within one clock; `sleep(for:)` returns once the clock
/// has advanced by at least `duration` (a manual clock advances itself and returns at once) or
/// throws `CancellationError` when the task is cancelled.
public protocol WallClock: Sendable {
    /// The current time.
    var now: Date { get }
    /// Waits `duration` on this clock.
    func sleep(for duration: Swift.Duration) async throws
}

/// The clock of the machine: `Date()` and `Task.sleep`.
public struct SystemWallClock: WallClock {
    public init() {}

    public var now: Date { Date() }

    public func sleep(for duration: Swift.Duration) async throws {
        try await Task.sleep(for: duration)
    }
}
