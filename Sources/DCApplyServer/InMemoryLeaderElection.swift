import Synchronization

/// The lock several ``InMemorySiteLeadership`` instances contend for, standing in for the
/// database's advisory lock in in-process tests.
public final class InMemoryLeaderElection: Sendable {
    struct Holder {
        var id: Int
        var leader: SiteLeader
    }

    let holder = Mutex<Holder?>(nil)

    /// A free lock.
    public init() {}

    /// Who holds the lock, if anyone.
    public var leader: SiteLeader? { holder.withLock { $0?.leader } }

    /// Frees the lock as a dead session would (the holder does not know).
    public func revoke() { holder.withLock { $0 = nil } }
}
