import Synchronization

/// One controller's view of an ``InMemoryLeaderElection``: leads when the election is free or
/// already its own; loses the leadership when the election is revoked or taken by another.
public final class InMemorySiteLeadership: SiteLeadership {
    public let election: InMemoryLeaderElection
    /// How this controller is named in the leader row.
    public let identity: SiteLeader
    let id: Int
    /// `tryLead` fails with this error when set (the database unreachable).
    public let failure = Mutex<(any Error & Sendable)?>(nil)

    /// A contender named `identity`; `id` tells contenders apart.
    public init(election: InMemoryLeaderElection, id: Int, identity: SiteLeader) {
        self.election = election
        self.id = id
        self.identity = identity
    }

    public func tryLead() throws -> Bool {
        if let error = failure.withLock({ $0 }) { throw error }
        return election.holder.withLock { holder in
            if holder == nil { holder = .init(id: id, leader: identity) }
            return holder?.id == id
        }
    }

    public func stillLeading() -> Bool {
        election.holder.withLock { $0?.id == id }
    }

    public func leader() throws -> SiteLeader? { election.leader }
}
