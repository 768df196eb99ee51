import ArgumentParser
import DCApplyCore
import Foundation

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The tamper-evident audit log: one hash-chained entry per apply.",
        discussion: """
            Every apply (completed, partial, resumed or interrupted) appends an entry in the same
            transaction that records it: who (the commit's signer under `serve`, else user@host),
            when, the revision, the plan's digest, and each action with its outcome. Each entry's
            hash covers its contents and the previous entry's hash, so editing, inserting or
            deleting an entry breaks the chain from there on. Record the head hash that
            `audit verify` prints somewhere else (a CI log, a ticket) and pass it back with
            --expect-head to also catch a rewrite of the whole log.
            """,
        subcommands: [Show.self, Verify.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the audit log, oldest first (-v: every action).")
        @OptionGroup var options: CommonOptions

        func run() async throws {
            try await runReportingErrors(options) {
                let entries = try options.openStore().auditLog()
                Output.print(options.output == .json ? AuditView.json(entries) : AuditView.text(entries, actions: options.verbose > 0))
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the audit log's hash chain end to end; exit 1 naming the first bad entry.")
        @OptionGroup var options: CommonOptions

        @Option(help: ArgumentHelp("Also require the log to end at this hash (printed by an earlier verify).", valueName: "HASH"))
        var expectHead: String?

        func run() async throws {
            try await runReportingErrors(options) {
                let entries = try options.openStore().auditLog()
                switch AuditChain.verify(entries, expectedHead: expectHead) {
                case .intact(let count, let head):
                    if options.output == .json {
                        Output.print(PlanDocument.encode(["intact": "true", "entries": String(count), "head": head]))
                    } else {
                        Output.print("Audit log intact: \(count) entr\(count == 1 ? "y" : "ies"), head \(head).")
                    }
                case .broken(let entry, let reason):
                    if options.output == .json {
                        Output.print(PlanDocument.encode(["intact": "false", "firstBadEntry": String(entry), "reason": reason]))
                    }
                    throw DCApplyError(.stateStore, "audit log broken at entry #\(entry): \(reason)")
                }
            }
        }
    }
}

enum AuditView {
    static func text(_ entries: [AuditEntry], actions: Bool) -> String {
        guard !entries.isEmpty else { return "The audit log is empty." }
        let formatter = ISO8601DateFormatter()
        var rows = [["#", "AT", "ACTOR", "REVISION", "STATUS", "ACTIONS", "PLAN", "HASH"]]
        for entry in entries {
            rows.append(["\(entry.id)", formatter.string(from: entry.at), entry.actor, entry.revision.map { String($0.prefix(12)) } ?? "-",
                         entry.status, "\(entry.actions.count)", String(entry.planDigest.prefix(12)), String(entry.hash.prefix(12))])
        }
        var text = Table.render(rows)
        if actions {
            for entry in entries {
                text += "\n\n#\(entry.id):\n" + entry.actions.map { "  " + $0.replacingOccurrences(of: "\t", with: "  ") }.joined(separator: "\n")
            }
        }
        return text
    }

    static func json(_ entries: [AuditEntry]) -> String {
        let formatter = ISO8601DateFormatter()
        let objects: [[String: Any]] = entries.map {
            ["id": $0.id, "at": formatter.string(from: $0.at), "actor": $0.actor, "revision": $0.revision ?? NSNull(), "planDigest": $0.planDigest,
             "status": $0.status, "actions": $0.actions, "previousHash": $0.previousHash, "hash": $0.hash]
        }
        guard let data = try? JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else { return "[]" }
        return String(decoding: data, as: UTF8.self)
    }
}
