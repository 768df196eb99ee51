import DCApplyCore
import DCApplyServer
import Foundation
import Logging
import NIOCore
import Synchronization

/// A site's leadership among `dcapply serve` processes sharing one PostgreSQL database: a
/// session advisory lock, `pg_try_advisory_lock(hashtext('leader:' || site))`, on a connection of
/// its own (not the store's, which takes and releases the apply lock), plus a `serve_leader`
/// row naming the holder (host, pid, since). When the leader dies its session ends and the lock
/// frees by itself; a standby's next ``tryLead()`` takes it.
///
/// Each new leader bumps the row's `epoch`; that number with the session's backend pid is its
/// ``FencingToken``, which the store's fenced writes check atomically
/// (``PostgresStateStore/fence(by:)``).
///
/// Once the session is gone (killed with `pg_terminate_backend`, the connection cut, PostgreSQL
/// restarted) ``stillLeading()`` is false; the connection is opened again (with a backoff, see
/// ``PostgresConnector``) and the next ``tryLead()`` contends again, as a standby would.
public final class PostgresSiteLeadership: SiteLeadership {
    /// What a leader's writes carry: the epoch it set on the site's `serve_leader` row when it
    /// took the lead, and the backend pid of the session that holds the leader lock.
    public struct FencingToken: Sendable, Equatable {
        public let backendPID: Int32
        public let epoch: Int
    }

    public let url: PostgresStateURL
    private let password: String?
    /// The connection the lock lives on (nil until the first try) and, while it leads, the
    /// token and the session number the lock was taken on.
    private struct Session {
        var store: PostgresStateStore?
        var token: FencingToken?
        var generation: Int?
    }

    private let session = Mutex(Session())
    private let outageLogger = Mutex<Logger?>(nil)

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
        store?.unlockAll(timeout: Self.checkTimeout)
        store?.shutdown()
    }

    /// Where outages of the leadership's connection are reported (once when one starts, once when it ends).
    public func reportOutages(to logger: Logger) {
        outageLogger.withLock { $0 = logger }
        session.withLock { $0.store }?.reportOutages(to: logger)
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

    /// The leadership's connection, opened on first use; later outages are the connector's.
    private func store() throws -> PostgresStateStore {
        if let store = session.withLock({ $0.store }) { return store }
        let opened = try PostgresStateStore(url: url, password: password)
        if let logger = outageLogger.withLock({ $0 }) { opened.reportOutages(to: logger) }
        return session.withLock { session in
            if let store = session.store { return store }
            session.store = opened
            return opened
        }
    }

    public func tryLead() throws -> Bool {
        if stillLeading() { return true }
        let store = try store()
        let me = SiteLeader.current()
        // Both statements on one session: the lock and the epoch it is fenced by.
        let taken = try store.outsideTransaction("take the site's leadership") { () -> (FencingToken, Int?)? in
            let row = try store.run("SELECT pg_try_advisory_lock(hashtext('leader:' || $1)), pg_backend_pid()", [store.site]).first
            guard let (leading, pid) = try row?.decode((Bool, Int32).self), leading else { return nil }
            let epoch = try store.run("""
                INSERT INTO serve_leader (site, host, pid, since, backend_pid, epoch) VALUES ($1, $2, $3, $4, $5, 1)
                ON CONFLICT (site) DO UPDATE SET host = excluded.host, pid = excluded.pid, since = excluded.since,
                                                 backend_pid = excluded.backend_pid, epoch = serve_leader.epoch + 1
                RETURNING epoch
                """, [store.site, .text(me.host), .int(Int(me.pid)), .text(AuditChain.timestamp(me.since)), .int(Int(pid))]).first?.decode(Int.self)
            guard let epoch else { throw DCApplyError(.stateStore, "taking the leadership of site \(url.site) returned no epoch") }
            return (FencingToken(backendPID: pid, epoch: epoch), store.pinned.withLock { $0?.generation })
        }
        guard let (token, generation) = taken else { return false }
        session.withLock { session in
            session.token = token
            session.generation = generation
        }
        return true
    }

    /// How long a leadership check waits for the server before the leadership counts as lost.
    public static let checkTimeout = TimeAmount.seconds(2)

    /// One round trip on the lock's session (at most ``checkTimeout``): while that session
    /// lives, it holds the lock. A session opened since (after an outage) holds nothing.
    public func stillLeading() -> Bool {
        guard let (store, generation) = session.withLock({ session in session.token == nil ? nil : session.store.map { ($0, session.generation) } }),
              let generation, store.ping(timeout: Self.checkTimeout, generation: generation) else {
            lose()
            return false
        }
        return true
    }

    /// The backend pid of the session holding the leadership, nil when this instance does not lead.
    public var leadingSession: Int32? {
        session.withLock { $0.token?.backendPID }
    }

    /// The token this leader's writes carry, nil when it does not lead (for ``PostgresStateStore/fence(by:)``).
    public var fencingToken: FencingToken? {
        session.withLock { $0.token }
    }

    public func leader() throws -> SiteLeader? {
        guard let store = session.withLock({ $0.store }) else { return nil }
        guard let row = try store.single("read the site's leader", """
            SELECT host, pid, since FROM serve_leader s WHERE s.site = $1 AND \(Self.heldBySQL(pid: "s.backend_pid"))
            """, [store.site]).first else { return nil }
        let (host, pid, since) = try row.decode((String, Int, String).self)
        return SiteLeader(host: host, pid: Int32(truncatingIfNeeded: pid), since: PostgresStateStore.date(since))
    }

    /// Forgets the leadership (its session is gone or does not answer); the connection itself is
    /// the connector's to open again.
    private func lose() {
        session.withLock { session in
            session.token = nil
            session.generation = nil
        }
    }
}
