import Synchronization

/// What the daemon shares between its reconcile loop and its HTTP routes: the status, the
/// metrics, a webhook waiting to be served, the stop flag and the count of failed passes in a
/// row (for the backoff). A webhook or a stop wakes a waiting loop at once: nothing polls.
public final class ServeState: Sendable {
    /// What `/status` shows; written on every exit path of a pass.
    public let status: Mutex<ServeStatus>
    /// What `/metrics` shows.
    public let metrics: ServeMetrics
    /// What the page at `/` is drawn from (the last planned pass).
    let page = ServePage()

    private struct Signal {
        var pending: PassTrigger?
        var stopping = false
        var failures = 0
        var serial: UInt64 = 0
        var waiter: (id: UInt64, continuation: CheckedContinuation<PassTrigger?, Never>)?
    }

    private let signal = Mutex(Signal())

    /// A state that starts with `status`, its metrics in `metrics` (a site of several: labelled).
    public init(status: ServeStatus, metrics: ServeMetrics = ServeMetrics()) {
        self.status = Mutex(status)
        self.metrics = metrics
    }

    /// Asks for a pass as soon as the current one ends (a webhook); wakes a waiting loop.
    public func trigger(_ trigger: PassTrigger) {
        let waiter = signal.withLock { signal -> CheckedContinuation<PassTrigger?, Never>? in
            guard let waiter = signal.waiter else {
                signal.pending = trigger
                return nil
            }
            signal.waiter = nil
            return waiter.continuation
        }
        waiter?.resume(returning: trigger)
    }

    /// The trigger waiting to be served, taken (nil when none).
    public func takeTrigger() -> PassTrigger? {
        signal.withLock { signal in
            defer { signal.pending = nil }
            return signal.pending
        }
    }

    /// No new pass starts and an apply under way stops at its next action boundary.
    public func stop() {
        let waiter = signal.withLock { signal -> CheckedContinuation<PassTrigger?, Never>? in
            signal.stopping = true
            defer { signal.waiter = nil }
            return signal.waiter?.continuation
        }
        waiter?.resume(returning: nil)
    }

    /// Whether ``stop()`` was called.
    public var isStopping: Bool { signal.withLock { $0.stopping } }

    /// Failed passes in a row (fetch, git, store or apply failures); refusals and successes reset it.
    public var failures: Int {
        get { signal.withLock { $0.failures } }
        set { signal.withLock { $0.failures = newValue } }
    }

    /// Waits for a trigger; nil once stopping or when the task is cancelled.
    public func nextTrigger() async -> PassTrigger? {
        let id = signal.withLock { signal in
            signal.serial += 1
            return signal.serial
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<PassTrigger?, Never>) in
                enum Outcome { case now(PassTrigger?), waiting }
                let outcome = signal.withLock { signal -> Outcome in
                    if signal.stopping || Task.isCancelled { return .now(nil) }
                    if let pending = signal.pending {
                        signal.pending = nil
                        return .now(pending)
                    }
                    signal.waiter = (id, continuation)
                    return .waiting
                }
                if case .now(let trigger) = outcome { continuation.resume(returning: trigger) }
            }
        } onCancel: {
            let waiter = signal.withLock { signal -> CheckedContinuation<PassTrigger?, Never>? in
                guard let waiter = signal.waiter, waiter.id == id else { return nil }
                signal.waiter = nil
                return waiter.continuation
            }
            waiter?.resume(returning: nil)
        }
    }
}
