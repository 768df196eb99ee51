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

    public func allJournal() throws -> [StateSnapshot.JournalApply] {
        do {
            return try database.read { db in
                var steps: [Int: [StateSnapshot.JournalApply.Step]] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT * FROM journal_step ORDER BY apply_id, step") {
                    steps[row["apply_id"], default: []].append(.init(step: row["step"], action: row["action"], resource: row["resource"],
                                                                     state: row["state"], attempts: row["attempts"], error: row["error"],
                                                                     updatedAt: row["updated_at"]))
                }
                return try Row.fetchAll(db, sql: "SELECT * FROM apply_journal ORDER BY id").map { row in
                    StateSnapshot.JournalApply(id: row["id"], planJSON: row["plan_json"], baseSerial: row["base_serial"], startedAt: row["started_at"],
                                               user: row["user"], host: row["host"], finishedAt: row["finished_at"], historyID: row["history_id"],
                                               steps: steps[row["id"]] ?? [])
                }
            }
        } catch {
            throw DCApplyError(.stateStore, "state store \(path): cannot read the apply journal", underlying: error)
        }
    }

    public func importSnapshot(_ snapshot: StateSnapshot) throws {
        try requireEmpty(path)
        do {
            try database.write { db in
                let state = snapshot.state
                try Self.replaceTarget(db, with: state.target, estimatedW: state.estimatedW)
                try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'serial'", arguments: [String(state.serial)])
                try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('manifestDigest', ?), ('revision', ?)",
                               arguments: [state.manifestDigest, state.revision])
                let now = Self.timestamp(clock.now)
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
                for apply in snapshot.journal {
                    try db.execute(sql: """
                        INSERT INTO apply_journal (id, plan_json, base_serial, started_at, user, host, finished_at, history_id)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [apply.id, apply.planJSON, apply.baseSerial, apply.startedAt, apply.user, apply.host, apply.finishedAt,
                                         apply.historyID])
                    for step in apply.steps {
                        try db.execute(sql: """
                            INSERT INTO journal_step (apply_id, step, action, resource, state, attempts, error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            """, arguments: [apply.id, step.step, step.action, step.resource, step.state, step.attempts, step.error, step.updatedAt])
                    }
                }
            }
        } catch let error as DCApplyError {
            throw error
        } catch {
            throw DCApplyError(.stateStore, "state store \(path): cannot import the snapshot", underlying: error)
        }
    }
}
