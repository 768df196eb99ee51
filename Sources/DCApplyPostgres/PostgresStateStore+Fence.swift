import DCApplyCore

extension PostgresStateStore {
    /// Fences this store's writes by a site's leadership: from now on, every write (the applied
    /// target, the journal, overrides, actuator records) first checks, on the server, that the
    /// session `backendPID` names still holds the site's leader lock, and is refused otherwise
    /// (that session was killed or cut, or this controller does not lead). Reads and the apply
    /// lock's release are not fenced: a fenced controller still lets go of what it holds.
    public func fence(by backendPID: @escaping @Sendable () -> Int32?) {
        fenceSession.withLock { $0 = backendPID }
    }

    /// Throws unless the fencing session holds the site's leadership; nothing when unfenced.
    /// Runs inside the caller's transaction.
    func checkFence(_ what: String) throws {
        guard let session = fenceSession.withLock({ $0 }) else { return }
        guard let pid = session(),
              try run("SELECT \(PostgresSiteLeadership.heldBySQL(pid: "$2"))", [site, .int(Int(pid))]).first?.decode(Bool.self) == true else {
            throw DCApplyError(.stateStore, "state store \(url.description): refused to \(what): this controller does not lead site \(url.site) "
                               + "(its leadership session ended); another controller carries on")
        }
    }
}
