/// Whether this controller may act for its site. Several `dcapply serve` processes follow one
/// repository and share one state store; at any moment at most one of them leads the site and
/// acts, the others stand by. A PostgreSQL session advisory lock in `dcapply serve`
/// (`PostgresSiteLeadership`), an ``InMemorySiteLeadership`` in tests.
///
/// Contract: ``tryLead()`` never waits for another leader; it returns true while this instance
/// holds the leadership (taking it when free). ``stillLeading()`` turns false as soon as the
/// leadership may have been lost (session killed, connection cut) and stays false until a later
/// ``tryLead()`` takes it again. ``leader()`` names who leads now, nil when nobody does.
public protocol SiteLeadership: Sendable {
    /// Takes the leadership when it is free; true while this instance holds it.
    func tryLead() throws -> Bool
    /// Whether this instance still holds the leadership it took; asked before each action.
    func stillLeading() -> Bool
    /// Who leads the site now (this instance included), nil when nobody does.
    func leader() throws -> SiteLeader?
}
