import Foundation
import GRDB

/// The default state store: one SQLite file, made on first use, with versioned migrations.
public final class SQLiteStateStore: StateStore {
    let database: DatabaseQueue
    public let path: String
    /// What the journal's and the observed nodes' timestamps read.
    let clock: any WallClock

    /// Opens (or makes) the store at `path`; `clock` stamps journal steps and observations.
    public init(path: String, clock: any WallClock = SystemWallClock()) throws {
        self.path = path
        self.clock = clock
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                // In WAL mode NORMAL survives a crash of the process (a commit is in the WAL when it
                // returns); an OS crash may lose the last commits, which the apply journal redoes.
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            database = try DatabaseQueue(path: path, configuration: configuration)
            try Self.migrator.migrate(database)
        } catch let error as DCApplyError {
            throw error
        } catch {
            throw DCApplyError(.stateStore, "cannot open the state store at \(path)", underlying: error)
        }
    }

    /// Schema versions. Never edit a shipped migration; add a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT);
                CREATE TABLE node_assignment (node TEXT PRIMARY KEY NOT NULL, pool TEXT, power_state TEXT NOT NULL, estimated_w REAL NOT NULL DEFAULT 0);
                CREATE TABLE workload_state (workload TEXT PRIMARY KEY NOT NULL, unplaced INTEGER NOT NULL);
                CREATE TABLE replica (workload TEXT NOT NULL, replica_index INTEGER NOT NULL, position INTEGER NOT NULL, node TEXT NOT NULL,
                                      PRIMARY KEY (workload, replica_index, position));
                CREATE TABLE tier_state (tier TEXT PRIMARY KEY NOT NULL, raw_tib REAL NOT NULL, satisfied INTEGER NOT NULL);
                CREATE TABLE tier_drive (node TEXT NOT NULL, drive TEXT NOT NULL, tier TEXT NOT NULL, PRIMARY KEY (node, drive));
                CREATE TABLE access_grant (policy TEXT NOT NULL, pool TEXT NOT NULL, PRIMARY KEY (policy, pool));
                CREATE TABLE node_observed (node TEXT PRIMARY KEY NOT NULL, health TEXT, power_state TEXT, updated_at TEXT NOT NULL);
                CREATE TABLE apply_history (id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL, finished_at TEXT NOT NULL,
                                            user TEXT NOT NULL, host TEXT NOT NULL, revision TEXT, manifest_digest TEXT NOT NULL,
                                            plan_digest TEXT NOT NULL, summary TEXT NOT NULL, change_count INTEGER NOT NULL, serial INTEGER NOT NULL);
                INSERT INTO meta (key, value) VALUES ('serial', '0');
                """)
        }
        migrator.registerMigration("v2-journal") { db in
            try db.execute(sql: """
                ALTER TABLE apply_history ADD COLUMN status TEXT NOT NULL DEFAULT 'completed';
                ALTER TABLE apply_history ADD COLUMN done INTEGER;
                ALTER TABLE apply_history ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE apply_history ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE apply_history ADD COLUMN resumes INTEGER;
                CREATE TABLE apply_lock (id INTEGER PRIMARY KEY CHECK (id = 1), host TEXT NOT NULL, pid INTEGER NOT NULL,
                                         process_start TEXT, since TEXT NOT NULL, command TEXT NOT NULL);
                CREATE TABLE apply_journal (id INTEGER PRIMARY KEY AUTOINCREMENT, plan_json TEXT NOT NULL, base_serial INTEGER NOT NULL,
                                            started_at TEXT NOT NULL, user TEXT NOT NULL, host TEXT NOT NULL,
                                            finished_at TEXT, history_id INTEGER);
                CREATE TABLE journal_step (apply_id INTEGER NOT NULL REFERENCES apply_journal(id), step INTEGER NOT NULL,
                                           action TEXT NOT NULL, resource TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,
                                           error TEXT, updated_at TEXT NOT NULL, PRIMARY KEY (apply_id, step));
                """)
        }
        migrator.registerMigration("v3-audit") { db in
            try db.execute(sql: """
                CREATE TABLE audit_log (id INTEGER PRIMARY KEY NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL, revision TEXT,
                                        plan_digest TEXT NOT NULL, status TEXT NOT NULL, actions TEXT NOT NULL,
                                        previous_hash TEXT NOT NULL, hash TEXT NOT NULL);
                """)
        }
        migrator.registerMigration("v4-actuators") { db in
            try db.execute(sql: """
                CREATE TABLE node_drain (node TEXT PRIMARY KEY NOT NULL, cause TEXT NOT NULL);
                CREATE TABLE actuator_record (site TEXT NOT NULL, actuator TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                                              PRIMARY KEY (site, actuator, key));
                """)
        }
        return migrator
    }

    private func wrap<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as DCApplyError { throw error } catch {
            throw DCApplyError(.stateStore, "state store \(path): cannot \(what)", underlying: error)
        }
    }

    public func load() throws -> StoredState {
        try wrap("read the applied state") {
            try database.read { db in
                // Columns are read by position (by name, each read searches the row's columns,
                // case-insensitively), and rows stream through a cursor: a 50,000-node state is
                // 50,000 nodes and about 70,000 replica rows (decision 402).
                var target = TargetState()
                var draws: [String: Double] = [:]
                let nodeCount = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM node_assignment") ?? 0
                target.nodes.reserveCapacity(nodeCount)
                draws.reserveCapacity(nodeCount)
                let nodeRows = try Row.fetchCursor(db, sql: "SELECT node, pool, power_state, estimated_w FROM node_assignment")
                while let row = try nodeRows.next() {
                    let node: String = row[0]
                    let power: String = row[2]
                    target.nodes[node] = .init(pool: row[1], powerState: PowerState(rawValue: power) ?? .on)
                    draws[node] = row[3]
                }
                // Ordered by workload, then replica: each workload's replicas are built in one run.
                var replicas: [String: [ReplicaPlacement]] = [:]
                var workload: String?
                var built: [ReplicaPlacement] = []
                let replicaRows = try Row.fetchCursor(db, sql: "SELECT workload, replica_index, node FROM replica ORDER BY workload, replica_index, position")
                while let row = try replicaRows.next() {
                    let name: String = row[0]
                    let index: Int = row[1]
                    let node: String = row[2]
                    if name != workload {
                        if let workload { replicas[workload] = built }
                        workload = name
                        built = []
                    }
                    if let last = built.indices.last, built[last].index == index {
                        built[last].nodes.append(node)
                    } else {
                        built.append(ReplicaPlacement(index: index, nodes: [node]))
                    }
                }
                if let workload { replicas[workload] = built }
                let workloadRows = try Row.fetchCursor(db, sql: "SELECT workload, unplaced FROM workload_state")
                while let row = try workloadRows.next() {
                    let name: String = row[0]
                    target.workloads[name] = .init(replicas: replicas[name] ?? [], unplaced: row[1])
                }
                var drives: [String: [DriveAddress]] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT node, drive, tier FROM tier_drive") {
                    drives[row["tier"], default: []].append(DriveAddress(node: row["node"], drive: row["drive"]))
                }
                for row in try Row.fetchAll(db, sql: "SELECT tier, raw_tib, satisfied FROM tier_state") {
                    let name: String = row["tier"]
                    target.storageTiers[name] = .init(drives: drives[name] ?? [], rawTiB: row["raw_tib"], satisfied: row["satisfied"])
                }
                for row in try Row.fetchAll(db, sql: "SELECT policy, pool FROM access_grant ORDER BY policy, pool") {
                    target.grants[row["policy"], default: []].append(row["pool"])
                }
                for row in try Row.fetchAll(db, sql: "SELECT node, cause FROM node_drain") {
                    target.drained[row["node"]] = DrainCause(rawValue: row["cause"]) ?? .degraded
                }
                let meta = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT key, value FROM meta").map { ($0["key"] as String, $0["value"] as String?) })
                return StoredState(target: target, serial: Int(meta["serial"].flatMap { $0 } ?? "0") ?? 0,
                                   manifestDigest: meta["manifestDigest"].flatMap { $0 }, revision: meta["revision"].flatMap { $0 }, estimatedW: draws)
            }
        }
    }

    public func commitApply(target: TargetState, estimatedW: [String: Double], powerStates: [String: PowerState], record: ApplyRecord, expectedSerial: Int) throws -> StoredState {
        try wrap("record the apply") {
            try database.write { db in
                try Self.write(db, target: target, estimatedW: estimatedW, powerStates: powerStates, record: record, expectedSerial: expectedSerial).state
            }
        }
    }

    /// Replaces the stored target (nodes, replicas, tiers, grants, drains) with `target`; the
    /// caller's transaction. Shared by an apply's commit and `state migrate`'s import.
    static func replaceTarget(_ db: Database, with target: TargetState, estimatedW: [String: Double]) throws {
        for table in ["node_assignment", "workload_state", "replica", "tier_state", "tier_drive", "access_grant", "node_drain"] {
            try db.execute(sql: "DELETE FROM \(table)")
        }
        for (node, state) in target.nodes {
            try db.execute(sql: "INSERT INTO node_assignment (node, pool, power_state, estimated_w) VALUES (?, ?, ?, ?)",
                           arguments: [node, state.pool, state.powerState.rawValue, estimatedW[node] ?? 0])
        }
        for (name, state) in target.workloads {
            try db.execute(sql: "INSERT INTO workload_state (workload, unplaced) VALUES (?, ?)", arguments: [name, state.unplaced])
            for replica in state.replicas {
                for (position, node) in replica.nodes.enumerated() {
                    try db.execute(sql: "INSERT INTO replica (workload, replica_index, position, node) VALUES (?, ?, ?, ?)",
                                   arguments: [name, replica.index, position, node])
                }
            }
        }
        for (name, state) in target.storageTiers {
            try db.execute(sql: "INSERT INTO tier_state (tier, raw_tib, satisfied) VALUES (?, ?, ?)", arguments: [name, state.rawTiB, state.satisfied])
            for drive in state.drives {
                try db.execute(sql: "INSERT INTO tier_drive (node, drive, tier) VALUES (?, ?, ?)", arguments: [drive.node, drive.drive, name])
            }
        }
        for (policy, pools) in target.grants {
            for pool in pools { try db.execute(sql: "INSERT INTO access_grant (policy, pool) VALUES (?, ?)", arguments: [policy, pool]) }
        }
        for (node, cause) in target.drained {
            try db.execute(sql: "INSERT INTO node_drain (node, cause) VALUES (?, ?)", arguments: [node, cause.rawValue])
        }
    }

    /// Replaces the applied target and appends the history record; the caller's transaction.
    private static func write(_ db: Database, target: TargetState, estimatedW: [String: Double], powerStates: [String: PowerState],
                              record: ApplyRecord, expectedSerial: Int, auditActions: [String] = []) throws -> (state: StoredState, historyID: Int64) {
        let serial = Int(try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'serial'") ?? "0") ?? 0
        guard serial == expectedSerial else {
            throw DCApplyError.staleState(stored: serial, planned: expectedSerial)
        }
        try replaceTarget(db, with: target, estimatedW: estimatedW)
        let now = timestamp(record.finishedAt)
        for (node, power) in powerStates {
            try db.execute(sql: """
                INSERT INTO node_observed (node, power_state, updated_at) VALUES (?, ?, ?)
                ON CONFLICT(node) DO UPDATE SET power_state = excluded.power_state, updated_at = excluded.updated_at
                """, arguments: [node, power.rawValue, now])
        }
        let next = serial + 1
        try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'serial'", arguments: [String(next)])
        try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('manifestDigest', ?), ('revision', ?)", arguments: [record.manifestDigest, record.revision])
        try db.execute(sql: """
            INSERT INTO apply_history (started_at, finished_at, user, host, revision, manifest_digest, plan_digest, summary, change_count, serial,
                                       status, done, failed, skipped, resumes)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [timestamp(record.startedAt), now, record.user, record.host, record.revision,
                             record.manifestDigest, record.planDigest, record.summary, record.changeCount, next,
                             record.status.rawValue, record.done, record.failed, record.skipped, record.resumes])
        let historyID = db.lastInsertedRowID
        let previous = try Row.fetchOne(db, sql: "SELECT * FROM audit_log ORDER BY id DESC LIMIT 1").map(auditEntry)
        let entry = AuditChain.seal(AuditEntry(id: (previous?.id ?? 0) + 1, timestamp: now, actor: record.actor ?? "\(record.user)@\(record.host)",
                                               revision: record.revision, planDigest: record.planDigest, status: record.status.rawValue,
                                               actions: auditActions, previousHash: ""), after: previous)
        try db.execute(sql: """
            INSERT INTO audit_log (id, at, actor, revision, plan_digest, status, actions, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [entry.id, now, entry.actor, entry.revision, entry.planDigest, entry.status,
                             entry.actions.joined(separator: "\n"), entry.previousHash, entry.hash])
        return (StoredState(target: target, serial: next, manifestDigest: record.manifestDigest, revision: record.revision, estimatedW: estimatedW),
                historyID)
    }

    public func history() throws -> [ApplyRecord] {
        try wrap("read the history") {
            try database.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM apply_history ORDER BY id").map { row in
                    ApplyRecord(id: row["id"], startedAt: Self.date(row["started_at"]), finishedAt: Self.date(row["finished_at"]),
                                user: row["user"], host: row["host"], revision: row["revision"], manifestDigest: row["manifest_digest"],
                                planDigest: row["plan_digest"], summary: row["summary"], changeCount: row["change_count"], serial: row["serial"],
                                status: ApplyStatus(rawValue: row["status"]) ?? .completed, done: row["done"], failed: row["failed"],
                                skipped: row["skipped"], resumes: row["resumes"])
                }
            }
        }
    }

    public func auditLog() throws -> [AuditEntry] {
        try wrap("read the audit log") {
            try database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY id").map(Self.auditEntry) }
        }
    }

    private static func auditEntry(_ row: Row) -> AuditEntry {
        let actions: String = row["actions"]
        return AuditEntry(id: row["id"], timestamp: row["at"], actor: row["actor"], revision: row["revision"], planDigest: row["plan_digest"],
                          status: row["status"], actions: actions.isEmpty ? [] : actions.components(separatedBy: "\n"),
                          previousHash: row["previous_hash"], hash: row["hash"])
    }

    public func overrides() throws -> [String: NodeOverride] {
        try wrap("read node overrides") {
            try database.read { db in
                var overrides: [String: NodeOverride] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT node, health, power_state FROM node_observed") {
                    overrides[row["node"]] = NodeOverride(health: (row["health"] as String?).flatMap(Health.init(rawValue:)),
                                                          powerState: (row["power_state"] as String?).flatMap(PowerState.init(rawValue:)))
                }
                return overrides
            }
        }
    }

    public func setOverride(node: String, health: Health??, powerState: PowerState??) throws {
        try wrap("record the node override") {
            let now = Self.timestamp(clock.now)
            try database.write { db in
                try db.execute(sql: "INSERT OR IGNORE INTO node_observed (node, updated_at) VALUES (?, ?)", arguments: [node, now])
                if let health { try db.execute(sql: "UPDATE node_observed SET health = ? WHERE node = ?", arguments: [health?.rawValue, node]) }
                if let powerState { try db.execute(sql: "UPDATE node_observed SET power_state = ? WHERE node = ?", arguments: [powerState?.rawValue, node]) }
                try db.execute(sql: "UPDATE node_observed SET updated_at = ? WHERE node = ?", arguments: [now, node])
            }
        }
    }

    // MARK: Lock and journal

    public func acquireLock(_ holder: LockHolder, isStale: (LockHolder) -> Bool) throws -> LockHolder? {
        let (current, takenOver): (LockHolder?, Bool) = try wrap("take the apply lock") {
            try database.write { db in
                if let row = try Row.fetchOne(db, sql: "SELECT * FROM apply_lock WHERE id = 1") {
                    let current = Self.holder(row)
                    guard isStale(current) else { return (current, false) }
                    try db.execute(sql: "DELETE FROM apply_lock WHERE id = 1")
                    try Self.insertLock(db, holder)
                    return (current, true)
                }
                try Self.insertLock(db, holder)
                return (nil, false)
            }
        }
        guard let current else { return nil }
        if takenOver { return current }
        throw DCApplyError.locked(by: current, path: path)
    }

    private static func insertLock(_ db: Database, _ holder: LockHolder) throws {
        try db.execute(sql: "INSERT INTO apply_lock (id, host, pid, process_start, since, command) VALUES (1, ?, ?, ?, ?, ?)",
                       arguments: [holder.host, holder.pid, holder.processStart, timestamp(holder.since), holder.command])
    }

    private static func holder(_ row: Row) -> LockHolder {
        LockHolder(host: row["host"], pid: row["pid"], processStart: row["process_start"], since: date(row["since"]), command: row["command"])
    }

    public func releaseLock(_ holder: LockHolder) throws {
        try wrap("release the apply lock") {
            try database.write { db in
                try db.execute(sql: "DELETE FROM apply_lock WHERE id = 1 AND host = ? AND pid = ?", arguments: [holder.host, holder.pid])
            }
        }
    }

    public func lockHolder() throws -> LockHolder? {
        try wrap("read the apply lock") {
            try database.read { db in try Row.fetchOne(db, sql: "SELECT * FROM apply_lock WHERE id = 1").map(Self.holder) }
        }
    }

    public func breakLock() throws {
        try wrap("break the apply lock") {
            try database.write { db in try db.execute(sql: "DELETE FROM apply_lock") }
        }
    }

    public func beginApply(planJSON: String, baseSerial: Int, user: String, host: String, startedAt: Date) throws -> Int {
        try wrap("begin the apply journal") {
            try database.write { db in
                let serial = Int(try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'serial'") ?? "0") ?? 0
                guard serial == baseSerial else {
                    throw DCApplyError.staleState(stored: serial, planned: baseSerial)
                }
                try db.execute(sql: "INSERT INTO apply_journal (plan_json, base_serial, started_at, user, host) VALUES (?, ?, ?, ?, ?)",
                               arguments: [planJSON, baseSerial, Self.timestamp(startedAt), user, host])
                return Int(db.lastInsertedRowID)
            }
        }
    }

    public func recordStep(apply: Int, _ step: JournalStep, change: Change) throws {
        try recordSteps(apply: apply, [JournalEntry(step, change: change)])
    }

    /// One transaction for the whole batch, with one prepared statement: a batch costs one
    /// commit (`synchronous = NORMAL` in WAL mode, as for a single step) however many steps it holds.
    public func recordSteps(apply: Int, _ steps: [JournalEntry]) throws {
        guard !steps.isEmpty else { return }
        try wrap("journal an action") {
            try database.write { db in
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO journal_step (apply_id, step, action, resource, state, attempts, error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(apply_id, step) DO UPDATE SET state = excluded.state, attempts = excluded.attempts, error = excluded.error,
                                                              updated_at = excluded.updated_at
                    """)
                let now = Self.timestamp(clock.now)
                for entry in steps {
                    let step = entry.step, change = entry.change
                    try statement.execute(arguments: [apply, step.index, change.action.rawValue, change.resource.description, step.state.rawValue,
                                                      step.attempts, step.error.map(Secrets.redact), now])
                }
            }
        }
    }

    public func unfinishedApply() throws -> UnfinishedApply? {
        try wrap("read the apply journal") {
            try database.read { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM apply_journal WHERE finished_at IS NULL ORDER BY id DESC LIMIT 1") else { return nil }
                let id: Int = row["id"]
                var steps: [Int: JournalStep] = [:]
                for step in try Row.fetchAll(db, sql: "SELECT step, state, attempts, error FROM journal_step WHERE apply_id = ?", arguments: [id]) {
                    steps[step["step"]] = JournalStep(index: step["step"], state: StepState(rawValue: step["state"]) ?? .started,
                                                      attempts: step["attempts"], error: step["error"])
                }
                return UnfinishedApply(id: id, planJSON: row["plan_json"], baseSerial: row["base_serial"], startedAt: Self.date(row["started_at"]),
                                       user: row["user"], host: row["host"], steps: steps)
            }
        }
    }

    public func finishApply(_ id: Int, target: TargetState, estimatedW: [String: Double], powerStates: [String: PowerState], record: ApplyRecord) throws -> StoredState {
        try wrap("record the apply") {
            try database.write { db in
                guard let base = try Int.fetchOne(db, sql: "SELECT base_serial FROM apply_journal WHERE id = ? AND finished_at IS NULL", arguments: [id]) else {
                    throw DCApplyError(.stateStore, "apply \(id) is not open in the journal")
                }
                // The journal's plan gives each step's replica and from → to for the audit log.
                let planJSON = try String.fetchOne(db, sql: "SELECT plan_json FROM apply_journal WHERE id = ?", arguments: [id])
                let changes = planJSON.flatMap { try? Plan(json: $0, source: "the journal") }?.changes ?? []
                let steps = try Row.fetchAll(db, sql: "SELECT step, action, resource, state, attempts, error FROM journal_step WHERE apply_id = ? ORDER BY step",
                                             arguments: [id]).map { row in
                    let step: Int = row["step"]
                    let resource: String = changes.indices.contains(step) ? AuditChain.describe(changes[step]) : row["resource"]
                    return AuditChain.actionLine(step: step, action: row["action"], resource: resource, state: row["state"],
                                                 attempts: row["attempts"], error: row["error"])
                }
                let (state, historyID) = try Self.write(db, target: target, estimatedW: estimatedW, powerStates: powerStates, record: record,
                                                        expectedSerial: base, auditActions: steps)
                try db.execute(sql: "UPDATE apply_journal SET finished_at = ?, history_id = ? WHERE id = ?",
                               arguments: [Self.timestamp(record.finishedAt), historyID, id])
                return state
            }
        }
    }

    /// The same text as `ISO8601DateFormatter` (`2026-11-29T06:31:33Z`), without making one per
    /// call: the style is a value, and making the formatter cost more than the journal write.
    static func timestamp(_ date: Date) -> String { date.formatted(iso8601) }
    private static let iso8601 = Date.ISO8601FormatStyle()
    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text) ?? Date(timeIntervalSince1970: 0) }

    public func actuatorRecords(site: String, actuator: String) throws -> [String: String] {
        try wrap("read the actuator records") {
            try database.read { db in
                var records: [String: String] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT key, value FROM actuator_record WHERE site = ? AND actuator = ?", arguments: [site, actuator]) {
                    records[row["key"]] = row["value"]
                }
                return records
            }
        }
    }

    public func setActuatorRecord(site: String, actuator: String, key: String, value: String?) throws {
        try wrap("write an actuator record") {
            try database.write { db in
                if let value {
                    try db.execute(sql: """
                        INSERT INTO actuator_record (site, actuator, key, value) VALUES (?, ?, ?, ?)
                        ON CONFLICT(site, actuator, key) DO UPDATE SET value = excluded.value
                        """, arguments: [site, actuator, key, value])
                } else {
                    try db.execute(sql: "DELETE FROM actuator_record WHERE site = ? AND actuator = ? AND key = ?", arguments: [site, actuator, key])
                }
            }
        }
    }
}
