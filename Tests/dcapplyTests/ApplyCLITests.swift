import DCApplyTestSupport
import Foundation
import GRDB
import Testing

/// Apply as an operator meets it: crashes and resumes, locks, saved plans, failures — the
/// built binary against a real SQLite state store.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ApplyCLITests {
    /// A scratch folder with a copy of an example site and a state database inside it.
    struct Site {
        let root: URL
        let manifests: String
        let database: String
        var state: [String] { ["--state", "sqlite:" + database] }

        init(_ example: String) throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-apply-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            let name = URL(fileURLWithPath: example).lastPathComponent
            try FileManager.default.copyItem(at: DCApplyRunner.packageRoot.appendingPathComponent(example), to: root.appendingPathComponent(name))
            manifests = root.appendingPathComponent(name).path
            database = root.appendingPathComponent("state.db").path
        }

        func dcapply(_ arguments: [String], environment: [String: String] = [:]) throws -> DCApplyResult {
            try DCApplyRunner.run(arguments + state, in: root, environment: environment)
        }

        func stateJSON() throws -> String { try dcapply(["state", "show", "--output", "json"]).stdout }

        func read<T>(_ body: (Database) throws -> T) throws -> T {
            try DatabaseQueue(path: database).read(body)
        }

        func write(_ body: (Database) throws -> Void) throws {
            try DatabaseQueue(path: database).write(body)
        }
    }

    /// A fast, deterministic solve: the same plan in every run of a test.
    static let solve = ["--solve-time", "0.2"]

    /// The state after an uninterrupted apply of the sample site, and its number of actions;
    /// made once per test run.
    static let uninterrupted: Result<(String, Int), any Error> = Result {
        let reference = try Site("Manifests")
        let straight = try reference.dcapply(["apply", reference.manifests, "--yes"] + solve)
        guard straight.exitCode == 0 else { throw DCApplyRunner.LaunchError(description: "reference apply failed: \(straight.stderr)") }
        return (try reference.stateJSON(), try reference.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM journal_step") ?? 0 })
    }

    /// Kill dcapply (SIGKILL, via the crash failpoint) after the Nth action of an apply of the
    /// sample site, run it again, and compare with an apply that was never interrupted.
    @Test(arguments: [1, 2, 3, 47, 300, 612, 700, 719])
    func aCrashMidApplyOfTheSampleSiteIsResumedExactly(crashAt: Int) throws {
        let (expected, actions) = try Self.uninterrupted.get()
        #expect(actions == 719, "the sample site's first apply has 719 actions; update the crash points if it changes")

        let site = try Site("Manifests")
        let crashed = try site.dcapply(["apply", site.manifests, "--yes"] + Self.solve, environment: ["DCAPPLY_FAILPOINTS": "apply.action=crash@\(crashAt)"])
        #expect(crashed.exitCode == 9, "killed by the failpoint (SIGKILL): \(crashed.stderr.suffix(300))")
        #expect(try site.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM apply_journal WHERE finished_at IS NULL") } == 1)

        // What the hardware already shows: power changes journalled done, or started and reached
        // (the process died after the call, before journalling it).
        let reachedBefore = try site.read { db in
            try String.fetchAll(db, sql: """
                SELECT j.resource FROM journal_step j LEFT JOIN node_observed o ON o.node = substr(j.resource, 6)
                WHERE j.action IN ('powerOn', 'powerOff')
                  AND (j.state = 'done' OR o.power_state = CASE j.action WHEN 'powerOn' THEN 'on' ELSE 'off' END)
                """)
        }
        let attemptsBefore = try site.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT resource, attempts FROM journal_step WHERE action IN ('powerOn', 'powerOff')")
                .map { ($0["resource"] as String, $0["attempts"] as Int) })
        }
        let resumed = try site.dcapply(["apply", site.manifests, "--yes"] + Self.solve)
        #expect(resumed.exitCode == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("Resumed the apply interrupted"))
        #expect(resumed.stderr.contains("Nothing to apply"), "the resumed apply finished the plan: \(resumed.stderr)")
        #expect(try site.stateJSON() == expected, "crash@\(crashAt): the final state differs from an uninterrupted apply")
        // No power change the hardware already showed was asked for again: the journal counts the
        // provider calls started per action. (An action started but not reached when the process
        // died — in flight beside the one that crashed — is called on resume; that is its first
        // call to reach the hardware.)
        let after = try site.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT resource, attempts FROM journal_step WHERE action IN ('powerOn', 'powerOff')")
                .map { ($0["resource"] as String, $0["attempts"] as Int) })
        }
        let twice = reachedBefore.filter { after[$0] != attemptsBefore[$0] }
        #expect(twice.isEmpty, "called again although done: \(twice)")
        #expect(after.count == 46 && after.values.allSatisfy { $0 <= 2 }, "every power change journalled, none retried blindly")
        let undone = try site.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM journal_step WHERE state <> 'done'") }
        #expect(undone == 0)
        let history = try site.dcapply(["state", "history"])
        #expect(history.stdout.contains("resumed after a crash"), "\(history.stdout)")
    }

    @Test func aSecondApplyWhileOneRunsExitsThreeNamingTheHolder() throws {
        let site = try Site("Manifests")
        let first = Process()
        first.executableURL = try DCApplyRunner.executableURL()
        first.arguments = ["apply", site.manifests, "--yes"] + Self.solve + site.state
        first.environment = ProcessInfo.processInfo.environment.merging(["DCAPPLY_FAILPOINTS": "apply.action=sleep:20"]) { $1 }
        first.standardOutput = FileHandle.nullDevice
        first.standardError = FileHandle.nullDevice
        try first.run()
        defer { if first.isRunning { first.terminate() }; first.waitUntilExit() }
        var holder: Int?
        for _ in 0..<600 where holder == nil {
            Thread.sleep(forTimeInterval: 0.05)
            holder = try? site.read { try Int.fetchOne($0, sql: "SELECT pid FROM apply_lock") }
        }
        #expect(holder == Int(first.processIdentifier))
        let second = try site.dcapply(["apply", site.manifests, "--yes"] + Self.solve)
        #expect(second.exitCode == 3)
        #expect(second.stderr.contains("locked by pid \(first.processIdentifier) on "), "\(second.stderr)")
        let unlock = try site.dcapply(["state", "unlock"])
        #expect(unlock.exitCode == 3 && unlock.stderr.contains("still running"), "unlock is refused while the holder lives")
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        #expect(try site.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM apply_lock") } == 0, "released at the end")
    }

    @Test func aLockLeftByADeadProcessIsTakenOverOrBroken() throws {
        let site = try Site("Examples/quickstart")
        #expect(try site.dcapply(["plan", site.manifests]).exitCode == 0)  // makes the store
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let host = ProcessInfo.processInfo.hostName
        try site.write { try $0.execute(sql: "INSERT INTO apply_lock VALUES (1, ?, ?, '1', '2026-01-01T00:00:00Z', 'apply')", arguments: [host, gone.processIdentifier]) }
        let unlock = try site.dcapply(["state", "unlock"])
        #expect(unlock.exitCode == 0 && unlock.stderr.contains("Broke the lock of pid \(gone.processIdentifier)"), "\(unlock.stderr)")

        try site.write { try $0.execute(sql: "INSERT INTO apply_lock VALUES (1, ?, ?, '1', '2026-01-01T00:00:00Z', 'apply')", arguments: [host, gone.processIdentifier]) }
        let apply = try site.dcapply(["apply", site.manifests, "--yes"])
        #expect(apply.exitCode == 0, "a dead holder's lock on this host is taken over: \(apply.stderr)")
        #expect(apply.stderr.contains("took over the apply lock"))

        try site.write { try $0.execute(sql: "INSERT INTO apply_lock VALUES (1, 'far.example', 4242, NULL, '2026-01-01T00:00:00Z', 'apply')") }
        let blocked = try site.dcapply(["apply", site.manifests, "--yes"])
        #expect(blocked.exitCode == 3)
        #expect(blocked.stderr.contains("is locked by pid 4242 on far.example (apply), since 2026-01-01T00:00:00Z; it runs on another host; if it is gone, `dcapply state unlock --force` breaks the lock\n"), "\(blocked.stderr)")
        #expect(try site.dcapply(["state", "unlock"]).exitCode == 3, "another host's holder is not broken without --force")
        #expect(try site.dcapply(["state", "unlock", "--force"]).exitCode == 0)
    }

    @Test func aSavedPlanAppliesAndIsRefusedOnceAnythingChanged() throws {
        let site = try Site("Examples/quickstart")
        let out = site.root.appendingPathComponent("plans/plan.json").path
        let plan = try site.dcapply(["plan", site.manifests, "--out", out])
        #expect(plan.exitCode == 0)
        let saved = try String(contentsOfFile: out, encoding: .utf8)
        #expect(saved.contains("\"observedDigest\"") && saved.contains("\"stateSerial\" : 0"))

        // Hardware changed.
        #expect(try site.dcapply(["inventory", "set", "gpu-r02-n03", "health=failed"]).exitCode == 0)
        let stale = try site.dcapply(["apply", "--plan", out, site.manifests])
        #expect(stale.exitCode == 1)
        #expect(stale.stderr.contains("refused to apply the saved plan") && stale.stderr.contains("the observed hardware changed"), "\(stale.stderr)")
        #expect(try site.dcapply(["inventory", "set", "gpu-r02-n03", "health="]).exitCode == 0)

        // Manifests changed.
        let workload = site.manifests + "/extra.yaml"
        try "apiVersion: dcapply/v1\nkind: Workload\nmetadata: {name: extra}\nspec: {pool: train, replicas: 1, resources: {gpus: 1}}\n".write(toFile: workload, atomically: true, encoding: .utf8)
        let changed = try site.dcapply(["apply", "--plan", out, site.manifests])
        #expect(changed.exitCode == 1 && changed.stderr.contains("the manifests changed"), "\(changed.stderr)")
        try FileManager.default.removeItem(atPath: workload)

        // Unchanged: applies without asking, exactly the saved changes.
        let applied = try site.dcapply(["apply", "--plan", out, site.manifests, "--output", "json"])
        #expect(applied.exitCode == 0, "\(applied.stderr)")
        #expect(try site.read { try String.fetchOne($0, sql: "SELECT plan_digest FROM apply_history") } != nil)

        // State changed: the same plan again is refused.
        let again = try site.dcapply(["apply", "--plan", out, site.manifests])
        #expect(again.exitCode == 1 && again.stderr.contains("the state changed (serial 0 when planned, 1 now"), "\(again.stderr)")

        let garbage = site.root.appendingPathComponent("garbage.json").path
        try "{\"formatVersion\": 1}".write(toFile: garbage, atomically: true, encoding: .utf8)
        let bad = try site.dcapply(["apply", "--plan", garbage, site.manifests])
        #expect(bad.exitCode == 1 && bad.stderr.contains("is not a dcapply plan: missing key"), "\(bad.stderr)")
    }

    @Test func thePlanSaysHowManyWavesTheDisruptionBudgetNeeds() throws {
        let site = try Site("Examples/quickstart")
        #expect(try site.dcapply(["apply", site.manifests, "--yes"]).exitCode == 0)
        for node in ["gpu-r01-n01", "gpu-r02-n01"] { #expect(try site.dcapply(["inventory", "set", node, "health=failed"]).exitCode == 0) }
        let plan = try site.dcapply(["plan", site.manifests])
        #expect(plan.stdout.contains("Apply: 2 waves, so that no target has more than its RedundancyPolicy maxUnavailable members disrupted at once."), "\(plan.stdout)")
        let json = try JSONSerialization.jsonObject(with: Data(try site.dcapply(["plan", site.manifests, "--output", "json"]).stdout.utf8)) as? [String: Any]
        #expect(json?["waves"] as? Int == 2)
        let apply = try site.dcapply(["apply", site.manifests, "--yes"])
        #expect(apply.stderr.contains("Applied 10 changes in 2 waves"), "\(apply.stderr)")
    }

    @Test func editingAnyAuditRowByHandMakesVerifyFailAtThatRow() throws {
        let site = try Site("Examples/quickstart")
        #expect(try site.dcapply(["apply", site.manifests, "--yes"]).exitCode == 0)
        for node in ["gpu-r01-n01", "gpu-r02-n01"] { #expect(try site.dcapply(["inventory", "set", node, "health=failed"]).exitCode == 0) }
        #expect(try site.dcapply(["apply", site.manifests, "--yes"]).exitCode == 0)
        #expect(try site.dcapply(["apply", site.manifests, "--yes"], environment: ["DCAPPLY_FAILPOINTS": "apply.action=crash@1"]).exitCode == 0,
                "nothing left to apply: no action, no crash")
        let file = site.manifests + "/site.yaml"
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("replicas: 4"))
        try text.replacingOccurrences(of: "replicas: 4", with: "replicas: 3").write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try site.dcapply(["apply", site.manifests, "--yes"]).exitCode == 0)

        let verified = try site.dcapply(["audit", "verify"])
        #expect(verified.exitCode == 0)
        #expect(verified.stdout.hasPrefix("Audit log intact: 3 entries, head "), "\(verified.stdout)")
        let head = String(verified.stdout.dropFirst("Audit log intact: 3 entries, head ".count).prefix(64))
        let shown = try site.dcapply(["audit", "show", "-v"])
        #expect(shown.stdout.contains("\(ProcessInfo.processInfo.environment["USER"] ?? "")@") && shown.stdout.contains("place"), "\(shown.stdout)")

        for id in 1...3 {
            for column in ["at", "actor", "revision", "plan_digest", "status", "actions", "previous_hash", "hash"] {
                let original = try site.read { try String.fetchOne($0, sql: "SELECT \(column) FROM audit_log WHERE id = ?", arguments: [id]) }
                try site.write { try $0.execute(sql: "UPDATE audit_log SET \(column) = ? WHERE id = ?", arguments: [(original ?? "") + "x", id]) }
                let broken = try site.dcapply(["audit", "verify"])
                #expect(broken.exitCode == 1, "editing \(column) of entry \(id)")
                #expect(broken.stderr.contains("audit log broken at entry #\(id):"), "editing \(column) of entry \(id): \(broken.stderr)")
                try site.write { try $0.execute(sql: "UPDATE audit_log SET \(column) = ? WHERE id = ?", arguments: [original, id]) }
            }
        }
        #expect(try site.dcapply(["audit", "verify", "--expect-head", head]).exitCode == 0)
        try site.write { try $0.execute(sql: "DELETE FROM audit_log WHERE id = 3") }
        let truncated = try site.dcapply(["audit", "verify", "--expect-head", head])
        #expect(truncated.exitCode == 1 && truncated.stderr.contains("not the expected"), "\(truncated.stderr)")
    }

    @Test func aFailedActionSkipsItsDependentsExitsOneAndTheNextApplyFinishes() throws {
        let site = try Site("Manifests")
        let failed = try site.dcapply(["apply", site.manifests, "--yes", "--parallelism", "1"] + Self.solve,
                                      environment: ["DCAPPLY_FAILPOINTS": "provider.call=terminal@1"])
        #expect(failed.exitCode == 1)
        #expect(failed.stderr.contains("injected terminal error"))
        #expect(failed.stderr.contains("apply incomplete: 718 done, 1 failed, 0 skipped"), "a power-off has no dependents: \(failed.stderr)")
        #expect(try site.dcapply(["state", "history"]).stdout.contains("partial (1 failed, 0 skipped)"))

        let retried = try site.dcapply(["apply", site.manifests, "--yes"] + Self.solve, environment: ["DCAPPLY_FAILPOINTS": "provider.call=error@1"])
        #expect(retried.exitCode == 0, "\(retried.stderr)")
        #expect(retried.stderr.contains("attempt 1 failed (") && retried.stderr.contains("retrying"), "a transient error is retried")
        #expect(retried.stderr.contains("Applied 1 change"), "\(retried.stderr)")
        #expect(try site.dcapply(["plan", site.manifests, "--detailed-exitcode"] + Self.solve).exitCode == 0)
    }
}
