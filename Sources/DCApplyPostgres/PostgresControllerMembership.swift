import DCApplyCore
import DCApplyServer
import Foundation
import Synchronization

/// The live `dcapply serve` processes on one PostgreSQL database: each holds, on a connection
/// of its own, the session advisory lock `(member namespace, its backend pid)`, and the live
/// members are read from `pg_locks`. A controller that dies ends its session, which frees the
/// lock at once: no heartbeat, no expiry to tune, nothing to clean up. A member's id is its
/// session's backend pid; after its connection broke it joins again under a new one.
public final class PostgresControllerMembership: ControllerMembership {
    public let url: PostgresStateURL
    private let password: String?
    private let session = Mutex<(store: PostgresStateStore, id: String)?>(nil)

    /// The first key of the two-key advisory locks that say "a controller is alive" (`dcMB`);
    /// two-key locks (`objsubid = 2` in `pg_locks`) never collide with the one-key site locks.
    public static let namespace: Int32 = 0x6463_4D42

    /// Membership of `url`'s database, connecting on the first ask.
    public init(url: PostgresStateURL, password: String?) {
        self.url = url
        self.password = password
    }

    /// Membership of `store`'s database, on a connection of its own with the store's credentials.
    public convenience init(sharing store: PostgresStateStore) {
        self.init(url: store.url, password: store.password)
    }

    deinit { shutdown() }

    /// Leaves: closes the membership's connection.
    public func shutdown() {
        let store = session.withLock { session -> PostgresStateStore? in
            defer { session = nil }
            return session?.store
        }
        store?.unlockAll(timeout: PostgresSiteLeadership.checkTimeout)
        store?.shutdown()
    }

    public func liveMembers() throws -> (me: String, all: [String]) {
        let (store, me) = try joined()
        do {
            let rows = try store.single("list the live controllers", """
                SELECT l.objid::bigint FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                AND l.classid::bigint = $1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                """, [.int(Int(Self.namespace))])
            var all = try rows.map { try String($0.decode(Int.self)) }
            if !all.contains(me) { all.append(me) }
            return (me, all.sorted())
        } catch {
            drop()
            throw error
        }
    }

    public func leader(of site: String) throws -> SiteLeader? {
        let (store, _) = try joined()
        do {
            guard let row = try store.single("read a site's leader", """
                SELECT host, pid, since FROM serve_leader s WHERE s.site = $1 AND \(PostgresSiteLeadership.heldBySQL(pid: "s.backend_pid"))
                """, [.text(site)]).first else { return nil }
            let (host, pid, since) = try row.decode((String, Int, String).self)
            return SiteLeader(host: host, pid: Int32(truncatingIfNeeded: pid), since: PostgresStateStore.date(since))
        } catch {
            drop()
            throw error
        }
    }

    /// The membership's connection and id, joining (again) when it has none or it broke.
    private func joined() throws -> (PostgresStateStore, String) {
        if let open = session.withLock({ $0 }), open.store.ping(timeout: PostgresSiteLeadership.checkTimeout) { return open }
        drop()
        let store = try PostgresStateStore(url: url, password: password)
        do {
            let row = try store.single("join the live controllers", "SELECT pg_try_advisory_lock($1::integer, pg_backend_pid()), pg_backend_pid()",
                                       [.int(Int(Self.namespace))]).first?.decode((Bool, Int32).self)
            guard let (_, pid) = row else { throw DCApplyError(.stateStore, "joining the live controllers returned no row") }
            let joined = (store: store, id: String(pid))
            session.withLock { $0 = joined }
            return joined
        } catch {
            store.shutdown()
            throw error
        }
    }

    /// Forgets a broken connection (closed on another thread: closing a cut one may wait long).
    private func drop() {
        let store = session.withLock { session -> PostgresStateStore? in
            defer { session = nil }
            return session?.store
        }
        guard let store else { return }
        DispatchQueue.global().async { store.shutdown() }
    }
}
