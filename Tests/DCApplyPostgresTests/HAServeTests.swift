import DCApplyTestSupport
import Foundation
import Testing

/// Two `dcapply serve` processes on one git repository and one PostgreSQL database: one leads,
/// the other stands by; the leader killed with SIGKILL, or its leadership session terminated,
/// while its apply is paused after its third action (failpoint `sleep:MS@3`), and the other
/// finishes that apply, no action done twice.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct HAServeTests {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// A bare repository holding the quickstart under manifests/, and a fresh database.
    struct Fixture {
        let root: URL
        let remote: URL
        let url: String
        let database: String
        let head: String

        init(server: PostgresServer? = nil) throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-ha-\(UUID().uuidString)")
            remote = root.appendingPathComponent("remote.git")
            let work = root.appendingPathComponent("work")
            try FileManager.default.createDirectory(at: work.appendingPathComponent("manifests"), withIntermediateDirectories: true)
            for file in ["site.yaml", "inventory.yaml"] {
                try FileManager.default.copyItem(at: DCApplyRunner.packageRoot.appendingPathComponent("Examples/quickstart/\(file)"),
                                                 to: work.appendingPathComponent("manifests/\(file)"))
            }
            let git = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]
            _ = try Self.run("/usr/bin/git", ["init", "-q", "--bare", "-b", "main", remote.path], in: root)
            _ = try Self.run("/usr/bin/git", ["init", "-q", "-b", "main", work.path], in: root)
            _ = try Self.run("/usr/bin/git", ["add", "."], in: work)
            _ = try Self.run("/usr/bin/git", git + ["commit", "-q", "-m", "Quickstart site"], in: work)
            _ = try Self.run("/usr/bin/git", ["push", "-q", remote.path, "main"], in: work)
            head = try Self.run("/usr/bin/git", ["rev-parse", "HEAD"], in: work).trimmingCharacters(in: .whitespacesAndNewlines)
            self.server = try server ?? PostgresServer.running()
            url = try self.server.createDatabase()
            database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
        }

        let server: PostgresServer

        /// Commits `old` → `new` in manifests/site.yaml and pushes it; the new head.
        func push(replacing old: String, with new: String, message: String) throws -> String {
            let work = root.appendingPathComponent("work")
            let file = work.appendingPathComponent("manifests/site.yaml")
            let text = try String(contentsOf: file, encoding: .utf8)
            guard text.contains(old) else { throw Failure(description: "site.yaml has no \(old)") }
            try text.replacingOccurrences(of: old, with: new).write(to: file, atomically: true, encoding: .utf8)
            let git = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]
            _ = try Self.run("/usr/bin/git", git + ["commit", "-q", "-am", message], in: work)
            _ = try Self.run("/usr/bin/git", ["push", "-q", remote.path, "main"], in: work)
            return try Self.run("/usr/bin/git", ["rev-parse", "HEAD"], in: work).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        static func run(_ executable: String, _ arguments: [String], in directory: URL) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.currentDirectoryURL = directory
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let text = String(decoding: data, as: UTF8.self)
            guard process.terminationStatus == 0 else { throw Failure(description: "\(executable) \(arguments) failed: \(text)") }
            return text
        }

        func psql(_ sql: String) throws -> String { try server.psql(database, sql) }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    /// One serve process, one action at a time, with `failpoints` (DCAPPLY_FAILPOINTS) if given.
    final class Controller: @unchecked Sendable {  // set up before it is shared; then read only
        let process = Process()
        let logURL: URL
        private(set) var port = 0

        init(_ fixture: Fixture, name: String, failpoints: String?) throws {
            logURL = fixture.root.appendingPathComponent("\(name).log")
            _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
            let log = try FileHandle(forWritingTo: logURL)
            process.executableURL = try DCApplyRunner.executableURL()
            process.arguments = ["serve", "--repo", "file://" + fixture.remote.path, "--branch", "main", "--path", "manifests",
                                 "--interval", "2s", "--leader-check", "1s", "--listen", "127.0.0.1:0", "--parallelism", "1",
                                 "--solve-time", "0.2", "--state", fixture.url, "--cache", fixture.root.appendingPathComponent("cache-\(name)").path]
            process.currentDirectoryURL = fixture.root
            var environment = ProcessInfo.processInfo.environment
            environment["NO_COLOR"] = "1"
            environment["DCAPPLY_FAILPOINTS"] = failpoints
            process.environment = environment
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = log
            process.standardError = log
            try process.run()
        }

        deinit { kill(SIGKILL) }

        var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }
        var pid: Int32 { process.processIdentifier }

        func waitUntilListening() async throws {
            let marker = "dcapply serve: listening on 127.0.0.1:"
            let deadline = Date().addingTimeInterval(150)  // a loaded machine (the full suite) starts serve slowly
            while Date() < deadline {
                if let line = log.split(separator: "\n").first(where: { $0.hasPrefix(marker) }),
                   let text = line.dropFirst(marker.count).split(separator: ",").first, let found = Int(text) {
                    port = found
                    return
                }
                guard process.isRunning else { throw Failure(description: "serve exited: \(log)") }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw Failure(description: "serve did not start listening: \(log)")
        }

        func get(_ path: String) throws -> String {
            try Fixture.run("/usr/bin/curl", ["-s", "--noproxy", "*", "-m", "5", "http://127.0.0.1:\(port)/\(path)"], in: URL(fileURLWithPath: "/"))
        }

        func status() -> [String: Any] {
            guard let text = try? get("status") else { return [:] }
            return (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
        }

        func kill(_ signal: Int32) {
            guard process.isRunning else { return }
            Foundation.kill(process.processIdentifier, signal)
            process.waitUntilExit()
        }
    }

    /// Runs `body` (psql, curl: blocking) on a Dispatch thread, not on one of the few threads
    /// the other tests' tasks share.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Polls until `condition` holds (checked off the pool); the seconds it took.
    @discardableResult
    static func waitFor(_ what: String, timeout: Double = 60, _ condition: @escaping @Sendable () throws -> Bool) async throws -> Double {
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            if try await offPool(condition) { return Date().timeIntervalSince(start) }
            try await Task.sleep(for: .milliseconds(20))
        }
        if try await offPool(condition) { return Date().timeIntervalSince(start) }
        throw Failure(description: "timed out waiting for \(what)")
    }

    /// Starts two controllers and waits for one to lead and journal two actions; (leader, standby).
    /// Starts the leader, whose apply stops `pause` after its third action (the provider call
    /// made, its outcome not yet journalled), then a standby without failpoints; returns both
    /// once two actions are journalled, so the apply is surely under way.
    static func twoControllersMidApply(_ fixture: Fixture, pause: Int) async throws -> (Controller, Controller) {
        let leader = try Controller(fixture, name: "a", failpoints: "apply.action=sleep:\(pause)@3")
        try await leader.waitUntilListening()
        try await waitFor("the first controller to lead") { leader.status()["leader"] as? Bool == true }
        let standby = try Controller(fixture, name: "b", failpoints: nil)
        try await standby.waitUntilListening()
        try await waitFor("the second controller to stand by") { standby.status()["leader"] as? Bool == false }
        let named = try await offPool { (standby.status()["leadBy"] as? [String: Any])?["pid"] as? Int }
        #expect(named == Int(leader.pid), "the standby names the leader")
        #expect(try await offPool { try standby.get("readyz") }.hasPrefix("ready: standby; "))
        try await waitFor("two actions journalled") {
            Int(try fixture.psql("SELECT count(*) FROM journal_step WHERE state = 'done'").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 >= 2
        }
        return (leader, standby)
    }

    /// Every step of the one apply done once, recorded as resumed by the new leader.
    static func expectEveryActionOnce(_ fixture: Fixture) throws {
        #expect(try fixture.psql("SELECT count(*), min(attempts), max(attempts) FROM journal_step WHERE state = 'done'") == "10|1|1\n")
        #expect(try fixture.psql("SELECT count(*) FROM journal_step WHERE state <> 'done'") == "0\n")
        #expect(try fixture.psql("SELECT status, done, change_count FROM apply_history ORDER BY id") == "resumed|10|10\n")
        #expect(try fixture.psql("SELECT count(*) FROM apply_journal WHERE finished_at IS NULL") == "0\n")
    }

    @Test func postgresRestartedUnderTwoControllersTheyRecoverAndApplyTheNextCommitOnce() async throws {
        // initdb, git and createdb block: off the two cooperative threads the other tests share.
        let server = try await Self.offPool { try PostgresServer.dedicated() }
        defer { server.stop() }
        let fixture = try await Self.offPool { try Fixture(server: server) }
        defer { fixture.remove() }
        let first = try Controller(fixture, name: "a", failpoints: nil)
        defer { first.kill(SIGTERM) }
        try await first.waitUntilListening()
        try await Self.waitFor("the first controller to lead and apply", timeout: 120) {
            first.status()["lastAppliedRevision"] as? String == fixture.head
        }
        let second = try Controller(fixture, name: "b", failpoints: nil)
        defer { second.kill(SIGTERM) }
        try await second.waitUntilListening()
        try await Self.waitFor("the second controller to stand by") { second.status()["leader"] as? Bool == false }

        // PostgreSQL goes away: neither controller can ask who leads, and neither says it is ready.
        try await Self.offPool { server.stopServer() }
        for controller in [first, second] {
            try await Self.waitFor("/readyz to say not ready during the outage", timeout: 30) {
                (try? controller.get("readyz"))?.hasPrefix("not ready: cannot ask who leads the site") == true
            }
        }
        try await Self.offPool { try server.startAgain() }
        // With no person acting: the next commit is applied by one of them, once.
        let next = try await Self.offPool { try fixture.push(replacing: "replicas: 4", with: "replicas: 3", message: "Three replicas") }
        try await Self.waitFor("a controller to apply the commit after the restart", timeout: 120) {
            [first, second].contains { $0.status()["lastAppliedRevision"] as? String == next }
        }
        let leaders = try await Self.offPool { [first, second].map { $0.status()["leader"] as? Bool } }
        #expect(leaders.filter { $0 == true }.count == 1, "one leads, one stands by: \(leaders)")
        #expect(try await Self.offPool { try fixture.psql("SELECT count(*) FROM apply_history WHERE revision = '\(next)'") } == "1\n")
        #expect(try await Self.offPool { try fixture.psql("SELECT count(*) FROM apply_journal WHERE finished_at IS NULL") } == "0\n")
        let history = try await Self.offPool {
            try DCApplyRunner.run(["state", "history", "--state", fixture.url], in: fixture.root)
        }
        #expect(history.exitCode == 0, "\(history.stderr)")
        #expect(history.stdout.components(separatedBy: String(next.prefix(12))).count - 1 == 1, "the commit applied once: \(history.stdout)")
        // Both are ready again (the standby too, on its next pass), and each logged the outage
        // once per connection (the store's, the leadership's) and its end, not once per pass.
        for controller in [first, second] {
            try await Self.waitFor("/readyz to say ready after the outage", timeout: 30) {
                (try? controller.get("readyz"))?.hasPrefix("ready") == true && controller.log.contains("reconnected to PostgreSQL at")
            }
            let log = controller.log
            #expect(log.components(separatedBy: "lost the connection to PostgreSQL at").count - 1 <= 2, "\(log)")
            #expect(log.components(separatedBy: "reconcile failed").count - 1 == 1, "\(log)")
        }
    }

    @Test func postgresRestartedMidApplyTheApplyStopsAndIsFinishedOnceWithoutAPerson() async throws {
        // initdb, git and createdb block: off the two cooperative threads the other tests share.
        let server = try await Self.offPool { try PostgresServer.dedicated() }
        defer { server.stop() }
        let fixture = try await Self.offPool { try Fixture(server: server) }
        defer { fixture.remove() }
        // The pause outlasts a restart on a loaded machine (CI once took more than 8 s between
        // the second journalled action and the restart, and the leader, awake again, simply
        // finished its apply before PostgreSQL went away).
        let (leader, standby) = try await Self.twoControllersMidApply(fixture, pause: 30_000)
        defer {
            leader.kill(SIGTERM)
            standby.kill(SIGTERM)
        }
        // Every session ends while the leader is paused after its third provider call, its
        // outcome not yet journalled: the leader's apply lock and leadership go with them.
        try await Self.offPool { try server.restart() }
        try await Self.waitFor("a controller to finish the apply", timeout: 120) {
            [leader, standby].contains { $0.status()["lastAppliedRevision"] as? String == fixture.head }
        }
        try await Self.offPool { try Self.expectEveryActionOnce(fixture) }
        // The old leader wakes from its pause, finds its lock and leadership gone, writes
        // nothing and stands by.
        do {
            try await Self.waitFor("the old leader to stop", timeout: 90) { leader.log.contains("lost the leadership of the site") }
        } catch {
            Issue.record("\(error); the old leader's log:\n\(leader.log)")
            return
        }
        #expect(leader.process.isRunning)
        #expect(leader.log.contains("lost the connection to PostgreSQL at"), "\(leader.log)")
        try await Self.offPool { try Self.expectEveryActionOnce(fixture) }
    }

    @Test func theLeaderKilledMidApplyIsReplacedAndTheApplyFinishedOnce() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let (leader, standby) = try await Self.twoControllersMidApply(fixture, pause: 60_000)
        defer { standby.kill(SIGTERM) }
        try await Self.offPool { leader.kill(SIGKILL) }
        let takeover = try await Self.waitFor("the standby to take over", timeout: 30) { standby.status()["leader"] as? Bool == true }
        print("HA takeover after SIGKILL: \(String(format: "%.2f", takeover)) s")
        #expect(takeover < 10)
        try await Self.waitFor("the apply to finish") { standby.status()["lastAppliedRevision"] as? String == fixture.head }
        try await Self.offPool { try Self.expectEveryActionOnce(fixture) }
        #expect(standby.log.contains("finishing an interrupted apply before anything new"))
    }

    @Test func aLeaderWhoseSessionIsTerminatedStopsActingAndTheOtherFinishes() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        // Long enough that the session is surely ended while the leader is paused, on a loaded
        // machine too (see the restart test).
        let (leader, standby) = try await Self.twoControllersMidApply(fixture, pause: 30_000)
        defer {
            leader.kill(SIGTERM)
            standby.kill(SIGTERM)
        }
        let terminated = try await Self.offPool {
            let session = try fixture.psql("SELECT backend_pid FROM serve_leader").trimmingCharacters(in: .whitespacesAndNewlines)
            return try fixture.psql("SELECT pg_terminate_backend(\(session))")
        }
        #expect(terminated == "t\n")
        let takeover = try await Self.waitFor("the standby to take over", timeout: 30) { standby.status()["leader"] as? Bool == true }
        print("HA takeover after pg_terminate_backend: \(String(format: "%.2f", takeover)) s")
        try await Self.waitFor("the apply to finish") { standby.status()["lastAppliedRevision"] as? String == fixture.head }
        #expect(leader.process.isRunning, "the fenced controller lives on as a standby")
        // /status says what the last pass found; the fenced one's pass ended standing by.
        try await Self.waitFor("the fenced controller to report standby", timeout: 90) { leader.status()["leader"] as? Bool == false }
        #expect(leader.log.contains("lost the leadership of the site"), "\(leader.log)")
        try await Self.offPool { try Self.expectEveryActionOnce(fixture) }
    }
}
