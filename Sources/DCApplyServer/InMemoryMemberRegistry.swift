import Synchronization

/// The live controllers several ``InMemoryMembership`` instances share, standing in for the
/// database's `member` locks in in-process tests.
public final class InMemoryMemberRegistry: Sendable {
    let members = Mutex<Set<String>>([])

    /// No member yet.
    public init() {}

    /// Removes a member as its dead session would (the member does not know).
    public func remove(_ id: String) { members.withLock { _ = $0.remove(id) } }

    /// The live members, sorted.
    public var all: [String] { members.withLock { $0.sorted() } }
}
