import DCApplyCore
import Foundation

/// Where the daemon reads the time and waits: the core's ``WallClock`` (the one the executor and
/// the store read) plus waiting until a deadline, which the loop races against a webhook. The
/// system's clock in `dcapply serve`, ``ManualServeClock`` in tests, so a test moves time
/// instead of sleeping.
public protocol ServeClock: WallClock {
    /// Returns at `deadline` (at once when it has passed); throws `CancellationError` when the
    /// task is cancelled first.
    func sleep(until deadline: Date) async throws
}

extension SystemWallClock: ServeClock {
    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        if seconds > 0 { try await Task.sleep(for: .milliseconds(Int((seconds * 1000).rounded(.up)))) }
    }
}
