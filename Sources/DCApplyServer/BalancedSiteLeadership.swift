/// A site's leadership that leads only this controller's share of the sites: asked at the start
/// of each pass (between applies), it keeps, releases, contends for or leaves the site as
/// ``LeadershipBalance`` says, with every live controller counted by the balancer's
/// ``ControllerMembership``. Fencing (``stillLeading()``) is the wrapped leadership's.
public final class BalancedSiteLeadership: SiteLeadership {
    public let site: String
    public let inner: any ReleasableSiteLeadership
    public let balancer: LeadershipBalancer

    /// The leadership of `site` (`inner`), balanced by `balancer`.
    public init(site: String, inner: any ReleasableSiteLeadership, balancer: LeadershipBalancer) {
        self.site = site
        self.inner = inner
        self.balancer = balancer
    }

    public func tryLead() throws -> Bool {
        let members: (me: String, all: [String])
        do {
            members = try balancer.membership.liveMembers()
        } catch {
            // Who else is alive is unknown: keep a leadership still held, take none.
            if inner.stillLeading() { return true }
            balancer.settle(site, leading: false)
            throw error
        }
        switch balancer.choose(site, me: members.me, members: members.all) {
        case .keep:
            let leading = try settling { try inner.tryLead() }
            return leading
        case .release:
            inner.release()
            balancer.settle(site, leading: false)
            return false
        case .contend:
            return try settling { try inner.tryLead() }
        case .wait:
            return false
        }
    }

    private func settling(_ body: () throws -> Bool) throws -> Bool {
        do {
            let leading = try body()
            balancer.settle(site, leading: leading)
            return leading
        } catch {
            balancer.settle(site, leading: false)
            throw error
        }
    }

    public func stillLeading() -> Bool { inner.stillLeading() }

    public func leader() throws -> SiteLeader? {
        if inner.stillLeading() { return try inner.leader() }
        return try balancer.membership.leader(of: site) ?? inner.leader()
    }
}
