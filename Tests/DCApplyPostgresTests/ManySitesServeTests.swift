import DCApplyTestSupport
import Foundation
import Testing

/// Three `dcapply serve` processes on one git repository (two site folders, matched by the glob
/// `sites/*`) and one PostgreSQL database. While all three live, none leads more than
/// ceil(2/3) = 1 site. Every leader's apply pauses 30 s before its second actuator call (failpoint
/// `actuator.call=sleep:MS@2`); the leader of `east` is killed with SIGKILL there, a survivor
/// takes `east` over and finishes the apply, and a recording exec actuator shows every action
/// of both sites carried out exactly once.
///
/// Nested in ``HAServeTests`` (whose `.serialized` covers it) so that the serve processes of
/// the two suites never run at once: on a 2-core machine they would slow each other past the
/// takeover bounds both assert.
extension HAServeTests {
@Suite(.timeLimit(.minutes(5)))
struct ManySitesServeTests {

    /// A bare repository with an empty `sites/`, the recording plugin, and a fresh database.
    struct Fixture {
        let root: URL
        let remote: URL
        let work: URL
        let url: String
        let database: String
        static let git = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-sites-\(UUID().uuidString)")
            remote = root.appendingPathComponent("remote.git")
            work = root.appendingPathComponent("work")
            try FileManager.default.createDirectory(at: work.appendingPathComponent("sites"), withIntermediateDirectories: true)
            try "Site folders: one per site.\n".write(to: work.appendingPathComponent("sites/README.md"), atomically: true, encoding: .utf8)
            // The actuator records every action it is asked to do, one JSON line each, then reports it done.
            let plugin = root.appendingPathComponent("record.py")
            try """
                #!/usr/bin/env python3
                import json, sys
                request = json.load(sys.stdin)
                if request["operation"] == "describe":
                    json.dump({"operations": ["apply"], "actions": ["assign", "attachDrive", "place"]}, sys.stdout)
                    sys.exit(0)
                with open(sys.argv[1], "a") as log:
                    for action in request["actions"]:
                        log.write(json.dumps({"site": sys.argv[2], "id": action["id"], "action": action["action"], "resource": action["resource"]}) + "\\n")
                json.dump({"results": [{"id": a["id"], "status": "done"} for a in request["actions"]]}, sys.stdout)

                """.write(to: plugin, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: plugin.path)
            _ = try HAServeTests.Fixture.run("/usr/bin/git", ["init", "-q", "--bare", "-b", "main", remote.path], in: root)
            _ = try HAServeTests.Fixture.run("/usr/bin/git", ["init", "-q", "-b", "main", work.path], in: root)
            url = try PostgresServer.running().createDatabase()
            database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
            try commit("No site yet")
        }

        var actionsLog: URL { root.appendingPathComponent("actions.log") }

