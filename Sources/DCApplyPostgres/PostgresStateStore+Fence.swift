import DCApplyCore

extension PostgresStateStore {
    /// Fences this store's writes by a site's leadership: from now on, every write (the applied
    /// target, the journal, overrides, actuator records) runs in a transaction that first reads
    /// the site's leadership epoch `FOR SHARE` and is refused unless it is still the token's
    /// (and the token's session still holds the leader lock). A new leader bumps the epoch when
    /// it takes the lead; its `UPDATE` waits for a write under way to commit, and a write after
    /// it sees the new epoch: the check and the write are atomic. `token` is nil while this
    /// controller does not lead. Reads and the apply lock's release are not fenced: a fenced
    /// controller still lets go of what it holds.
    public func fence(by token: @escaping @Sendable () -> PostgresSiteLeadership.FencingToken?) {
        fenceToken.withLock { $0 = token }
    }

    /// A query whose one row has `valid`: whether the site's (bound as `$1`) leadership epoch is
    /// `epoch` and the session `pid` still holds the leader lock, with the site's
    /// `serve_leader` row share-locked until the transaction ends. No row: nobody ever led.
    static func fenceSQL(epoch: String, pid: String) -> String {
        """
        SELECT s.epoch = \(epoch) AND \(PostgresSiteLeadership.heldBySQL(pid: pid)) AS valid FROM serve_leader s WHERE s.site = $1 FOR SHARE OF s
        """
    }

    /// Throws unless the fencing token is still the site's leadership (nothing when unfenced),
    /// and unless the apply lock this store took (if any) is still held by its session. Runs
    /// inside the caller's transaction.
    func checkFence(_ what: String) throws {
        try checkLock(what)
        guard let source = fenceToken.withLock({ $0 }) else { return }
        guard let token = source(),
              try run(Self.fenceSQL(epoch: "$2", pid: "$3"), [site, .int(token.epoch), .int(Int(token.backendPID))]).first?.decode(Bool.self) == true else {
            throw fenceRefusal(what)
        }
    }

    /// Throws when this store took the apply lock on a session that is gone: the lock went with
    /// it (PostgreSQL restarted, the session was terminated), so another apply may hold it now.
    func checkLock(_ what: String) throws {
        guard let held = lockGeneration.withLock({ $0 }) else { return }
        guard held == pinned.withLock({ $0?.generation }) else {
            throw DCApplyError(.stateStore, "state store \(url.description): refused to \(what): the apply lock of site \(url.site) went with "
                               + "its database session (PostgreSQL restarted or the session was ended); this apply stops, and the next "
                               + "apply (or leader) finishes it")
        }
    }

    func fenceRefusal(_ what: String) -> DCApplyError {
        DCApplyError(.stateStore, "state store \(url.description): refused to \(what): this controller does not lead site \(url.site) "
                     + "(its leadership session ended or another controller took the lead); another controller carries on")
    }
}
