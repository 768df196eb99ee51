extension InMemorySiteLeadership: ReleasableSiteLeadership {
    public func release() {
        election.holder.withLock { holder in
            if holder?.id == id { holder = nil }
        }
    }
}
