import DCApplyActuators
@testable import DCApplyCore
import Foundation
import GRDB
import Testing

/// Exec plugins as real processes: the example plugin, transient exits, garbage, hangs,
/// a provider, and a dcapply killed mid-apply.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ExecPluginTests {
    /// The apply calls a recording plugin logged: the ids of each call.
    static func applyCalls(_ log: String) throws -> [[String]] {
        try log.split(separator: "\n").compactMap { line in
            let entry = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return entry["operation"] as? String == "apply" ? entry["ids"] as? [String] : nil
        }
    }

    @Test func theExamplePluginReceivesEveryActionOfAnApplyOnceAndRepairsDrift() async throws {
        let fixture = try ExecFixture()
        defer { fixture.remove() }
        let example = fixture.root.appendingPathComponent("exec")
        try FileManager.default.copyItem(at: ExecFixture.packageRoot.appendingPathComponent("Examples/exec"), to: example)
        let environment = ["RECORD_STATE": fixture.path("state.json"), "RECORD_CALLS": fixture.path("calls.jsonl")]
        let reconciler = Reconciler(store: InMemoryStateStore(), logger: ExecFixture.logger, actuators: ExecPlugins.actuatorFactory(environment: environment))
        let first = try await reconciler.load([example.path])
        #expect(!first.diagnostics.hasErrors, "\(first.diagnostics)")
        let plan = try reconciler.plan(first)
        let outcome = try await reconciler.execute(plan, site: first, options: ExecFixture.fast)
        #expect(outcome.succeeded && outcome.done == plan.changes.count && plan.changes.count == 10)
        let ids = try Self.applyCalls(fixture.read("calls.jsonl")).flatMap { $0 }
        #expect(ids.sorted() == plan.changes.indices.map { "1.\($0)" }.sorted(), "every action once: \(ids)")
        let operations = fixture.read("calls.jsonl").split(separator: "\n").compactMap { line -> String? in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["operation"] as? String
        }
        #expect(operations.filter { $0 == "describe" }.count == 1, "describe once per run: \(operations)")

        // In effect: the next plan is empty.
        #expect(try reconciler.plan(try await reconciler.load([example.path])).changes.isEmpty)

        // Someone removes a pool member behind dcapply's back: drift, repaired by the next apply.
        var state = try #require(try JSONSerialization.jsonObject(with: Data(fixture.read("state.json").utf8)) as? [String: Any])
        var members = try #require(state["members"] as? [String: String])
        let removed = try #require(members.keys.sorted().first)
        members[removed] = nil
        state["members"] = members
        try JSONSerialization.data(withJSONObject: state).write(to: URL(fileURLWithPath: fixture.path("state.json")))
        let drifted = try await reconciler.load([example.path])
        let repair = try reconciler.plan(drifted)
        #expect(repair.changes.map { "\($0.action) \($0.resource) \($0.actuator ?? "-") \($0.reason)" }
                == ["assign Node/\(removed) exec:record.py changed outside dcapply"])
        #expect(try await reconciler.execute(repair, site: drifted, options: ExecFixture.fast).succeeded)
        #expect(try reconciler.plan(try await reconciler.load([example.path])).changes.isEmpty, "repaired")
    }

    @Test func exit75IsTransientAndRetried() async throws {
        let fixture = try ExecFixture()
        defer { fixture.remove() }
        try fixture.plugin("flaky.py", """
            if count("apply") <= 2:
                print("controller busy, try later", file=sys.stderr)
                sys.exit(75)
            done()
            """)
        try fixture.site(actuator: ["./flaky.py"])
        let (plan, outcome) = try await fixture.apply(fixture.reconciler())
        #expect(plan.changes.map(\.action) == [.assign, .assign])
        #expect(outcome.succeeded)
        #expect(fixture.read("apply.count") == "3", "two exits 75, then done")
        #expect(outcome.actuatorCalls == 3)
    }

    @Test func failuresNameThePluginTheExitCodeAndTheFirstLineOfStderr() async throws {
        let cases: [(String, String)] = [
            ("print('hello, not JSON')", "exec:plugin.py: apply exited 0 but its response is not valid: not JSON (stdout began \"hello, not JSON\")"),
            ("json.dump({'results': [{'id': a['id']} for a in request['actions']]}, sys.stdout)",
             "exec:plugin.py: apply results[0] (id 1.0) has no status"),
            ("print('disk full', file=sys.stderr); print('second line', file=sys.stderr); sys.exit(3)",
             "exec:plugin.py: apply exited 3; stderr: disk full"),
            ("json.dump({'results': [{'id': request['actions'][0]['id'], 'status': 'failed', 'error': 'no such rack'}]}, sys.stdout)",
             "exec:plugin.py: no such rack"),
        ]
        for (body, message) in cases {
            let fixture = try ExecFixture()
            defer { fixture.remove() }
            try fixture.plugin("plugin.py", body)
            try fixture.site(nodes: 1, actuator: ["./plugin.py"])
            let (_, outcome) = try await fixture.apply(fixture.reconciler())
            #expect(outcome.failed.map(\.error) == [message])
            #expect(outcome.actuatorCalls == 1, "terminal: not retried")
        }
    }

    @Test func secretsReachThePluginThroughTheEnvironmentAndStayOutOfMessages() async throws {
        let fixture = try ExecFixture()
        defer { fixture.remove() }
        let secret = "tok-" + UUID().uuidString
        Secrets.register(secret)
        try fixture.plugin("secretive.py", """
            open("argv.txt", "w").write(" ".join(sys.argv))
            print("auth failed for token " + os.environ["SYNC_TOKEN"], file=sys.stderr)
            sys.exit(4)
            """)
        try fixture.site(nodes: 1, actuator: ["./secretive.py", "--site", "s1"])
        let (_, outcome) = try await fixture.apply(fixture.reconciler(environment: ["SYNC_TOKEN": secret]))
        #expect(outcome.failed.map(\.error) == ["exec:secretive.py: apply exited 4; stderr: auth failed for token [redacted]"])
        #expect(fixture.read("argv.txt").hasSuffix("secretive.py --site s1"), "arguments are the manifest's, nothing added")
    }

    @Test func aHangingPluginIsKilledWithItsProcessGroupAtTheTimeout() async throws {
        let fixture = try ExecFixture()
        defer { fixture.remove() }
        try fixture.plugin("hang.py", """
            child = subprocess.Popen(["sleep", "300"])
            open("child.pid", "w").write(str(child.pid))
            print("waiting for the controller", file=sys.stderr, flush=True)
            time.sleep(300)
            """)
        try fixture.site(nodes: 1, actuator: ["./hang.py"])
        try fixture.write("site.yaml", fixture.read("site.yaml").replacingOccurrences(of: "timeout: 30s", with: "timeout: 3s"))
        // 3 s, not 1: on a loaded machine python3 may take over a second to start and print.
        let (_, outcome) = try await fixture.apply(fixture.reconciler())
        #expect(outcome.failed.map(\.error) == ["exec:hang.py: apply timed out after 3s (process group killed); stderr: waiting for the controller"])
        let pid = try #require(Int32(fixture.read("child.pid")))
        var gone = false
        for _ in 0..<50 where !gone {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            gone = stat.isEmpty || stat.contains(") Z ")
            if !gone { try await Task.sleep(nanoseconds: 100_000_000) }
        }
        #expect(gone, "the plugin's child was killed with it")
    }

    @Test func anExecProviderObservesNodesAndSwitchesPower() async throws {
        let fixture = try ExecFixture()
        defer { fixture.remove() }
        try fixture.write("provider.py", """
            #!/usr/bin/env python3
            import json, sys
            request = json.load(sys.stdin)
            with open("calls.jsonl", "a") as log:
                log.write(json.dumps(request, sort_keys=True) + "\\n")
            op = request["operation"]
            node = lambda name, power: {"name": name, "labels": {"rack": "r1"}, "gpus": {"model": "H100", "count": 8},
                                        "power": {"idleW": 1000, "maxW": 10000}, "powerState": power}
            if op == "describe":
                reply = {"operations": ["observe", "apply"], "actions": ["powerOn", "powerOff"]}
            elif op == "observe":
                reply = {"nodes": [node("n01", "on"), node("n02", "on"), node("n03", "off")]}
            else:
                reply = {"results": [{"id": a["id"], "status": "done"} for a in request["actions"]]}
            json.dump(reply, sys.stdout)
            """, executable: true)
        try fixture.site(provider: "exec: {command: [./provider.py]}", extra: """
            ---
            apiVersion: dcapply/v1
            kind: EnergyPolicy
            metadata: {name: e}
            spec: {site: s1, powerOffIdle: true}
            ---
            apiVersion: dcapply/v1
            kind: Workload
            metadata: {name: w}
            spec: {pool: p, replicas: 1, resources: {gpus: 8}}
            """)
        try fixture.write("site.yaml", fixture.read("site.yaml").replacingOccurrences(of: "spec: {site: s1}\n", with: "spec: {site: s1, size: {nodes: 1}}\n"))
        let (plan, outcome) = try await fixture.apply(fixture.reconciler())
        #expect(plan.nodeCount == 3)
        #expect(outcome.succeeded, "\(outcome.failed)")
        let powerOff = try #require(plan.changes.first { $0.action == .powerOff })
        let applied = fixture.read("calls.jsonl").split(separator: "\n").filter { $0.contains("\"apply\"") }
        #expect(applied.count == 1 && applied[0].contains("\"action\": \"powerOff\"") && applied[0].contains("\"resource\": \"\(powerOff.resource)\""),
                "one power call: \(applied)")
        #expect(applied[0].contains("\"role\": \"provider\""))
    }

    @Test func killedMidApplyThenRunAgainRepeatsNothingJournalledDone() async throws {
        let fixture = try ExecFixture()
        defer { fixture.remove() }
        try FileManager.default.copyItem(at: ExecFixture.packageRoot.appendingPathComponent("Examples/exec"), to: fixture.root.appendingPathComponent("exec"))
        let environment = ["RECORD_STATE": fixture.path("state.json"), "RECORD_CALLS": fixture.path("calls.jsonl")]
        let state = ["--state", "sqlite:" + fixture.path("state.db"), "--solve-time", "0.2"]
        // Two waves: 4 assigns and 2 attaches, then 4 placements. A wave's outcomes are journalled
        // in one batch once it answered, so die at the first action of the second wave.
        let crashed = try await fixture.dcapply(["apply", "exec", "--yes"] + state, environment: environment.merging(["DCAPPLY_FAILPOINTS": "apply.action=crash@7"]) { $1 })
        #expect(crashed.code == 137, "killed by the failpoint: \(crashed.stderr)")
        let done = try await DatabaseQueue(path: fixture.path("state.db")).read { db in
            try Int.fetchAll(db, sql: "SELECT step FROM journal_step WHERE state = 'done'")
        }
        #expect(done.count == 6, "the first wave journalled done")
        let before = try Self.applyCalls(fixture.read("calls.jsonl")).count

        let again = try await fixture.dcapply(["apply", "exec", "--yes"] + state, environment: environment)
        #expect(again.code == 0, "\(again.stderr)")
        #expect(again.stderr.contains("Resumed the apply interrupted"), "\(again.stderr)")
        let calls = try Self.applyCalls(fixture.read("calls.jsonl"))
        let resent = Set(calls.dropFirst(before).flatMap { $0 })
        #expect(resent.isDisjoint(with: done.map { "1.\($0)" }), "nothing journalled done is sent again: \(resent)")
        #expect(Set(calls.flatMap { $0 }) == Set((0..<10).map { "1.\($0)" }))
        let plan = try await fixture.dcapply(["plan", "exec"] + state, environment: environment)
        #expect(plan.stdout.contains("No changes. The site matches the manifests."), "\(plan.stdout)")
    }

    @Test func drainResumeAndRepairsShowInTextJSONAndMarkdown() async throws {
        let fixture = try ExecFixture()
        defer { fixture.remove() }
        try FileManager.default.copyItem(at: ExecFixture.packageRoot.appendingPathComponent("Examples/exec"), to: fixture.root.appendingPathComponent("exec"))
        let environment = ["RECORD_STATE": fixture.path("record.json"), "RECORD_CALLS": fixture.path("calls.jsonl")]
        func dcapply(_ arguments: [String]) async throws -> (code: Int32, stdout: String, stderr: String) {
            let solve = ["plan", "apply"].contains(arguments[0]) ? ["--solve-time", "0.2"] : []
            return try await fixture.dcapply(arguments + ["--state", "sqlite:" + fixture.path("state.db")] + solve, environment: environment)
        }
        #expect(try await dcapply(["apply", "exec", "--yes"]).code == 0)
        #expect(try await dcapply(["inventory", "set", "gpu-r01-n01", "health=failed"]).code == 0)

        let text = try await dcapply(["plan", "exec"]).stdout
        #expect(text.contains("\nNode/gpu-r01-n01\n  ~ drain (failed)  (node failed)\n"), "\(text)")
        #expect(text.contains("Plan: 1 to assign, 1 to attach, 1 to move, 1 to detach, 1 to unassign, 1 to drain."), "\(text)")
        let markdown = try await dcapply(["plan", "exec", "-o", "markdown"]).stdout
        #expect(markdown.contains("! drain (failed)  (node failed)"), "\(markdown)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try await dcapply(["plan", "exec", "-o", "json"]).stdout.utf8)) as? [String: Any])
        let drain = try #require((json["changes"] as? [[String: Any]])?.first { $0["action"] as? String == "drain" })
        #expect(drain["resource"] as? String == "Node/gpu-r01-n01" && drain["to"] as? String == "failed")
        #expect((json["target"] as? [String: Any])?["drained"] as? [String: String] == ["gpu-r01-n01": "failed"])

        #expect(try await dcapply(["apply", "exec", "--yes"]).code == 0)
        #expect(try await dcapply(["inventory", "set", "gpu-r01-n01", "health=healthy"]).code == 0)
        let healed = try await dcapply(["plan", "exec"]).stdout
        #expect(healed.contains("\nNode/gpu-r01-n01\n  ~ resume  (node healthy again)\n"), "\(healed)")
        #expect(try await dcapply(["apply", "exec", "--yes"]).code == 0)

        // Drift: the plugin's state loses a replica.
        var record = try #require(try JSONSerialization.jsonObject(with: Data(fixture.read("record.json").utf8)) as? [String: Any])
        var replicas = try #require(record["replicas"] as? [String: [String: [String]]])
        let lost = try #require(replicas["llm-train"]?["1"])
        replicas["llm-train"]?["1"] = nil
        record["replicas"] = replicas
        try JSONSerialization.data(withJSONObject: record).write(to: URL(fileURLWithPath: fixture.path("record.json")))
        let drift = try await dcapply(["plan", "exec"]).stdout
        let line = "  + place replica 1 on \(lost.map { "Node/\($0)" }.joined(separator: ",")) (exec:record.py only)  (changed outside dcapply)\n"
        #expect(drift.contains(line) && drift.contains("Plan: 1 to place."), "\(drift)")
    }
}
