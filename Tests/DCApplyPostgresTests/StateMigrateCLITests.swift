import DCApplyCore
import DCApplyPostgres
import DCApplyTestSupport
import Foundation
import Testing

/// `dcapply state migrate` through the binary: SQLite to PostgreSQL and back, after which
/// `state history`, `state show` and `audit verify` answer the same on every store.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct StateMigrateCLITests {
    @Test func sqliteToPostgresAndBackKeepsHistoryAndTheAuditChain() throws {
        let site = try PostgresCLITests.Site("Examples/quickstart")
        defer { try? FileManager.default.removeItem(at: site.root) }
        let sqlite = "sqlite:" + site.root.appendingPathComponent("state.db").path
        let back = "sqlite:" + site.root.appendingPathComponent("back.db").path
        func dcapply(_ arguments: [String]) throws -> DCApplyResult { try DCApplyRunner.run(arguments, in: site.root) }
        // Two applies around a failed node: a history and an audit chain of two, and an override.
        #expect(try dcapply(["apply", site.manifests, "--yes", "--state", sqlite] + PostgresCLITests.solve).exitCode == 0)
        let failed = try dcapply(["inventory", "set", "gpu-r01-n02", "health=failed", "--state", sqlite])
        #expect(failed.exitCode == 0, "\(failed.stderr)")
        #expect(try dcapply(["apply", site.manifests, "--yes", "--state", sqlite] + PostgresCLITests.solve).exitCode == 0)
        let toPostgres = try dcapply(["state", "migrate", "--from", sqlite, "--to", site.url])
        #expect(toPostgres.exitCode == 0, "\(toPostgres.stderr)")
        #expect(try dcapply(["state", "migrate", "--from", site.url, "--to", back]).exitCode == 0)
        let answers = try [sqlite, site.url, back].map { url in
            try [["state", "history"], ["state", "show", "--output", "json"], ["audit", "verify"]].map { command in
                let result = try dcapply(command + ["--state", url])
                #expect(result.exitCode == 0, "\(command) on \(url): \(result.stderr)")
                return result.stdout
            }
        }
        #expect(answers[0][0].split(separator: "\n").count >= 3, "two applies listed: \(answers[0][0])")
        #expect(answers[1] == answers[0], "PostgreSQL answers as the SQLite source did")
        #expect(answers[2] == answers[0], "and so does the copy back")
        let again = try dcapply(["state", "migrate", "--from", sqlite, "--to", site.url])
        #expect(again.exitCode == 1)
        #expect(again.stderr.contains("already holds applies (serial"), "\(again.stderr)")
    }

    @Test func anApplyInterruptedOnSQLiteIsResumedOnPostgresAfterTheMigrationAndOnTheCopyBack() throws {
        let site = try PostgresCLITests.Site("Examples/quickstart")
        defer { try? FileManager.default.removeItem(at: site.root) }
        let sqlite = "sqlite:" + site.root.appendingPathComponent("state.db").path
        let back = "sqlite:" + site.root.appendingPathComponent("back.db").path
        func dcapply(_ arguments: [String], environment: [String: String] = [:]) throws -> DCApplyResult {
            try DCApplyRunner.run(arguments, in: site.root, environment: environment)
        }
        // Killed (SIGKILL) before its second journal batch is written: the journal holds an
        // unfinished apply whose first batch (the quickstart's four assigns and two attaches) is done.
        let crashed = try dcapply(["apply", site.manifests, "--yes", "--state", sqlite, "--parallelism", "1"] + PostgresCLITests.solve,
                                  environment: ["DCAPPLY_FAILPOINTS": "journal.batch=crash@2"])
        #expect(crashed.exitCode == 9, "\(crashed.stderr)")
        let migrated = try dcapply(["state", "migrate", "--from", sqlite, "--to", site.url])
        #expect(migrated.exitCode == 0, "\(migrated.stderr)")
        #expect(migrated.stderr.contains("and 1 journalled applies from"), "\(migrated.stderr)")
        #expect(try dcapply(["state", "migrate", "--from", site.url, "--to", back]).exitCode == 0)

        // The journal is the same, row for row, in all three stores.
        func journal(_ url: String) throws -> [StateSnapshot.JournalApply] {
            let store: any StateStore = PostgresStateURL.matches(url)
                ? try PostgresStateStore.open(url, passwordFile: nil, environment: [:]) : try StateStores.open(url)
            return try #require(store as? any StateTransferable).allJournal()
        }
        let source = try journal(sqlite)
        #expect(source.count == 1 && source.first?.finishedAt == nil, "one unfinished apply")
        #expect(source.first?.steps.filter { $0.state == "done" }.count == 6, "six actions journalled done before the crash")
        #expect(try journal(site.url) == source)
        #expect(try journal(back) == source)

        // Each copy resumes it: the six done actions are not done again, the plan ends empty.
        for url in [site.url, back] {
            let resumed = try dcapply(["apply", site.manifests, "--yes", "--state", url] + PostgresCLITests.solve)
            #expect(resumed.exitCode == 0, "\(url): \(resumed.stderr)")
            #expect(resumed.stderr.contains("Resumed the apply interrupted"), "\(url): \(resumed.stderr)")
            let steps = try journal(url).first?.steps ?? []
            #expect(steps.allSatisfy { $0.state == "done" && $0.attempts == 1 }, "\(url): every action done once: \(steps)")
            let history = try dcapply(["state", "history", "--state", url])
            #expect(history.stdout.contains("resumed after a crash"), "\(url): \(history.stdout)")
            let plan = try dcapply(["plan", site.manifests, "--state", url] + PostgresCLITests.solve)
            #expect(plan.exitCode == 0 && plan.stdout.contains("No changes"), "\(url): \(plan.stdout)")
        }
    }
}
