import DCApplyCore
import DCApplyServer
import Foundation
import NIOCore
import Synchronization

/// A site's leadership among `dcapply serve` processes sharing one PostgreSQL database: a
/// session advisory lock, `pg_try_advisory_lock(hashtext('leader:' || site))`, on a connection of
/// its own (not the store's, which takes and releases the apply lock), plus a `serve_leader`
/// row naming the holder (host, pid, since). When the leader dies its session ends and the lock
/// frees by itself; a standby's next ``tryLead()`` takes it.
///
/// Once the session is gone (killed with `pg_terminate_backend`, the connection cut)
/// ``stillLeading()`` is false; the next ``tryLead()`` opens a new connection and contends again.
public final class PostgresSiteLeadership: SiteLeadership {
    public let url: PostgresStateURL
    private let password: String?
    /// The connection the lock lives on (nil until the first try, or after it broke) and
    /// whether it holds the lock, with that session's backend pid.
    private struct Session {
        var store: PostgresStateStore?
        var leading = false
        var backendPID: Int32?
    }

    private let session = Mutex(Session())

    /// The leadership of `url`'s site, connecting on the first ``tryLead()``.
    public init(url: PostgresStateURL, password: String?) {
        self.url = url
        self.password = password
    }

    /// The leadership of `store`'s site, on a connection of its own with the store's credentials.
    public convenience init(sharing store: PostgresStateStore) {
        self.init(url: store.url, password: store.password)
    }

    deinit { shutdown() }

    /// Closes the connection, handing the leadership (if held) to the next standby's pass.
    public func shutdown() {
        let store = session.withLock { session -> PostgresStateStore? in
            defer { session = Session() }
            return session.store
        }
        store?.shutdown()
    }

    /// An SQL expression: whether the session with backend pid `pid` (an SQL expression) holds
    /// the leader lock of the site bound as `$1`, in this database.
    static func heldBySQL(pid: String) -> String {
        """
        EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.pid = \(pid) AND l.objsubid = 1
                AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND l.classid::bigint = ((hashtext('leader:' || $1)::bigint >> 32) & 4294967295)
                AND l.objid::bigint = (hashtext('leader:' || $1)::bigint & 4294967295))
        """
    }

    public func tryLead() throws -> Bool {
        if stillLeading() { return true }
        let store: PostgresStateStore
        if let open = session.withLock({ $0.store }), open.ping(timeout: Self.checkTimeout) {
            store = open
        } else {
            drop()
            store = try PostgresStateStore(url: url, password: password)
            session.withLock { $0.store = store }
        }
        do {
            let taken = try store.single("take the site's leadership", "SELECT pg_try_advisory_lock(hashtext('leader:' || $1)), pg_backend_pid()",
                                         [store.site]).first?.decode((Bool, Int32).self)
            guard let (leading, pid) = taken, leading else { return false }
            let me = SiteLeader.current()
            try store.single("record the site's leader", """
                INSERT INTO serve_leader (site, host, pid, since, backend_pid) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (site) DO UPDATE SET host = excluded.host, pid = excluded.pid, since = excluded.since, backend_pid = excluded.backend_pid
                """, [store.site, .text(me.host), .int(Int(me.pid)), .text(AuditChain.timestamp(me.since)), .int(Int(pid))])
            session.withLock { session in
                session.leading = true
                session.backendPID = pid
            }
            return true
        } catch {
            drop()
            throw error
        }
    }

    /// How long a leadership check waits for the server before the leadership counts as lost.
    public static let checkTimeout = TimeAmount.seconds(2)

    /// One round trip on the lock's session (at most ``checkTimeout``): while that session
    /// lives, it holds the lock.
    public func stillLeading() -> Bool {
        guard let store = session.withLock({ $0.leading ? $0.store : nil }) else { return false }
        if store.ping(timeout: Self.checkTimeout) { return true }
        drop()
        return false
    }

    /// The backend pid of the session holding the leadership, nil when this instance does not
    /// lead (for ``PostgresStateStore/fence(by:)``).
    public var leadingSession: Int32? {
        session.withLock { $0.leading ? $0.backendPID : nil }
    }

    public func leader() throws -> SiteLeader? {
        guard let store = session.withLock({ $0.store }) else { return nil }
        do {
            guard let row = try store.single("read the site's leader", """
                SELECT host, pid, since FROM serve_leader s WHERE s.site = $1 AND \(Self.heldBySQL(pid: "s.backend_pid"))
                """, [store.site]).first else { return nil }
            let (host, pid, since) = try row.decode((String, Int, String).self)
            return SiteLeader(host: host, pid: Int32(truncatingIfNeeded: pid), since: PostgresStateStore.date(since))
        } catch {
            drop()
            throw error
        }
    }

    /// Forgets a broken session, so the next ``tryLead()`` connects again. It is closed on
    /// another thread: closing a connection the server cut may wait long, and the caller may be
    /// an apply asking before its next action.
    private func drop() {
        let store = session.withLock { session -> PostgresStateStore? in
            defer { session = Session() }
            return session.store
        }
        guard let store else { return }
        DispatchQueue.global().async { store.shutdown() }
    }
}
