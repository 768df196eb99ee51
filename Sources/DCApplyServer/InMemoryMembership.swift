/// One controller's membership of an ``InMemoryMemberRegistry``: joins on every ask (as a
/// controller whose session was cut joins again).
public struct InMemoryMembership: ControllerMembership {
    public let registry: InMemoryMemberRegistry
    public let id: String

    /// Controller `id` in `registry`.
    public init(registry: InMemoryMemberRegistry, id: String) {
        self.registry = registry
        self.id = id
    }

    public func liveMembers() throws -> (me: String, all: [String]) {
        registry.members.withLock { _ = $0.insert(id) }
        return (id, registry.all)
    }

    public func leader(of site: String) throws -> SiteLeader? { nil }
}
