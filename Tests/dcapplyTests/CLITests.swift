import DCApplyTestSupport
import Foundation
import Testing

/// The command line end to end: the built binary, real files, a real SQLite state store.
@Suite(.timeLimit(.minutes(5)))
struct CLITests {
    /// A scratch folder with a copy of the quickstart and a state URL inside it.
    struct Scratch {
        let root: URL
        var manifests: String { root.appendingPathComponent("quickstart").path }
        var state: [String] { ["--state", "sqlite:" + root.appendingPathComponent("state.db").path] }

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-cli-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: DCApplyRunner.packageRoot.appendingPathComponent("Examples/quickstart"),
                                             to: root.appendingPathComponent("quickstart"))
        }

        func run(_ arguments: [String], environment: [String: String] = [:]) throws -> DCApplyResult {
            try DCApplyRunner.run(arguments, in: root, environment: environment)
        }

        func write(_ name: String, _ text: String) throws -> String {
            let url = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }

        func json(_ result: DCApplyResult) throws -> [String: Any] {
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
            return object as? [String: Any] ?? [:]
        }
    }

    @Test func validateAcceptsTheQuickstartAndTouchesNoState() throws {
        let scratch = try Scratch()
        let result = try scratch.run(["validate", scratch.manifests] + scratch.state)
        #expect(result.exitCode == 0)
        #expect(result.stdout == "Valid: 1 site, 1 pool, 1 workload, 1 storage tier, 6 nodes.\n")
        #expect(!FileManager.default.fileExists(atPath: scratch.root.appendingPathComponent("state.db").path))
    }

    @Test func validateReportsEveryErrorWithFileLineColumnAndFieldPath() throws {
        let scratch = try Scratch()
        let path = try scratch.write("bad/workload.yaml", """
            apiVersion: dcapply/v1
            kind: Workload
            metadata: {name: Bad_Name}
            spec:
              pool: train
              replica: 2
              resources: {gpus: -1}
            """)
        let result = try scratch.run(["validate", path])
        #expect(result.exitCode == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == """
            \(path):3:18: error: metadata.name: expected a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters, got "Bad_Name"
            \(path):6:3: error: spec.replica: unknown field "replica"; did you mean "replicas"?
            \(path):7:21: error: spec.resources.gpus: must be at least 0, got -1
            error: 3 errors above; nothing was changed.

            """)
    }

    @Test(arguments: [
        ("binary.yaml", Data([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x00, 0xFF, 0xFE, 0x00])),
        ("nested.yaml", Data(String(repeating: "[", count: 100_000).utf8)),
        ("unclosed.yaml", Data("apiVersion: dcapply/v1\nkind: Site\nmetadata: {name: x\n".utf8)),
        ("list.yaml", Data("- just\n- a list\n".utf8)),
    ])
    func badInputExitsOneWithAMessageAndNeverCrashes(name: String, bytes: Data) throws {
        let scratch = try Scratch()
        let url = scratch.root.appendingPathComponent(name)
        try bytes.write(to: url)
        let result = try scratch.run(["validate", url.path])
        #expect(result.exitCode == 1)
        #expect(result.stderr.hasPrefix("\(url.path):"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("error:"))
    }

    /// The binary reads YAML through the system's libyaml (CLibYAML), which has no nesting limit
    /// of its own, while this test process links Yams' copy, which has one: both stop at
    /// dcapply's limit, at the bracket that crosses it.
    @Test func deepNestingStopsAtDCApplysLimitWithTheSystemLibyaml() throws {
        let scratch = try Scratch()
        let path = try scratch.write("deep.yaml", "a: " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "\n")
        let result = try scratch.run(["validate", path])
        #expect(result.exitCode == 1)
        #expect(result.stderr == """
            \(path):1:203: error: nesting is deeper than 200 levels; no input file needs this
            error: 1 error above; nothing was changed.

            """)
    }

    @Test func applyThenPlanAgainIsEmptyAndAFailureIsReplacedWithAReason() throws {
        let scratch = try Scratch()
        let before = try scratch.run(["plan", scratch.manifests, "--detailed-exitcode"] + scratch.state)
        #expect(before.exitCode == 2)

        let apply = try scratch.run([scratch.manifests, "--yes"] + scratch.state)
        #expect(apply.exitCode == 0, "stderr: \(apply.stderr)")
        #expect(apply.stdout.contains("Plan: 4 to assign, 2 to attach, 4 to place."))
        #expect(apply.stderr.contains("Applied 10 changes; state serial 1."))

        let again = try scratch.run(["plan", scratch.manifests, "--detailed-exitcode"] + scratch.state)
        #expect(again.exitCode == 0)
        #expect(again.stdout.contains("No changes. The site matches the manifests."))

        let state = try scratch.json(try scratch.run(["state", "show", "--output", "json"] + scratch.state))
        let member = ((state["nodes"] as? [String: [String: Any]]) ?? [:]).filter { $0.value["pool"] as? String == "train" }.keys.sorted().first ?? ""
        let set = try scratch.run(["inventory", "set", member, "health=failed", scratch.manifests] + scratch.state)
        #expect(set.exitCode == 0, "stderr: \(set.stderr)")

        let failover = try scratch.run(["plan", scratch.manifests, "--detailed-exitcode"] + scratch.state)
        #expect(failover.exitCode == 2)
        #expect(failover.stdout.contains("- unassign Node/\(member)  (node failed)"))
        #expect(failover.stdout.contains("(replaces \(member) (failed))"))
        #expect(failover.stdout.contains("(\(member) failed)"), "the move says why")
        #expect(failover.stdout.contains("Moves: 1 replica moved; at least 1 had to move (failed, gone or no longer eligible)."))
        let moves = try scratch.json(try scratch.run(["plan", scratch.manifests, "--output", "json"] + scratch.state))["moves"] as? [String: Int]
        #expect(moves == ["count": 1, "required": 1])

        let history = try scratch.run(["state", "history"] + scratch.state)
        #expect(history.stdout.contains("Plan: 4 to assign, 2 to attach, 4 to place."))
    }

    @Test func applyWithoutATerminalAndWithoutYesChangesNothing() throws {
        let scratch = try Scratch()
        let result = try scratch.run(["apply", scratch.manifests] + scratch.state)
        #expect(result.exitCode == 1)
        #expect(result.stderr.contains("not applied: there is no terminal to confirm on. Pass --yes to apply without asking."))
        let state = try scratch.run(["state", "show"] + scratch.state)
        #expect(state.stdout == "Nothing applied yet (state serial 0).\n")
    }

    @Test func jsonPlanIsOneDocumentInTheContractShapeAndByteIdentical() throws {
        let scratch = try Scratch()
        let first = try scratch.run(["plan", scratch.manifests, "--output", "json"] + scratch.state)
        let second = try scratch.run(["plan", scratch.manifests, "--output", "json"] + scratch.state)
        #expect(first.exitCode == 0)
        #expect(first.stdout == second.stdout)
        let plan = try scratch.json(first)
        #expect(plan["formatVersion"] as? Int == 1)
        #expect(plan.keys.contains("revision") && plan["revision"] is NSNull)
        let target = plan["target"] as? [String: Any] ?? [:]
        let nodes = target["nodes"] as? [String: [String: Any]] ?? [:]
        #expect(nodes.count == 6, "every node of the inventory")
        #expect(nodes.values.allSatisfy { $0.keys.contains("pool") && $0["powerState"] is String && $0["estimatedW"] is NSNumber })
        #expect(nodes.values.contains { $0["pool"] is NSNull })
        let changes = plan["changes"] as? [[String: Any]] ?? []
        let actions = Set(["assign", "unassign", "powerOn", "powerOff", "place", "move", "evict", "attachDrive", "detachDrive", "grant", "revoke"])
        #expect(changes.allSatisfy { actions.contains($0["action"] as? String ?? "") && $0["resource"] is String && $0["reason"] is String })
        let energy = plan["energy"] as? [String: Any] ?? [:]
        #expect(energy["currentW"] is NSNumber && energy["plannedW"] is NSNumber)
        #expect(plan["problems"] is [Any])
    }

    @Test func markdownPlanHasASummaryTableAndFoldedDetails() throws {
        let scratch = try Scratch()
        let result = try scratch.run(["plan", scratch.manifests, "--output", "markdown"] + scratch.state)
        #expect(result.stdout.hasPrefix("### dcapply plan\n\n**Plan: 4 to assign, 2 to attach, 4 to place.**\n\n| Resource | + | ~ | - |"))
        #expect(result.stdout.contains("<details><summary><code>Workload/llm-train</code>: 4 changes</summary>"))
        #expect(result.stdout.contains("```diff\n+ place replica 0 on Node/"))
    }

    @Test func colourOnlyWhenAskedForAndNeverInPipes() throws {
        let scratch = try Scratch()
        let plain = try scratch.run(["plan", scratch.manifests] + scratch.state)
        #expect(!plain.stdout.contains("\u{1B}["))
        #expect(!plain.stderr.contains("\u{1B}["))
    }

    @Test func schemaIsJSONSchemaCoveringEveryKind() throws {
        let scratch = try Scratch()
        let result = try scratch.run(["schema"])
        let schema = try scratch.json(result)
        let definitions = schema["$defs"] as? [String: Any] ?? [:]
        #expect(Set(definitions.keys) == ["Site", "RedundancyPolicy", "HardwarePool", "Workload", "StorageTier", "AccessPolicy", "EnergyPolicy", "Inventory"])
    }

    @Test func inventoryShowPrintsNodesInTheInventoryShape() throws {
        let scratch = try Scratch()
        let result = try scratch.run(["inventory", "show", scratch.manifests, "--output", "json"] + scratch.state)
        let nodes = (try scratch.json(result)["nodes"] as? [[String: Any]]) ?? []
        #expect(nodes.count == 6)
        let first = nodes.first ?? [:]
        for key in ["name", "labels", "gpus", "capacity", "drives", "power", "health", "powerState"] {
            #expect(first[key] != nil, "missing \(key)")
        }
    }

    @Test func inventorySetRejectsUnknownKeysValuesAndNodes() throws {
        let scratch = try Scratch()
        let key = try scratch.run(["inventory", "set", "gpu-r01-n01", "colour=red"] + scratch.state)
        #expect(key.exitCode == 1)
        #expect(key.stderr.contains("cannot set \"colour\": the local provider takes health and powerState"))
        let value = try scratch.run(["inventory", "set", "gpu-r01-n01", "health=sick"] + scratch.state)
        #expect(value.exitCode == 1)
        #expect(value.stderr.contains("health must be healthy, degraded or failed, got \"sick\""))
        let node = try scratch.run(["inventory", "set", "gpu-r01-n1", "health=failed", scratch.manifests] + scratch.state)
        #expect(node.exitCode == 1)
        #expect(node.stderr.contains("no node \"gpu-r01-n1\" in the inventory; did you mean \"gpu-r01-n01\"?"))
    }

    @Test func missingPathsAndUnknownStateURLsExitOne() throws {
        let scratch = try Scratch()
        let missing = try scratch.run(["plan", "does-not-exist/"] + scratch.state)
        #expect(missing.exitCode == 1)
        #expect(missing.stderr.contains("error: does-not-exist/: no such file or directory"))
        let state = try scratch.run(["plan", scratch.manifests, "--state", "mysql://x"])
        #expect(state.exitCode == 1)
        #expect(state.stderr.contains("error: unknown --state \"mysql://x\": expected sqlite:PATH or postgres://...\n"), "\(state.stderr)")
    }
}
