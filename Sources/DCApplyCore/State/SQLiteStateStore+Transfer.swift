import Foundation
import GRDB

extension SQLiteStateStore: StateTransferable {
    public func allActuatorRecords() throws -> [StateSnapshot.ActuatorRecord] {
        do {
            return try database.read { db in
                try Row.fetchAll(db, sql: "SELECT site, actuator, key, value FROM actuator_record ORDER BY site, actuator, key").map {
                    StateSnapshot.ActuatorRecord(site: $0["site"], actuator: $0["actuator"], key: $0["key"], value: $0["value"])
                }
            }
        } catch {
            throw DCApplyError(.stateStore, "state store \(path): cannot read the actuator records", underlying: error)
        }
    }

    public func importSnapshot(_ snapshot: StateSnapshot) throws {
        try requireEmpty(path)
        do {
            try database.write { db in
                let state = snapshot.state
                let target = state.target
                for (node, assignment) in target.nodes {
                    try db.execute(sql: "INSERT INTO node_assignment (node, pool, power_state, estimated_w) VALUES (?, ?, ?, ?)",
                                   arguments: [node, assignment.pool, assignment.powerState.rawValue, state.estimatedW[node] ?? 0])
                }
                for (name, workload) in target.workloads {
                    try db.execute(sql: "INSERT INTO workload_state (workload, unplaced) VALUES (?, ?)", arguments: [name, workload.unplaced])
                    for replica in workload.replicas {
                        for (position, node) in replica.nodes.enumerated() {
                            try db.execute(sql: "INSERT INTO replica (workload, replica_index, position, node) VALUES (?, ?, ?, ?)",
                                           arguments: [name, replica.index, position, node])
                        }
                    }
                }
                for (name, tier) in target.storageTiers {
                    try db.execute(sql: "INSERT INTO tier_state (tier, raw_tib, satisfied) VALUES (?, ?, ?)", arguments: [name, tier.rawTiB, tier.satisfied])
                    for drive in tier.drives {
                        try db.execute(sql: "INSERT INTO tier_drive (node, drive, tier) VALUES (?, ?, ?)", arguments: [drive.node, drive.drive, name])
                    }
                }
                for (policy, pools) in target.grants {
                    for pool in pools { try db.execute(sql: "INSERT INTO access_grant (policy, pool) VALUES (?, ?)", arguments: [policy, pool]) }
                }
                for (node, cause) in target.drained {
                    try db.execute(sql: "INSERT INTO node_drain (node, cause) VALUES (?, ?)", arguments: [node, cause.rawValue])
                }
                try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'serial'", arguments: [String(state.serial)])
                try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('manifestDigest', ?), ('revision', ?)",
                               arguments: [state.manifestDigest, state.revision])
                let now = Self.timestamp(Date())
                for (node, override) in snapshot.overrides {
                    try db.execute(sql: "INSERT INTO node_observed (node, health, power_state, updated_at) VALUES (?, ?, ?, ?)",
                                   arguments: [node, override.health?.rawValue, override.powerState?.rawValue, now])
                }
                for record in snapshot.history {
                    try db.execute(sql: """
                        INSERT INTO apply_history (id, started_at, finished_at, user, host, revision, manifest_digest, plan_digest, summary,
                                                   change_count, serial, status, done, failed, skipped, resumes)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [record.id, Self.timestamp(record.startedAt), Self.timestamp(record.finishedAt), record.user, record.host,
                                         record.revision, record.manifestDigest, record.planDigest, record.summary, record.changeCount,
                                         record.serial, record.status.rawValue, record.done, record.failed, record.skipped, record.resumes])
                }
                for entry in snapshot.audit {
                    try db.execute(sql: """
                        INSERT INTO audit_log (id, at, actor, revision, plan_digest, status, actions, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [entry.id, entry.timestamp, entry.actor, entry.revision, entry.planDigest, entry.status,
                                         entry.actions.joined(separator: "\n"), entry.previousHash, entry.hash])
                }
                for record in snapshot.actuatorRecords {
                    try db.execute(sql: "INSERT INTO actuator_record (site, actuator, key, value) VALUES (?, ?, ?, ?)",
                                   arguments: [record.site, record.actuator, record.key, record.value])
                }
            }
        } catch let error as DCApplyError {
            throw error
        } catch {
            throw DCApplyError(.stateStore, "state store \(path): cannot import the snapshot", underlying: error)
        }
    }
}
