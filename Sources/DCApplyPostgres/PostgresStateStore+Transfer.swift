import DCApplyCore
import Foundation

extension PostgresStateStore: StateTransferable {
    public func allActuatorRecords() throws -> [StateSnapshot.ActuatorRecord] {
        try transaction("read the actuator records") {
            try run("SELECT resource_site, actuator, key, value FROM actuator_record WHERE site = $1 ORDER BY resource_site, actuator, key", [site]).map {
                let (resourceSite, actuator, key, value) = try $0.decode((String, String, String, String).self)
                return StateSnapshot.ActuatorRecord(site: resourceSite, actuator: actuator, key: key, value: value)
            }
        }
    }

    public func allJournal() throws -> [StateSnapshot.JournalApply] {
        try transaction("read the apply journal") {
            var steps: [Int: [StateSnapshot.JournalApply.Step]] = [:]
            for row in try run("""
                SELECT apply_id, step, action, resource, state, attempts, error, updated_at FROM journal_step WHERE site = $1 ORDER BY apply_id, step
                """, [site]) {
                let (apply, step, action, resource, state, attempts, error, updated) = try row.decode((Int, Int, String, String, String, Int, String?, String).self)
                steps[apply, default: []].append(.init(step: step, action: action, resource: resource, state: state, attempts: attempts, error: error,
                                                       updatedAt: updated))
            }
            return try run("""
                SELECT id, plan_json, base_serial, started_at, user_name, host, finished_at, history_id FROM apply_journal WHERE site = $1 ORDER BY id
                """, [site]).map { row in
                let (id, plan, base, started, user, host, finished, history) = try row.decode((Int, String, Int, String, String, String, String?, Int?).self)
                return StateSnapshot.JournalApply(id: id, planJSON: plan, baseSerial: base, startedAt: started, user: user, host: host,
                                                  finishedAt: finished, historyID: history, steps: steps[id] ?? [])
            }
        }
    }

    public func importSnapshot(_ snapshot: StateSnapshot) throws {
        try requireEmpty(url.description)
        try transaction("import the snapshot") {
            let state = snapshot.state
            let target = state.target
            try insert("node_assignment", ["node", "pool", "power_state", "estimated_w"], target.nodes.sorted { $0.key < $1.key }.map { node, assignment in
                [.text(node), .text(assignment.pool), .text(assignment.powerState.rawValue), .double(state.estimatedW[node] ?? 0)]
            })
            try insert("workload_state", ["workload", "unplaced"], target.workloads.map { [.text($0.key), .int($0.value.unplaced)] })
            try insert("replica", ["workload", "replica_index", "position", "node"], target.workloads.flatMap { name, workload in
                workload.replicas.flatMap { replica in
                    replica.nodes.enumerated().map { [SQLValue.text(name), .int(replica.index), .int($0.offset), .text($0.element)] }
                }
            })
            try insert("tier_state", ["tier", "raw_tib", "satisfied"], target.storageTiers.map { [.text($0.key), .double($0.value.rawTiB), .bool($0.value.satisfied)] })
            try insert("tier_drive", ["node", "drive", "tier"], target.storageTiers.flatMap { name, tier in
                tier.drives.map { [SQLValue.text($0.node), .text($0.drive), .text(name)] }
            })
            try insert("access_grant", ["policy", "pool"], target.grants.flatMap { policy, pools in pools.map { [SQLValue.text(policy), .text($0)] } })
            try insert("node_drain", ["node", "cause"], target.drained.map { [.text($0.key), .text($0.value.rawValue)] })
            try run("""
                INSERT INTO site_state (site, serial, manifest_digest, revision) VALUES ($1, $2, $3, $4)
                ON CONFLICT (site) DO UPDATE SET serial = excluded.serial, manifest_digest = excluded.manifest_digest, revision = excluded.revision
                """, [site, .int(state.serial), .text(state.manifestDigest), .text(state.revision)])
            let now = SQLValue.text(AuditChain.timestamp(Date()))
            try insert("node_observed", ["node", "health", "power_state", "updated_at"], snapshot.overrides.sorted { $0.key < $1.key }.map { node, override in
                [.text(node), .text(override.health?.rawValue), .text(override.powerState?.rawValue), now]
            })
            try insert("apply_history", ["id", "started_at", "finished_at", "user_name", "host", "revision", "manifest_digest", "plan_digest", "summary",
                                         "change_count", "serial", "status", "done", "failed", "skipped", "resumes", "actor"], snapshot.history.map { record in
                [.int(record.id), .text(AuditChain.timestamp(record.startedAt)), .text(AuditChain.timestamp(record.finishedAt)), .text(record.user),
                 .text(record.host), .text(record.revision), .text(record.manifestDigest), .text(record.planDigest), .text(record.summary),
                 .int(record.changeCount), .int(record.serial), .text(record.status.rawValue), .int(record.done), .int(record.failed),
                 .int(record.skipped), .int(record.resumes), .text(record.actor)]
            })
            for entry in snapshot.audit { try insertAudit(entry) }
            try insert("actuator_record", ["resource_site", "actuator", "key", "value"], snapshot.actuatorRecords.map {
                [.text($0.site), .text($0.actuator), .text($0.key), .text($0.value)]
            })
            try insert("apply_journal", ["id", "plan_json", "base_serial", "started_at", "user_name", "host", "finished_at", "history_id"],
                       snapshot.journal.map { apply in
                [.int(apply.id), .text(apply.planJSON), .int(apply.baseSerial), .text(apply.startedAt), .text(apply.user), .text(apply.host),
                 .text(apply.finishedAt), .int(apply.historyID)]
            })
            try insert("journal_step", ["apply_id", "step", "action", "resource", "state", "attempts", "error", "updated_at"],
                       snapshot.journal.flatMap { apply in apply.steps.map { step in
                [.int(apply.id), .int(step.step), .text(step.action), .text(step.resource), .text(step.state), .int(step.attempts), .text(step.error),
                 .text(step.updatedAt)]
            } })
        }
    }
}
