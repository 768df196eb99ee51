import Foundation
import GRDB

/// The default state store: one SQLite file, made on first use, with versioned migrations.
public final class SQLiteStateStore: StateStore {
    private let database: DatabaseQueue
    public let path: String

    public init(path: String) throws {
        self.path = path
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
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
                var target = TargetState()
                var draws: [String: Double] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT node, pool, power_state, estimated_w FROM node_assignment") {
                    target.nodes[row["node"]] = .init(pool: row["pool"], powerState: PowerState(rawValue: row["power_state"]) ?? .on)
                    draws[row["node"]] = row["estimated_w"]
                }
                var replicas: [String: [Int: [String]]] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT workload, replica_index, node FROM replica ORDER BY workload, replica_index, position") {
                    replicas[row["workload"], default: [:]][row["replica_index"], default: []].append(row["node"])
                }
                for row in try Row.fetchAll(db, sql: "SELECT workload, unplaced FROM workload_state") {
                    let name: String = row["workload"]
                    let placements = (replicas[name] ?? [:]).map { ReplicaPlacement(index: $0.key, nodes: $0.value) }
                    target.workloads[name] = .init(replicas: placements, unplaced: row["unplaced"])
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
                let meta = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT key, value FROM meta").map { ($0["key"] as String, $0["value"] as String?) })
                return StoredState(target: target, serial: Int(meta["serial"].flatMap { $0 } ?? "0") ?? 0,
                                   manifestDigest: meta["manifestDigest"].flatMap { $0 }, revision: meta["revision"].flatMap { $0 }, estimatedW: draws)
            }
        }
    }

    public func commitApply(target: TargetState, estimatedW: [String: Double], powerStates: [String: PowerState], record: ApplyRecord, expectedSerial: Int) throws -> StoredState {
        try wrap("record the apply") {
            try database.write { db in
                let serial = Int(try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'serial'") ?? "0") ?? 0
                guard serial == expectedSerial else {
                    throw DCApplyError(.stateStore, "the state changed since the plan was made (serial \(serial), plan made at \(expectedSerial)); plan again")
                }
                for table in ["node_assignment", "workload_state", "replica", "tier_state", "tier_drive", "access_grant"] {
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
                let now = Self.timestamp(record.finishedAt)
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
                    INSERT INTO apply_history (started_at, finished_at, user, host, revision, manifest_digest, plan_digest, summary, change_count, serial)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [Self.timestamp(record.startedAt), now, record.user, record.host, record.revision,
                                     record.manifestDigest, record.planDigest, record.summary, record.changeCount, next])
                return StoredState(target: target, serial: next, manifestDigest: record.manifestDigest, revision: record.revision, estimatedW: estimatedW)
            }
        }
    }

    public func history() throws -> [ApplyRecord] {
        try wrap("read the history") {
            try database.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM apply_history ORDER BY id").map { row in
                    ApplyRecord(id: row["id"], startedAt: Self.date(row["started_at"]), finishedAt: Self.date(row["finished_at"]),
                                user: row["user"], host: row["host"], revision: row["revision"], manifestDigest: row["manifest_digest"],
                                planDigest: row["plan_digest"], summary: row["summary"], changeCount: row["change_count"], serial: row["serial"])
                }
            }
        }
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
            try database.write { db in
                try db.execute(sql: "INSERT OR IGNORE INTO node_observed (node, updated_at) VALUES (?, ?)", arguments: [node, Self.timestamp(Date())])
                if let health { try db.execute(sql: "UPDATE node_observed SET health = ? WHERE node = ?", arguments: [health?.rawValue, node]) }
                if let powerState { try db.execute(sql: "UPDATE node_observed SET power_state = ? WHERE node = ?", arguments: [powerState?.rawValue, node]) }
                try db.execute(sql: "UPDATE node_observed SET updated_at = ? WHERE node = ?", arguments: [Self.timestamp(Date()), node])
            }
        }
    }

    static func timestamp(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text) ?? Date(timeIntervalSince1970: 0) }
}
