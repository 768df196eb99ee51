import DCApplyTestSupport
import Foundation
import Testing

/// The built binary against a real PostgreSQL: apply then an empty plan, and the apply lock as
/// an operator meets it — a second apply exits 3 naming the holder, and a holder killed with
/// SIGKILL leaves nothing to clean up.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct PostgresCLITests {
    static let solve = ["--solve-time", "0.2"]

    /// A scratch copy of an example site and a fresh database for its state.
    struct Site {
        let root: URL
        let manifests: String
        let url: String
        let database: String
        var state: [String] { ["--state", url] }

        init(_ example: String) throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-pgcli-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            let name = URL(fileURLWithPath: example).lastPathComponent
            try FileManager.default.copyItem(at: DCApplyRunner.packageRoot.appendingPathComponent(example), to: root.appendingPathComponent(name))
            manifests = root.appendingPathComponent(name).path
            url = try PostgresServer.running().createDatabase()
            database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
        }

        func dcapply(_ arguments: [String], environment: [String: String] = [:]) throws -> DCApplyResult {
            try DCApplyRunner.run(arguments + state, in: root, environment: environment)
        }

        /// `dcapply apply` started in the background, each action slowed by `sleep:MS`.
        func startSlowApply(milliseconds: Int) throws -> Process {
            let process = Process()
            process.executableURL = try DCApplyRunner.executableURL()
            process.arguments = ["apply", manifests, "--yes"] + PostgresCLITests.solve + state
            process.currentDirectoryURL = root
            process.environment = ProcessInfo.processInfo.environment.merging(["DCAPPLY_FAILPOINTS": "apply.action=sleep:\(milliseconds)", "NO_COLOR": "1"]) { $1 }
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }

        /// The pid in the holder row, once the background apply has taken the lock (at most 30 s).
        func waitForHolder() throws -> Int? {
            for _ in 0..<600 {
                // Until the apply has opened the store, the table may not exist yet.
                let row = try? PostgresServer.running().psql(database, "SELECT pid FROM apply_lock")
                if let pid = row.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
                    return pid
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            return nil
        }
    }

    @Test func applyThenPlanIsEmptyAsWithSQLite() throws {
        let site = try Site("Manifests")
        defer { try? FileManager.default.removeItem(at: site.root) }
        let apply = try site.dcapply(["apply", site.manifests, "--yes"] + Self.solve)
        #expect(apply.exitCode == 0, "\(apply.stderr)")
        let plan = try site.dcapply(["plan", site.manifests, "--detailed-exitcode"] + Self.solve)
        #expect(plan.exitCode == 0, "\(plan.stdout)\(plan.stderr)")
        #expect(plan.stdout.contains("No changes. The site matches the manifests."), "\(plan.stdout)")
        let history = try site.dcapply(["state", "history"])
        #expect(history.exitCode == 0)
        #expect(history.stdout.split(separator: "\n").count >= 2, "\(history.stdout)")
        let audit = try site.dcapply(["audit", "verify"])
        #expect(audit.exitCode == 0, "\(audit.stdout)\(audit.stderr)")
    }

    @Test func aPasswordInTheURLOrAnUnreadablePasswordFileIsRefusedBeforeConnecting() throws {
        let root = FileManager.default.temporaryDirectory
        let inURL = try DCApplyRunner.run(["state", "show", "--state", "postgres://ops:s3cret@127.0.0.1:1/state"], in: root)
        #expect(inURL.exitCode == 1)
        #expect(inURL.stderr.hasSuffix("error: --state must not hold a password (it would show in process lists and logs); "
                                       + "set PGPASSWORD or pass --state-password-file FILE\n"), "\(inURL.stderr)")
        #expect(!inURL.stderr.contains("s3cret"))
        let missing = try DCApplyRunner.run(["state", "show", "--state", "postgres://ops@127.0.0.1:1/state",
                                             "--state-password-file", "/nonexistent/pw"], in: root)
        #expect(missing.exitCode == 1)
        #expect(missing.stderr.hasSuffix("error: --state-password-file /nonexistent/pw: cannot read the file\n"), "\(missing.stderr)")
    }

    @Test func aSecondApplyWhileOneRunsExitsThreeNamingTheHolder() throws {
        let site = try Site("Manifests")
        defer { try? FileManager.default.removeItem(at: site.root) }
        let first = try site.startSlowApply(milliseconds: 20)
        defer { if first.isRunning { first.terminate() }; first.waitUntilExit() }
        let holder = try site.waitForHolder()
        #expect(holder == Int(first.processIdentifier))
        let second = try site.dcapply(["apply", site.manifests, "--yes"] + Self.solve)
        #expect(second.exitCode == 3)
        #expect(second.stderr.contains("is locked by pid \(first.processIdentifier) on "), "\(second.stderr)")
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        #expect(try PostgresServer.running().psql(site.database, "SELECT COUNT(*) FROM apply_lock") == "0\n", "released at the end")
    }

    @Test func aHolderKilledWithSIGKILLLeavesNoLockBehind() throws {
        let site = try Site("Manifests")
        defer { try? FileManager.default.removeItem(at: site.root) }
        let first = try site.startSlowApply(milliseconds: 200)
        let holder = try site.waitForHolder()
        #expect(holder == Int(first.processIdentifier))
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        // No `state unlock`: the session died with the process, and its advisory lock with it.
        let next = try site.dcapply(["apply", site.manifests, "--yes"] + Self.solve)
        #expect(next.exitCode == 0, "\(next.stderr)")
        #expect(next.stderr.contains("took over the apply lock of pid \(first.processIdentifier)"), "\(next.stderr)")
        let plan = try site.dcapply(["plan", site.manifests, "--detailed-exitcode"] + Self.solve)
        #expect(plan.exitCode == 0, "\(plan.stdout)")
    }
}
