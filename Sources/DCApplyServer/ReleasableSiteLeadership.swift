/// A ``SiteLeadership`` this controller can give up on purpose, between applies, so that
/// another controller takes the site (``BalancedSiteLeadership`` hands sites over when a
/// controller joins).
public protocol ReleasableSiteLeadership: SiteLeadership {
    /// Gives the leadership up if held; the next ``SiteLeadership/tryLead()`` contends again.
    func release()
}
