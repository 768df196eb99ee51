import DCApplyCore
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Synchronization

/// The state store on PostgreSQL: one database holds many sites, every row keyed by the site
/// (`?site=` in the URL, else "default"). Holds what the SQLite store holds, with versioned
/// migrations in `schema_migrations` (see ``PostgresSchema``).
///
/// The apply lock is a session advisory lock, `pg_try_advisory_lock(hashtext(site))`, plus a row
/// naming the holder: a holder that dies releases it with its database session, so no
/// `state unlock` is ever needed after a crash.
///
/// `StateStore` is synchronous and postgres-nio is asynchronous: the store owns an event loop
/// group of one thread and one connection (a ``PostgresConnector``, which opens a new session
/// after an outage), and blocks the caller's thread on each query's future. Never call it from
/// an event loop thread (NIO forbids waiting there).
///
/// A lost session is a lost apply lock: once the lock's session is gone, writes are refused
/// until the lock is released. Fenced by a leadership (``fence(by:)``), every write checks the
/// leadership epoch in its own transaction.
public final class PostgresStateStore: StateStore {
    public let url: PostgresStateURL
    /// Kept for the site's leadership connection (``PostgresSiteLeadership``), which opens its own session.
    let password: String?
    /// The store's one session, opened again after an outage (see ``PostgresConnector``).
    let connector: PostgresConnector
    /// Held for a whole transaction, so another thread's statements never land inside it.
    private let gate = NSRecursiveLock()
    /// The session the transaction (or single statement) under way runs on: every statement of
    /// one transaction runs on one session, and none reconnects in the middle of it.
    let pinned = Mutex<PostgresConnector.Lease?>(nil)
    private let logger: Logger
    /// The fencing token that must still be the site's leadership epoch for a write to land
    /// (nil inside: not leading); nil: writes are not fenced. See ``fence(by:)``.
    let fenceToken = Mutex<(@Sendable () -> PostgresSiteLeadership.FencingToken?)?>(nil)
    /// The session number on which this store holds the apply lock (nil: it holds none). When
    /// the session changed since, the lock went with the old one: writes are refused until it
    /// is released.
    let lockGeneration = Mutex<Int?>(nil)

