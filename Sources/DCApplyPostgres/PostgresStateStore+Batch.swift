import DCApplyCore
import Foundation

extension PostgresStateStore {
    /// Steps per `INSERT … ON CONFLICT` statement: 9 parameters each, well under PostgreSQL's
    /// 65,535 parameters a statement.
    static let journalRowsPerStatement = 1000

    /// A batch of journal steps in one transaction: the fencing check (when fenced), then one
    /// multi-row upsert per 1,000 steps, then one commit — one fsync for the whole batch
    /// instead of one a step.
    ///
    /// An upsert cannot touch the same row twice, so when a batch holds several steps of one
    /// action only the last is written (the one a step-by-step write would have left).
    public func recordSteps(apply: Int, _ steps: [JournalEntry]) throws {
        guard !steps.isEmpty else { return }
        var last: [Int: Int] = [:]
        for (position, entry) in steps.enumerated() { last[entry.step.index] = position }
        let rows = steps.indices.filter { last[steps[$0].step.index] == $0 }.map { steps[$0] }
        let now = AuditChain.timestamp(Date())
        try transaction("journal an action") {
            try checkFence("journal an action")
            var start = 0
            while start < rows.count {
                let chunk = rows[start..<min(start + Self.journalRowsPerStatement, rows.count)]
                var values: [SQLValue] = [site, .int(apply), .text(now)]
                values.reserveCapacity(3 + chunk.count * 6)
                let tuples = chunk.enumerated().map { offset, entry in
                    let first = 4 + offset * 6
                    values += [.int(entry.step.index), .text(entry.change.action.rawValue), .text(entry.change.resource.description),
                               .text(entry.step.state.rawValue), .int(entry.step.attempts), .text(entry.step.error.map(Secrets.redact))]
                    return "($1, $2, " + (first..<first + 6).map { "$\($0)" }.joined(separator: ", ") + ", $3)"
                }
                try run("""
                    INSERT INTO journal_step (site, apply_id, step, action, resource, state, attempts, error, updated_at)
                    VALUES \(tuples.joined(separator: ", "))
                    ON CONFLICT (site, apply_id, step) DO UPDATE SET state = excluded.state, attempts = excluded.attempts, error = excluded.error,
                                                                     updated_at = excluded.updated_at
                    """, values)
                start += chunk.count
            }
        }
    }
}
