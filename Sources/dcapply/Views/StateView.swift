import DCApplyCore
import Foundation

/// The applied state and the history of applies.
enum StateView {
    static func json(_ stored: StoredState) -> String {
        PlanDocument.encode(PlanDocument.target(stored.target, draws: stored.estimatedW))
    }

    static func text(_ stored: StoredState) -> String {
        guard stored.serial > 0 else { return "Nothing applied yet (state serial 0)." }
        var lines = ["State serial \(stored.serial)" + (stored.revision.map { ", revision \($0)" } ?? "") + (stored.manifestDigest.map { ", manifests \($0.prefix(12))" } ?? "")]
        var pools: [String: [String]] = [:]
        for (node, state) in stored.target.nodes { if let pool = state.pool { pools[pool, default: []].append(node) } }
        for (pool, nodes) in pools.sorted(by: { $0.key < $1.key }) {
            lines.append("HardwarePool/\(pool): \(nodes.count) node\(nodes.count == 1 ? "" : "s"): \(nodes.sorted().joined(separator: ", "))")
        }
        for (name, state) in stored.target.workloads.sorted(by: { $0.key < $1.key }) {
            let replicas = state.replicas.map { "\($0.index)→\($0.nodes.joined(separator: "+"))" }.joined(separator: ", ")
            lines.append("Workload/\(name): \(state.replicas.count) placed\(state.unplaced > 0 ? ", \(state.unplaced) unplaced" : ""): \(replicas)")
        }
        for (name, state) in stored.target.storageTiers.sorted(by: { $0.key < $1.key }) {
            lines.append("StorageTier/\(name): \(state.drives.count) drives, \(String(format: "%.2f", state.rawTiB)) TiB raw, \(state.satisfied ? "satisfied" : "NOT satisfied")")
        }
        let off = stored.target.nodes.filter { $0.value.powerState == .off }.count
        lines.append("Power: \(stored.target.nodes.count - off) on, \(off) off")
        return lines.joined(separator: "\n")
    }

    static func json(_ records: [ApplyRecord]) -> String {
        let formatter = ISO8601DateFormatter()
        let entries: [[String: Any]] = records.map {
            ["id": $0.id, "startedAt": formatter.string(from: $0.startedAt), "finishedAt": formatter.string(from: $0.finishedAt),
             "user": $0.user, "host": $0.host, "revision": $0.revision ?? NSNull(), "manifestDigest": $0.manifestDigest,
             "planDigest": $0.planDigest, "summary": $0.summary, "changes": $0.changeCount, "serial": $0.serial,
             "status": $0.status.rawValue, "done": $0.done, "failed": $0.failed, "skipped": $0.skipped]
        }
        guard let data = try? JSONSerialization.data(withJSONObject: entries, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else { return "[]" }
        return String(decoding: data, as: UTF8.self)
    }

    /// `completed`, `partial (3 failed, 5 skipped)`, `interrupted (12 of 40 done)`, `resumed`.
    static func status(_ record: ApplyRecord) -> String {
        switch record.status {
        case .completed: "completed"
        case .resumed where record.failed + record.skipped == 0: "resumed after a crash"
        case .resumed, .partial: "\(record.status == .resumed ? "resumed, " : "")partial (\(record.failed) failed, \(record.skipped) skipped)"
        case .interrupted: "interrupted (\(record.done) of \(record.changeCount) done)"
        }
    }

    static func text(_ records: [ApplyRecord]) -> String {
        guard !records.isEmpty else { return "No applies yet." }
        let formatter = ISO8601DateFormatter()
        var rows = [["#", "FINISHED", "USER", "HOST", "REVISION", "SERIAL", "STATUS", "SUMMARY"]]
        for record in records {
            rows.append(["\(record.id)", formatter.string(from: record.finishedAt), record.user, record.host, record.revision ?? "-", "\(record.serial)",
                         status(record), record.summary])
        }
        return Table.render(rows)
    }
}