    /// Opens the store at `url`, connecting once and running pending migrations. Later, a
    /// broken session is opened again on the next statement (``PostgresConnector``).
    /// - Parameters:
    ///   - password: from `PGPASSWORD` or `--state-password-file`; nil for trust or peer auth.
    public init(url: PostgresStateURL, password: String?, logger: Logger = Logger(label: "dcapply.postgres")) throws {
        self.url = url
        self.password = password
        self.logger = logger
        do {
            var configuration = PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user, password: password,
                                                                 database: url.database, tls: try Self.tls(url.sslMode))
            configuration.options.connectTimeout = .seconds(10)
            connector = PostgresConnector(configuration: configuration, name: url.description, logger: logger)
        } catch {
            throw DCApplyError(.stateStore, "cannot open the state store \(url.description)", underlying: Self.readable(error))
        }
        do {
            do { _ = try connector.lease() } catch let error as DCApplyError {
                throw DCApplyError(.stateStore, "cannot open the state store \(url.description)", underlying: error)
            }
            try migrate()
        } catch {
            shutdown()
            if let error = error as? DCApplyError { throw error }
            throw DCApplyError(.stateStore, "cannot open the state store \(url.description)", underlying: Self.readable(error))
        }
    }

    deinit { shutdown() }

    /// Closes the connection (releasing any lock it holds) and stops the event loop.
    public func shutdown() {
        connector.shutdown()
    }

    /// Where PostgreSQL outages are reported: once when one starts, once when it ends.
    public func reportOutages(to logger: Logger) {
        connector.reportOutages(to: logger)
    }

    static func tls(_ mode: PostgresStateURL.SSLMode) throws -> PostgresConnection.Configuration.TLS {
        var client = TLSConfiguration.makeClientConfiguration()
        switch mode {
        case .disable: return .disable
        case .prefer:
            client.certificateVerification = .none
            return .prefer(try NIOSSLContext(configuration: client))
        case .require:
            client.certificateVerification = .none
            return .require(try NIOSSLContext(configuration: client))
        case .verifyCA:
            client.certificateVerification = .noHostnameVerification
            return .require(try NIOSSLContext(configuration: client))
        case .verifyFull:
            client.certificateVerification = .fullVerification
            return .require(try NIOSSLContext(configuration: client))
        }
    }

    // MARK: Queries

    /// Runs one statement on the session of the transaction under way (else on the open
    /// session, never opening one) and waits for all its rows.
    @discardableResult
    func run(_ sql: String, _ values: [SQLValue] = []) throws -> PostgresQueryResult {
        var binds = PostgresBindings(capacity: values.count)
        for value in values { value.bind(into: &binds) }
        let query = PostgresQuery(unsafeSQL: sql, binds: binds)
        let lease = try pinned.withLock { $0 } ?? connector.lease(reconnecting: false)
        do {
            return try lease.connection.query(query, logger: logger).wait()
        } catch {
            connector.failed(lease, error)
            throw error
        }
    }

    /// One `SELECT 1` on the open session that gives up after `timeout`: whether the session
    /// is alive. Never opens a new session (a new one holds none of the old one's locks). A
    /// query on a session the server terminated can wait forever, so this never waits longer.
    func ping(timeout: TimeAmount, generation: Int? = nil) -> Bool {
        quickly("SELECT 1", timeout: timeout, generation: generation)
    }

    /// Frees every session advisory lock of the open session (at most `timeout`), so a lock is
    /// free when `shutdown()` returns rather than when the server notices the closed socket —
    /// a moment later, longer on a loaded server. Never opens a session.
    func unlockAll(timeout: TimeAmount) {
        _ = quickly("SELECT pg_advisory_unlock_all()", timeout: timeout)
    }

    /// One statement on the open session that gives up after `timeout`; whether it succeeded.
    private func quickly(_ sql: String, timeout: TimeAmount, generation: Int? = nil) -> Bool {
        gate.lock()
        defer { gate.unlock() }
        guard let lease = try? connector.lease(reconnecting: false), generation == nil || lease.generation == generation else { return false }
        let loop = lease.connection.eventLoop
        let promise = loop.makePromise(of: Void.self)
        let timer = loop.scheduleTask(in: timeout) { promise.fail(DCApplyError(.stateStore, "no answer within \(timeout)")) }
        lease.connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).whenComplete { result in
            timer.cancel()
            switch result {
            case .success: promise.succeed(())
            case .failure(let error): promise.fail(error)
            }
        }
        do {
            try promise.futureResult.wait()
            return true
        } catch {
            // A session that does not answer counts as gone: closed, so nothing it held lingers
            // behind a new one.
            connector.failed(lease, error, discard: true)
            return false
        }
    }

    /// The session number of the open session (nil: none open now); never opens one.
    var sessionGeneration: Int? { (try? connector.lease(reconnecting: false))?.generation }

    /// Runs `body` with every statement on one session: the transaction's own when one is under
    /// way, else the open session, opened again first when it broke (and the backoff allows).
    private func pinnedSession<T>(_ body: (PostgresConnector.Lease) throws -> T) throws -> T {
        if let lease = pinned.withLock({ $0 }) { return try body(lease) }
        let lease = try connector.lease()
        pinned.withLock { $0 = lease }
        defer { pinned.withLock { $0 = nil } }
        return try body(lease)
    }

    /// Runs `body` in one transaction, rolled back when it throws.
    @discardableResult
    func transaction<T>(_ what: String, _ body: () throws -> T) throws -> T {
        gate.lock()
        defer { gate.unlock() }
        do {
            return try pinnedSession { _ in
                try run("BEGIN")
                do {
                    let result = try body()
                    try run("COMMIT")
                    return result
                } catch {
                    _ = try? run("ROLLBACK")
                    throw error
                }
            }
        } catch let error as DCApplyError {
            throw error
        } catch {
            throw DCApplyError(.stateStore, "state store \(url.description): cannot \(what)", underlying: Self.readable(error))
        }
    }

    /// Runs one statement on its own (autocommit: one round trip, not three), under the same gate.
    @discardableResult
    func single(_ what: String, _ sql: String, _ values: [SQLValue] = []) throws -> PostgresQueryResult {
        try outsideTransaction(what) { try run(sql, values) }
    }

    /// Runs `body`'s statements on one session without a transaction (each commits on its own),
    /// under the gate; errors worded as the transaction's.
    func outsideTransaction<T>(_ what: String, _ body: () throws -> T) throws -> T {
        gate.lock()
        defer { gate.unlock() }
        do { return try pinnedSession { _ in try body() } } catch let error as DCApplyError { throw error } catch {
            throw DCApplyError(.stateStore, "state store \(url.description): cannot \(what)", underlying: Self.readable(error))
        }
    }

    /// PSQLError hides the server's message from `description` (it may hold data); the
    /// store's messages name the SQLSTATE and the server's text, which never hold a password.
    static func readable(_ error: any Error) -> any Error {
        guard let error = error as? PSQLError else { return error }
        if let message = error.serverInfo?[.message] {
            return DCApplyError(.stateStore, "\(message) (SQLSTATE \(error.serverInfo?[.sqlState] ?? "?"))")
        }
        // A connection error carries the socket's own error (connection refused, reset...).
        return DCApplyError(.stateStore, "\(error.code)" + (error.underlying.map { " (\($0))" } ?? ""))
    }

    private func migrate() throws {
        try transaction("migrate the schema") {
            // One migrator at a time across every process sharing the database.
            try run("SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLockKey))")
            try run("CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY NOT NULL, applied_at TEXT NOT NULL)")
            let applied = Set(try run("SELECT version FROM schema_migrations").map { try $0.makeRandomAccess()["version"].decode(String.self) })
            for migration in PostgresSchema.migrations where !applied.contains(migration.version) {
                for statement in migration.statements { try run(statement) }
                try run("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                        [.text(migration.version), .text(AuditChain.timestamp(Date()))])
            }
        }
    }

    var site: SQLValue { .text(url.site) }

    // MARK: StateStore

    public func load() throws -> StoredState {
        try transaction("read the applied state") {
            var target = TargetState()
            var draws: [String: Double] = [:]
            for row in try run("SELECT node, pool, power_state, estimated_w FROM node_assignment WHERE site = $1", [site]) {
                let (node, pool, power, draw) = try row.decode((String, String?, String, Double).self)
                target.nodes[node] = .init(pool: pool, powerState: PowerState(rawValue: power) ?? .on)
                draws[node] = draw
            }
            var replicas: [String: [Int: [String]]] = [:]
            for row in try run("SELECT workload, replica_index, node FROM replica WHERE site = $1 ORDER BY workload, replica_index, position", [site]) {
                let (workload, index, node) = try row.decode((String, Int, String).self)
                replicas[workload, default: [:]][index, default: []].append(node)
            }
            for row in try run("SELECT workload, unplaced FROM workload_state WHERE site = $1", [site]) {
                let (name, unplaced) = try row.decode((String, Int).self)
                let placements = (replicas[name] ?? [:]).map { ReplicaPlacement(index: $0.key, nodes: $0.value) }
                target.workloads[name] = .init(replicas: placements, unplaced: unplaced)
            }
            var drives: [String: [DriveAddress]] = [:]
            for row in try run("SELECT node, drive, tier FROM tier_drive WHERE site = $1", [site]) {
                let (node, drive, tier) = try row.decode((String, String, String).self)
                drives[tier, default: []].append(DriveAddress(node: node, drive: drive))
            }
            for row in try run("SELECT tier, raw_tib, satisfied FROM tier_state WHERE site = $1", [site]) {
                let (name, raw, satisfied) = try row.decode((String, Double, Bool).self)
                target.storageTiers[name] = .init(drives: drives[name] ?? [], rawTiB: raw, satisfied: satisfied)
            }
            for row in try run("SELECT policy, pool FROM access_grant WHERE site = $1 ORDER BY policy, pool", [site]) {
                let (policy, pool) = try row.decode((String, String).self)
                target.grants[policy, default: []].append(pool)
            }
            for row in try run("SELECT node, cause FROM node_drain WHERE site = $1", [site]) {
                let (node, cause) = try row.decode((String, String).self)
                target.drained[node] = DrainCause(rawValue: cause) ?? .degraded
            }
            guard let meta = try run("SELECT serial, manifest_digest, revision FROM site_state WHERE site = $1", [site]).first else {
                return StoredState(target: target, estimatedW: draws)
            }
            let (serial, digest, revision) = try meta.decode((Int, String?, String?).self)
            return StoredState(target: target, serial: serial, manifestDigest: digest, revision: revision, estimatedW: draws)
        }
    }

    public func commitApply(target: TargetState, estimatedW: [String: Double], powerStates: [String: PowerState], record: ApplyRecord,
                            expectedSerial: Int) throws -> StoredState {
        try transaction("record the apply") {
            try checkFence("record the apply")
            return try write(target: target, estimatedW: estimatedW, powerStates: powerStates, record: record, expectedSerial: expectedSerial).state
        }
    }

    /// The stored serial, with the site's state row locked until the transaction ends, so two
    /// commits from the same serial cannot both land.
    private func lockedSerial() throws -> Int {
        try run("INSERT INTO site_state (site, serial) VALUES ($1, 0) ON CONFLICT (site) DO NOTHING", [site])
        let row = try run("SELECT serial FROM site_state WHERE site = $1 FOR UPDATE", [site]).first
        return try row?.decode(Int.self) ?? 0
    }

    /// Replaces the applied target and appends the history record and audit entry; the caller's transaction.
    private func write(target: TargetState, estimatedW: [String: Double], powerStates: [String: PowerState], record: ApplyRecord,
                       expectedSerial: Int, auditActions: [String] = []) throws -> (state: StoredState, historyID: Int) {
        let serial = try lockedSerial()
        guard serial == expectedSerial else {
            throw DCApplyError(.stateStore, "the state changed since the plan was made (serial \(serial), plan made at \(expectedSerial)); plan again")
        }
        for table in ["node_assignment", "workload_state", "replica", "tier_state", "tier_drive", "access_grant", "node_drain"] {
            try run("DELETE FROM \(table) WHERE site = $1", [site])
        }
        try insert("node_assignment", ["node", "pool", "power_state", "estimated_w"], target.nodes.sorted { $0.key < $1.key }.map { node, state in
            [.text(node), .text(state.pool), .text(state.powerState.rawValue), .double(estimatedW[node] ?? 0)]
        })
        try insert("workload_state", ["workload", "unplaced"], target.workloads.map { [.text($0.key), .int($0.value.unplaced)] })
        try insert("replica", ["workload", "replica_index", "position", "node"], target.workloads.flatMap { name, state in
            state.replicas.flatMap { replica in
                replica.nodes.enumerated().map { [SQLValue.text(name), .int(replica.index), .int($0.offset), .text($0.element)] }
            }
        })
        try insert("tier_state", ["tier", "raw_tib", "satisfied"], target.storageTiers.map { [.text($0.key), .double($0.value.rawTiB), .bool($0.value.satisfied)] })
        try insert("tier_drive", ["node", "drive", "tier"], target.storageTiers.flatMap { name, state in
            state.drives.map { [SQLValue.text($0.node), .text($0.drive), .text(name)] }
        })
        try insert("access_grant", ["policy", "pool"], target.grants.flatMap { policy, pools in pools.map { [SQLValue.text(policy), .text($0)] } })
        try insert("node_drain", ["node", "cause"], target.drained.map { [.text($0.key), .text($0.value.rawValue)] })
        let now = AuditChain.timestamp(record.finishedAt)
        for (node, power) in powerStates.sorted(by: { $0.key < $1.key }) {
            try run("""
                INSERT INTO node_observed (site, node, power_state, updated_at) VALUES ($1, $2, $3, $4)
                ON CONFLICT (site, node) DO UPDATE SET power_state = excluded.power_state, updated_at = excluded.updated_at
                """, [site, .text(node), .text(power.rawValue), .text(now)])
        }
        let next = serial + 1
        try run("UPDATE site_state SET serial = $2, manifest_digest = $3, revision = $4 WHERE site = $1",
                [site, .int(next), .text(record.manifestDigest), .text(record.revision)])
        let historyID = try nextID("apply_history")
        try run("""
            INSERT INTO apply_history (site, id, started_at, finished_at, user_name, host, revision, manifest_digest, plan_digest, summary,
                                       change_count, serial, status, done, failed, skipped, resumes, actor)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
            """, [site, .int(historyID), .text(AuditChain.timestamp(record.startedAt)), .text(now), .text(record.user), .text(record.host),
                  .text(record.revision), .text(record.manifestDigest), .text(record.planDigest), .text(record.summary), .int(record.changeCount),
                  .int(next), .text(record.status.rawValue), .int(record.done), .int(record.failed), .int(record.skipped),
                  .int(record.resumes), .text(record.actor)])
        let previous = try auditEntries(last: true).last
        let entry = AuditChain.seal(AuditEntry(id: (previous?.id ?? 0) + 1, timestamp: now, actor: record.actor ?? "\(record.user)@\(record.host)",
                                               revision: record.revision, planDigest: record.planDigest, status: record.status.rawValue,
                                               actions: auditActions, previousHash: ""), after: previous)
        try insertAudit(entry)
        return (StoredState(target: target, serial: next, manifestDigest: record.manifestDigest, revision: record.revision, estimatedW: estimatedW),
                historyID)
    }

    func insertAudit(_ entry: AuditEntry) throws {
        try run("""
            INSERT INTO audit_log (site, id, at, actor, revision, plan_digest, status, actions, previous_hash, hash)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            """, [site, .int(entry.id), .text(entry.timestamp), .text(entry.actor), .text(entry.revision), .text(entry.planDigest),
                  .text(entry.status), .text(entry.actions.joined(separator: "\n")), .text(entry.previousHash), .text(entry.hash)])
    }

    /// The next id of a per-site sequence (history, journal): ids count from 1 in each site, as in SQLite.
    private func nextID(_ table: String) throws -> Int {
        try run("SELECT COALESCE(MAX(id), 0) + 1 FROM \(table) WHERE site = $1", [site]).first?.decode(Int.self) ?? 1
    }

    /// Inserts `rows` in statements of at most 1,000 rows, each row prefixed with the site.
    func insert(_ table: String, _ columns: [String], _ rows: [[SQLValue]]) throws {
        let width = columns.count + 1
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(start + 1000, rows.count)]
            var values: [SQLValue] = []
            values.reserveCapacity(chunk.count * width)
            let tuples = chunk.enumerated().map { offset, row in
                values.append(site)
                values.append(contentsOf: row)
                return "(" + (1...width).map { "$\(offset * width + $0)" }.joined(separator: ", ") + ")"
            }
            try run("INSERT INTO \(table) (site, \(columns.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", "))", values)
            start += chunk.count
        }
    }

    public func history() throws -> [ApplyRecord] {
        try transaction("read the history") {
            try run("""
                SELECT id, started_at, finished_at, user_name, host, revision, manifest_digest, plan_digest, summary, change_count, serial,
                       status, done, failed, skipped, resumes, actor
                FROM apply_history WHERE site = $1 ORDER BY id
                """, [site]).map { row in
                let cells = row.makeRandomAccess()
                func text(_ name: String) throws -> String { try cells[name].decode(String.self) }
                func optionalText(_ name: String) throws -> String? { try cells[name].decode(String?.self) }
                func int(_ name: String) throws -> Int { try cells[name].decode(Int.self) }
                return ApplyRecord(id: try int("id"), startedAt: Self.date(try text("started_at")), finishedAt: Self.date(try text("finished_at")),
                                   user: try text("user_name"), host: try text("host"), revision: try optionalText("revision"),
                                   manifestDigest: try text("manifest_digest"), planDigest: try text("plan_digest"), summary: try text("summary"),
                                   changeCount: try int("change_count"), serial: try int("serial"),
                                   status: ApplyStatus(rawValue: try text("status")) ?? .completed, done: try cells["done"].decode(Int?.self),
                                   failed: try int("failed"), skipped: try int("skipped"), resumes: try cells["resumes"].decode(Int?.self),
                                   actor: try optionalText("actor"))
            }
        }
    }

    public func auditLog() throws -> [AuditEntry] {
        try transaction("read the audit log") { try auditEntries(last: false) }
    }

    private func auditEntries(last: Bool) throws -> [AuditEntry] {
        let order = last ? "ORDER BY id DESC LIMIT 1" : "ORDER BY id"
        return try run("""
            SELECT id, at, actor, revision, plan_digest, status, actions, previous_hash, hash FROM audit_log WHERE site = $1 \(order)
            """, [site]).map { row in
            let (id, at, actor, revision, planDigest, status, actions, previousHash, hash) =
                try row.decode((Int, String, String, String?, String, String, String, String, String).self)
            return AuditEntry(id: id, timestamp: at, actor: actor, revision: revision, planDigest: planDigest, status: status,
                              actions: actions.isEmpty ? [] : actions.components(separatedBy: "\n"), previousHash: previousHash, hash: hash)
        }
    }

    public func overrides() throws -> [String: NodeOverride] {
        try transaction("read node overrides") {
            var overrides: [String: NodeOverride] = [:]
            for row in try run("SELECT node, health, power_state FROM node_observed WHERE site = $1", [site]) {
                let (node, health, power) = try row.decode((String, String?, String?).self)
                overrides[node] = NodeOverride(health: health.flatMap(Health.init(rawValue:)), powerState: power.flatMap(PowerState.init(rawValue:)))
            }
            return overrides
        }
    }

    public func setOverride(node: String, health: Health??, powerState: PowerState??) throws {
        try transaction("record the node override") {
            try checkFence("record the node override")
            let now = SQLValue.text(AuditChain.timestamp(Date()))
            try run("""
                INSERT INTO node_observed (site, node, updated_at) VALUES ($1, $2, $3)
                ON CONFLICT (site, node) DO UPDATE SET updated_at = excluded.updated_at
                """, [site, .text(node), now])
            if let health { try run("UPDATE node_observed SET health = $3 WHERE site = $1 AND node = $2", [site, .text(node), .text(health?.rawValue)]) }
            if let powerState {
                try run("UPDATE node_observed SET power_state = $3 WHERE site = $1 AND node = $2", [site, .text(node), .text(powerState?.rawValue)])
            }
        }
    }

    // MARK: Lock

    /// The advisory lock key of this site: `hashtext(site)`, computed by the server.
    private var lockKey: String { "hashtext($1)" }

    /// Takes the site's advisory lock on this store's session and records `holder`. `isStale` is
    /// not consulted: the server knows whether the last holder's session is alive, so a
    /// leftover row (its session died) is replaced and returned as the stale holder.
    public func acquireLock(_ holder: LockHolder, isStale: (LockHolder) -> Bool) throws -> LockHolder? {
        let outcome: (taken: Bool, previous: LockHolder?) = try transaction("take the apply lock") {
            let generation = pinned.withLock { $0?.generation }
            // A lock taken on an earlier session went with it: it is held no more.
            lockGeneration.withLock { if $0 != generation { $0 = nil } }
            let taken = try run("SELECT pg_try_advisory_lock(\(lockKey))", [site]).first?.decode(Bool.self) ?? false
            let previous = try holderRow()
            guard taken else { return (false, previous) }
            // Advisory locks nest within a session: taking it again through this store is a
            // second holder, refused as on SQLite, and the extra count is given back.
            let mine = try run("SELECT EXISTS (SELECT 1 FROM apply_lock WHERE site = $1 AND backend_pid = pg_backend_pid())", [site])
                .first?.decode(Bool.self) ?? false
            if mine {
                try run("SELECT pg_advisory_unlock(\(lockKey))", [site])
                return (false, previous)
            }
            try run("DELETE FROM apply_lock WHERE site = $1", [site])
            try run("""
                INSERT INTO apply_lock (site, host, pid, process_start, since, command, backend_pid)
                VALUES ($1, $2, $3, $4, $5, $6, pg_backend_pid())
                """, [site, .text(holder.host), .int(Int(holder.pid)), .text(holder.processStart), .text(AuditChain.timestamp(holder.since)),
                      .text(holder.command)])
            lockGeneration.withLock { $0 = generation }
            return (true, previous)
        }
        guard outcome.taken else {
            let who = outcome.previous.map { "\($0)" } ?? "another session (its holder row was removed)"
            throw DCApplyError(.locked, "the state store \(url.description) is locked by \(who); wait for it to finish "
                               + "(the lock goes with that process's database session, so a holder that dies releases it)")
        }
        return outcome.previous
    }

    public func releaseLock(_ holder: LockHolder) throws {
        do {
            try transaction("release the apply lock") {
                let deleted = try run("DELETE FROM apply_lock WHERE site = $1 AND host = $2 AND pid = $3 AND backend_pid = pg_backend_pid()",
                                      [site, .text(holder.host), .int(Int(holder.pid))])
                if (deleted.metadata.rows ?? 0) > 0 {
                    try run("SELECT pg_advisory_unlock(\(lockKey))", [site])
                }
            }
            lockGeneration.withLock { $0 = nil }
        } catch {
            // A lock taken on an earlier session went with it, released or not.
            let generation = sessionGeneration
            lockGeneration.withLock { if $0 != generation { $0 = nil } }
            throw error
        }
    }

    /// The holder, only while its session holds the advisory lock: a row left by a dead session is no lock.
    public func lockHolder() throws -> LockHolder? {
        try transaction("read the apply lock") {
            guard let holder = try holderRow() else { return nil }
            let held = try run("""
                SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN apply_lock a ON a.backend_pid = l.pid
                               WHERE a.site = $1 AND l.locktype = 'advisory' AND l.granted AND l.objid::bigint = (hashtext($1)::bigint & 4294967295))
                """, [site]).first?.decode(Bool.self) ?? false
            return held ? holder : nil
        }
    }

    private func holderRow() throws -> LockHolder? {
        guard let row = try run("SELECT host, pid, process_start, since, command FROM apply_lock WHERE site = $1", [site]).first else { return nil }
        let (host, pid, start, since, command) = try row.decode((String, Int, String?, String, String).self)
        return LockHolder(host: host, pid: Int32(truncatingIfNeeded: pid), processStart: start, since: Self.date(since), command: command)
    }

    /// Removes the holder row. A live session's advisory lock stays until that session ends.
    public func breakLock() throws {
        try transaction("break the apply lock") { try run("DELETE FROM apply_lock WHERE site = $1", [site]) }
    }

    // MARK: Journal

    public func beginApply(planJSON: String, baseSerial: Int, user: String, host: String, startedAt: Date) throws -> Int {
        try transaction("begin the apply journal") {
            try checkFence("begin the apply journal")
            let serial = try lockedSerial()
            guard serial == baseSerial else {
                throw DCApplyError(.stateStore, "the state changed since the plan was made (serial \(serial), plan made at \(baseSerial)); plan again")
            }
            let id = try nextID("apply_journal")
            try run("""
                INSERT INTO apply_journal (site, id, plan_json, base_serial, started_at, user_name, host) VALUES ($1, $2, $3, $4, $5, $6, $7)
                """, [site, .int(id), .text(planJSON), .int(baseSerial), .text(AuditChain.timestamp(startedAt)), .text(user), .text(host)])
            return id
        }
    }

    public func recordStep(apply: Int, _ step: JournalStep, change: Change) throws {
        let values: [SQLValue] = [site, .int(apply), .int(step.index), .text(change.action.rawValue), .text(change.resource.description),
                                  .text(step.state.rawValue), .int(step.attempts), .text(step.error.map(Secrets.redact)),
                                  .text(AuditChain.timestamp(Date()))]
        let conflict = """
            ON CONFLICT (site, apply_id, step) DO UPDATE SET state = excluded.state, attempts = excluded.attempts, error = excluded.error,
                                                             updated_at = excluded.updated_at
            """
        try outsideTransaction("journal an action") {
            try checkLock("journal an action")
            guard let source = fenceToken.withLock({ $0 }) else {
                try run("""
                    INSERT INTO journal_step (site, apply_id, step, action, resource, state, attempts, error, updated_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \(conflict)
                    """, values)
                return
            }
            // Fenced: one statement that writes only while the leadership's epoch is the token
            // (read FOR SHARE, so a new leader's bump waits for it or it sees the bump).
            guard let token = source() else { throw fenceRefusal("journal an action") }
            let written = try run("""
                WITH fence AS (\(Self.fenceSQL(epoch: "$10", pid: "$11")))
                INSERT INTO journal_step (site, apply_id, step, action, resource, state, attempts, error, updated_at)
                SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 FROM fence WHERE fence.valid \(conflict)
                """, values + [.int(token.epoch), .int(Int(token.backendPID))])
            guard (written.metadata.rows ?? 0) == 1 else { throw fenceRefusal("journal an action") }
        }
    }

    public func unfinishedApply() throws -> UnfinishedApply? {
        try transaction("read the apply journal") {
            guard let row = try run("""
                SELECT id, plan_json, base_serial, started_at, user_name, host FROM apply_journal
                WHERE site = $1 AND finished_at IS NULL ORDER BY id DESC LIMIT 1
                """, [site]).first else { return nil }
            let (id, plan, base, started, user, host) = try row.decode((Int, String, Int, String, String, String).self)
            var steps: [Int: JournalStep] = [:]
            for step in try run("SELECT step, state, attempts, error FROM journal_step WHERE site = $1 AND apply_id = $2", [site, .int(id)]) {
                let (index, state, attempts, error) = try step.decode((Int, String, Int, String?).self)
                steps[index] = JournalStep(index: index, state: StepState(rawValue: state) ?? .started, attempts: attempts, error: error)
            }
            return UnfinishedApply(id: id, planJSON: plan, baseSerial: base, startedAt: Self.date(started), user: user, host: host, steps: steps)
        }
    }

    public func finishApply(_ id: Int, target: TargetState, estimatedW: [String: Double], powerStates: [String: PowerState],
                            record: ApplyRecord) throws -> StoredState {
        try transaction("record the apply") {
            try checkFence("record the apply")
            guard let row = try run("SELECT base_serial, plan_json FROM apply_journal WHERE site = $1 AND id = $2 AND finished_at IS NULL FOR UPDATE",
                                    [site, .int(id)]).first else {
                throw DCApplyError(.stateStore, "apply \(id) is not open in the journal")
            }
            let (base, planJSON) = try row.decode((Int, String).self)
            // The journal's plan gives each step's replica and from → to for the audit log.
            let changes = (try? Plan(json: planJSON, source: "the journal"))?.changes ?? []
            let lines = try run("""
                SELECT step, action, resource, state, attempts, error FROM journal_step WHERE site = $1 AND apply_id = $2 ORDER BY step
                """, [site, .int(id)]).map { row in
                let (step, action, resource, state, attempts, error) = try row.decode((Int, String, String, String, Int, String?).self)
                return AuditChain.actionLine(step: step, action: action, resource: changes.indices.contains(step) ? AuditChain.describe(changes[step]) : resource,
                                             state: state, attempts: attempts, error: error)
            }
            let (state, historyID) = try write(target: target, estimatedW: estimatedW, powerStates: powerStates, record: record,
                                               expectedSerial: base, auditActions: lines)
            try run("UPDATE apply_journal SET finished_at = $3, history_id = $4 WHERE site = $1 AND id = $2",
                    [site, .int(id), .text(AuditChain.timestamp(record.finishedAt)), .int(historyID)])
            return state
        }
    }

    // MARK: Actuator records

    public func actuatorRecords(site resourceSite: String, actuator: String) throws -> [String: String] {
        try transaction("read the actuator records") {
            var records: [String: String] = [:]
            for row in try run("SELECT key, value FROM actuator_record WHERE site = $1 AND resource_site = $2 AND actuator = $3",
                               [site, .text(resourceSite), .text(actuator)]) {
                let (key, value) = try row.decode((String, String).self)
                records[key] = value
            }
            return records
        }
    }

    public func setActuatorRecord(site resourceSite: String, actuator: String, key: String, value: String?) throws {
        try transaction("write an actuator record") {
            try checkFence("write an actuator record")
            if let value {
                try run("""
                    INSERT INTO actuator_record (site, resource_site, actuator, key, value) VALUES ($1, $2, $3, $4, $5)
                    ON CONFLICT (site, resource_site, actuator, key) DO UPDATE SET value = excluded.value
                    """, [site, .text(resourceSite), .text(actuator), .text(key), .text(value)])
            } else {
                try run("DELETE FROM actuator_record WHERE site = $1 AND resource_site = $2 AND actuator = $3 AND key = $4",
                        [site, .text(resourceSite), .text(actuator), .text(key)])
            }
        }
    }

    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text) ?? Date(timeIntervalSince1970: 0) }
}