        /// Adds the quickstart as `sites/<name>/`, its Site named `name` and driven by the recording actuator.
        func addSite(_ name: String) throws {
            let folder = work.appendingPathComponent("sites/\(name)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let examples = DCApplyRunner.packageRoot.appendingPathComponent("Examples/quickstart")
            try FileManager.default.copyItem(at: examples.appendingPathComponent("inventory.yaml"), to: folder.appendingPathComponent("inventory.yaml"))
            let site = try String(contentsOf: examples.appendingPathComponent("site.yaml"), encoding: .utf8)
                .replacingOccurrences(of: "  name: lab\n", with: "  name: \(name)\n")
                .replacingOccurrences(of: "  site: lab\n", with: "  site: \(name)\n")
                .replacingOccurrences(of: "  failureDomains: [rack]\n", with: """
                      failureDomains: [rack]
                      actuators: [{exec: {command: ["\(root.appendingPathComponent("record.py").path)", "\(actionsLog.path)", "\(name)"], timeout: 60s}}]

                    """)
            try site.write(to: folder.appendingPathComponent("site.yaml"), atomically: true, encoding: .utf8)
            // serve runs an exec plugin in its manifest's folder, taken relative to serve's own
            // directory (the fixture's root), though it reads the manifests from git objects.
            try FileManager.default.createDirectory(at: root.appendingPathComponent("sites/\(name)"), withIntermediateDirectories: true)
        }

        func commit(_ message: String) throws {
            _ = try HAServeTests.Fixture.run("/usr/bin/git", ["add", "."], in: work)
            _ = try HAServeTests.Fixture.run("/usr/bin/git", Self.git + ["commit", "-q", "-m", message], in: work)
            _ = try HAServeTests.Fixture.run("/usr/bin/git", ["push", "-q", remote.path, "main"], in: work)
        }

        func psql(_ sql: String) throws -> String { try PostgresServer.running().psql(database, sql) }

        /// The recorded actions, one per line.
        func recorded() -> [[String: String]] {
            let text = (try? String(contentsOf: actionsLog, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
        }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    /// One serve process following `sites/*`, one action at a time, with `failpoints`.
    final class Controller: @unchecked Sendable {  // set up before it is shared; then read only
        let process = Process()
        let logURL: URL
        let name: String
        private(set) var port = 0

        init(_ fixture: Fixture, name: String, failpoints: String, state: String? = nil) throws {
            self.name = name
            logURL = fixture.root.appendingPathComponent("\(name).log")
            _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
            let log = try FileHandle(forWritingTo: logURL)
            process.executableURL = try DCApplyRunner.executableURL()
            process.arguments = ["serve", "--repo", "file://" + fixture.remote.path, "--branch", "main", "--path", "sites/*",
                                 "--interval", "2s", "--leader-check", "1s", "--listen", "127.0.0.1:0", "--parallelism", "1",
                                 "--solve-time", "0.2", "--state", state ?? fixture.url, "--cache", fixture.root.appendingPathComponent("cache-\(name)").path]
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

        func waitUntilListening() async throws {
            let marker = "dcapply serve: listening on 127.0.0.1:"
            let deadline = Date().addingTimeInterval(150)  // a loaded machine starts serve slowly
            while Date() < deadline {
                if let line = log.split(separator: "\n").first(where: { $0.hasPrefix(marker) }),
                   let text = line.dropFirst(marker.count).split(separator: ",").first, let found = Int(text) {
                    port = found
                    return
                }
                guard process.isRunning else { throw Failure(description: "serve \(name) exited: \(log)") }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw Failure(description: "serve \(name) did not start listening: \(log)")
        }

        func get(_ path: String) -> String? {
            guard port > 0, process.isRunning else { return nil }
            return try? HAServeTests.Fixture.run("/usr/bin/curl", ["-s", "--noproxy", "*", "-m", "5", "http://127.0.0.1:\(port)/\(path)"],
                                                 in: URL(fileURLWithPath: "/"))
        }

        func status() -> [String: Any] {
            guard let text = get("status") else { return [:] }
            return (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
        }

        /// The sites this controller leads, as its /status says; nil when it does not answer.
        func leading() -> [String]? { status()["leading"] as? [String] }

        func kill(_ signal: Int32) {
            guard process.isRunning else { return }
            Foundation.kill(process.processIdentifier, signal)
            process.waitUntilExit()
        }
    }

    @Test func theLeaderOfOneSiteKilledMidApplyIsReplacedAndEveryActionIsDoneOnce() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let pause = 30_000
        let controllers = try ["a", "b", "c"].map { try Controller(fixture, name: $0, failpoints: "actuator.call=sleep:\(pause)@2") }
        defer { for controller in controllers { controller.kill(SIGTERM) } }
        do {
            try await Self.failover(fixture, controllers)
        } catch {
            for controller in controllers { print("--- serve \(controller.name):\n\(controller.log.suffix(6000))") }
            throw error
        }
    }

    static func failover(_ fixture: Fixture, _ controllers: [Controller]) async throws {
        for controller in controllers { try await controller.waitUntilListening() }
        try await HAServeTests.waitFor("the three controllers to see each other") {
            controllers.allSatisfy { $0.status()["controllers"] as? Int == 3 }
        }

        try fixture.addSite("east")
        try fixture.addSite("west")
        try fixture.commit("Two sites")
        // Both sites led, each by one controller, none leading more than one.
        try await HAServeTests.waitFor("both sites to be led", timeout: 90) {
            let seen = Dictionary(uniqueKeysWithValues: controllers.map { ($0.name, $0.leading() ?? []) })
            #expect(seen.values.allSatisfy { $0.count <= 1 }, "no controller leads more than ceil(2/3) = 1 site: \(seen)")
            return seen.values.flatMap { $0 }.sorted() == ["east", "west"]
        }
        // Kill east's leader once its first wave is journalled (every action the plugin recorded
        // for east is done in the journal): it then sleeps before its second actuator call. Only psql here, to act well inside the pause
        // on a loaded machine; who leads east is the serve_leader row whose session holds the lock.
        var leaderPID: Int?
        let deadline = Date().addingTimeInterval(90)
        while leaderPID == nil {
            guard Date() < deadline else { throw Failure(description: "timed out waiting for east's apply to be under way") }
            leaderPID = try await HAServeTests.offPool { () -> Int? in
                let row = try fixture.psql("""
                    SELECT (SELECT count(*) FROM journal_step WHERE site = 'east' AND state = 'done'),
                           (SELECT count(*) FROM apply_journal WHERE site = 'east' AND finished_at IS NULL),
                           (SELECT pid FROM serve_leader WHERE site = 'east')
                    """).trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|").map { Int($0) ?? 0 }
                // At an action boundary: all the actuator did so far is journalled done.
                let sent = fixture.recorded().filter { $0["site"] == "east" }.count
                return row.count == 3 && row[0] >= 1 && row[0] == sent && row[1] == 1 ? row[2] : nil
            }
            if leaderPID == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        let dead = try #require(controllers.first { Int($0.process.processIdentifier) == leaderPID }, "east's leader pid \(leaderPID ?? 0)")
        await Self.offPool { dead.kill(SIGKILL) }

        let survivors = controllers.filter { $0 !== dead }
        let takeover = try await HAServeTests.waitFor("a survivor to take east over", timeout: 60) {
            survivors.contains { $0.leading()?.contains("east") == true }
        }
        print("many sites: east taken over \(String(format: "%.2f", takeover)) s after SIGKILL")
        #expect(takeover < 10)
        try await HAServeTests.waitFor("both applies to finish", timeout: 120) {
            try fixture.psql("SELECT count(*) FROM apply_journal WHERE finished_at IS NULL") == "0\n"
                && fixture.psql("SELECT count(*) FROM apply_history") == "2\n"
        }
        let after = Dictionary(uniqueKeysWithValues: survivors.map { ($0.name, $0.leading() ?? []) })
        #expect(after.values.map(\.count).sorted() == [1, 1], "each survivor leads one site: \(after)")

        // Every action of both plans done exactly once, by the plugin's own record and by the journal.
        let recorded = fixture.recorded()
        for site in ["east", "west"] {
            let mine = recorded.filter { $0["site"] == site }
            #expect(mine.count == 10, "\(site): \(mine.count) actions recorded: \(mine)")
            #expect(Set(mine.compactMap { $0["id"] }).count == mine.count, "\(site): an action was sent twice: \(mine)")
        }
        // (The journal counts a step the dead leader started but never sent as an attempt: the
        // plugin's record above is what says each action reached the system once.)
        let journal = try fixture.psql("SELECT site, count(*) FROM journal_step WHERE state = 'done' GROUP BY site ORDER BY site")
        #expect(journal == "east|10\nwest|10\n")
        #expect(try fixture.psql("SELECT count(*) FROM journal_step WHERE state <> 'done'") == "0\n")
        let history = try fixture.psql("SELECT site, status, done, change_count FROM apply_history ORDER BY site")
        #expect(history == "east|resumed|10|10\nwest|completed|10|10\n")
        let taker = survivors.first { $0.leading()?.contains("east") == true }
        #expect(taker?.log.contains("finishing an interrupted apply before anything new") == true)
    }

    @Test func onSQLiteEachSiteHasItsOwnFileAndAFolderAddedByACommitIsServed() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try fixture.addSite("east")
        try fixture.commit("One site")
        let state = fixture.root.appendingPathComponent("state/dcapply.db").path
        let serve = try Controller(fixture, name: "solo", failpoints: "", state: "sqlite:" + state)
        defer { serve.kill(SIGTERM) }
        try await serve.waitUntilListening()
        try await HAServeTests.waitFor("east to be applied", timeout: 90) { serve.get("readyz")?.hasPrefix("ready: 1 site\neast: serving revision ") == true }
        #expect(FileManager.default.fileExists(atPath: fixture.root.appendingPathComponent("state/dcapply.east.db").path))
        #expect(!FileManager.default.fileExists(atPath: state), "no store for the sites together")

        try fixture.addSite("west")
        try fixture.commit("A second site")
        try await HAServeTests.waitFor("west to be served and applied", timeout: 90) {
            serve.get("readyz")?.hasPrefix("ready: 2 sites\neast: serving revision ") == true
                && serve.get("readyz")?.contains("\nwest: serving revision ") == true
        }
        #expect(FileManager.default.fileExists(atPath: fixture.root.appendingPathComponent("state/dcapply.west.db").path))
        let status = serve.status()
        #expect(status["leading"] == nil, "no shared store: no leadership")
        #expect((status["sites"] as? [[String: Any]])?.compactMap { $0["site"] as? String } == ["east", "west"])
        let metrics = serve.get("metrics") ?? ""
        #expect(metrics.contains(#"dcapply_reconcile_total{site="west",result="success"}"#), "\(metrics)")
    }

    @Test func aSiteParameterIsRefusedWithSeveralSites() throws {
        let result = try DCApplyRunner.run(["serve", "--repo", "/nonexistent", "--branch", "main", "--path", "sites/*",
                                            "--state", "postgres://ops@127.0.0.1:1/state?site=east"], in: FileManager.default.temporaryDirectory)
        #expect(result.exitCode == 1)
        #expect(result.stderr.hasSuffix("error: --state: site= names one site, but serve runs several (--path repeated or a glob); "
                                        + "drop site=: each site is kept under its Site name\n"), "\(result.stderr)")
    }

    static func offPool(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                body()
                continuation.resume()
            }
        }
    }
}
}
