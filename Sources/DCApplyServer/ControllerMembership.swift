/// Which `dcapply serve` processes are alive on a shared state store, so that each leads its
/// share of the sites. Membership dies with the process, as the leadership locks do: a session
/// advisory lock in PostgreSQL (`PostgresControllerMembership`), an ``InMemoryMembership`` in
/// tests.
public protocol ControllerMembership: Sendable {
    /// Joins when not a member yet (or when the membership was lost), then returns this
    /// controller's member id and every live member's id (this one included), sorted.
    func liveMembers() throws -> (me: String, all: [String])
    /// Who leads `site` now, read without contending for it; nil when nobody does or when this
    /// membership cannot tell (the site's own leadership is asked then).
    func leader(of site: String) throws -> SiteLeader?
}
