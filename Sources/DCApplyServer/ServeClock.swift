import Foundation

/// Where the daemon reads the time and waits: the system's clock in `dcapply serve`,
/// ``ManualServeClock`` in tests, so a test moves time instead of sleeping.
public protocol ServeClock: Sendable {
    /// The current time (status timestamps, the pass duration, the next pass's deadline).
    var now: Date { get }
    /// Returns at `deadline` (at once when it has passed); throws `CancellationError` when the
    /// task is cancelled first.
    func sleep(until deadline: Date) async throws
}

/// The system's clock: `Date()` and `Task.sleep`.
public struct SystemServeClock: ServeClock {
    /// A clock that reads the system time.
    public init() {}

    public var now: Date { Date() }

    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        if seconds > 0 { try await Task.sleep(for: .milliseconds(Int((seconds * 1000).rounded(.up)))) }
    }
}
