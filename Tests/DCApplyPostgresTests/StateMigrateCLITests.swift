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
}
