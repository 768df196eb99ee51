import DCApplyCore

extension PostgresStateStore {
    /// The store of another site in the same database, on a connection of its own with this
    /// store's credentials: one serve running several sites keys each by its Site name.
    public func sibling(site: String) throws -> PostgresStateStore {
        var url = url
        url.site = site
        return try PostgresStateStore(url: url, password: password)
    }
}
