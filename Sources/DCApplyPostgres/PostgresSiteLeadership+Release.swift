import DCApplyServer

extension PostgresSiteLeadership: ReleasableSiteLeadership {
    /// Gives the site up by closing the leadership's connection: its session advisory lock
    /// frees with it, as when the controller dies; the next ``tryLead()`` connects again.
    public func release() { shutdown() }
}
