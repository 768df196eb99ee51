import Synchronization

/// Values the process ends with instead of freeing: a 50,000-node site and its plan are
/// hundreds of thousands of strings, arrays and dictionaries, and releasing them one by one
/// after the output is written only delays the exit (decision 394). The values are pure data
/// (no file, socket or store inside); the state store is not kept, so it closes as before.
enum KeptUntilExit {
    private static let values = Mutex<[any Sendable]>([])

    /// Holds `value` until the process exits; it is never released.
    static func keep(_ value: any Sendable) {
        values.withLock { $0.append(value) }
    }
}
