import DCApplyTestSupport
import Foundation
import GRDB
import Testing

/// Issue 13: no site emptied by a wrong path, every failure says why, commands as people type
/// them. The built binary, a copy of the quickstart, a real SQLite state store.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct Issue13CLITests {
    /// A scratch folder with a copy of the quickstart, a state database, and folders made from it.
    struct Scratch {
        let root: URL
        var quickstart: String { root.appendingPathComponent("quickstart").path }
        var database: String { root.appendingPathComponent("state.db").path }
        var state: [String] { ["--state", "sqlite:" + database] }

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-issue13-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: DCApplyRunner.packageRoot.appendingPathComponent("Examples/quickstart"),
                                             to: root.appendingPathComponent("quickstart"))
        }

        func run(_ arguments: [String]) throws -> DCApplyResult {
            try DCApplyRunner.run(arguments, in: root)
        }

        /// `folder/` holding the quickstart's inventory and the site's documents that `keep` accepts.
        func folder(_ name: String, keeping keep: (String) -> Bool = { _ in false }) throws -> String {
            let folder = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: root.appendingPathComponent("quickstart/inventory.yaml"), to: folder.appendingPathComponent("inventory.yaml"))
            let site = try String(contentsOfFile: quickstart + "/site.yaml", encoding: .utf8)
            let kept = site.components(separatedBy: "\n---\n").filter(keep)
            if !kept.isEmpty { try kept.joined(separator: "\n---\n").write(to: folder.appendingPathComponent("site.yaml"), atomically: true, encoding: .utf8) }
            return folder.path
        }

        /// The state store's serial, read straight from the database.
        func serial() throws -> Int {
            try DatabaseQueue(path: database).read { Int(try String.fetchOne($0, sql: "SELECT value FROM meta WHERE key = 'serial'") ?? "0") ?? 0 }
        }
    }

    static func lastLine(_ text: String) -> String {
        text.split(separator: "\n").last.map(String.init) ?? ""
    }

    // MARK: 1. Blast radius

    @Test func issue13ApplyOfAFolderWithOnlyTheInventoryIsRefusedAndChangesNothing() throws {
        let scratch = try Scratch()
        #expect(try scratch.run(["apply", scratch.quickstart, "--yes"] + scratch.state).exitCode == 0)
        let inventoryOnly = try scratch.folder("inventory-only")
        let apply = try scratch.run(["apply", inventoryOnly, "--yes"] + scratch.state)
        #expect(apply.exitCode == 1)
        #expect(apply.stdout.isEmpty)
        #expect(apply.stderr == """
            error: no Site in \(inventoryOnly): wrong path? A manifest set declares one Site (kind: Site) and what runs on it
            error: 1 error above; nothing was changed.

            """)
        #expect(try scratch.serial() == 1, "nothing was applied")
    }

    @Test func issue13ValidateRefusesAManifestSetWithNoSite() throws {
        let scratch = try Scratch()
        let inventoryOnly = try scratch.folder("inventory-only")
        let validate = try scratch.run(["validate", inventoryOnly])
        #expect(validate.exitCode == 1)
        #expect(validate.stdout.isEmpty, "no `Valid: 0 sites`")
        #expect(validate.stderr.contains("error: no Site in \(inventoryOnly): wrong path?"))

        let empty = scratch.root.appendingPathComponent("empty.yaml").path
        try "".write(toFile: empty, atomically: true, encoding: .utf8)
        let emptyFile = try scratch.run(["validate", empty])
        #expect(emptyFile.exitCode == 1)
        #expect(emptyFile.stderr.contains("error: no Site in \(empty): wrong path?"), "\(emptyFile.stderr)")

        let inventoryFile = try scratch.run(["plan", scratch.quickstart + "/inventory.yaml"] + scratch.state)
        #expect(inventoryFile.exitCode == 1)
        #expect(inventoryFile.stdout.isEmpty, "no plan to evict everything")
        #expect(inventoryFile.stderr.contains("error: no Site in \(scratch.quickstart)/inventory.yaml: wrong path?"))
    }

    @Test func issue13ApplyRefusesAPlanThatTakesAwayMoreThanHalfUnlessAllowed() throws {
        let scratch = try Scratch()
        #expect(try scratch.run(["apply", scratch.quickstart, "--yes"] + scratch.state).exitCode == 0)
        // The Site is there, but the pool, workload and tier files were left out.
        let siteOnly = try scratch.folder("site-only") { !$0.contains("kind: HardwarePool") && !$0.contains("kind: Workload") && !$0.contains("kind: StorageTier") }
        let plan = try scratch.run(["plan", siteOnly] + scratch.state)
        #expect(plan.exitCode == 0)
        #expect(plan.stderr.hasSuffix("warning: apply will refuse this plan without --allow-destroy: it takes away more than 50% of what is applied: 4 of 4 pool members, 4 of 4 replicas, 2 of 2 drives, 0 of 6 powered nodes\n"), "\(plan.stderr)")
        let refused = try scratch.run(["apply", siteOnly, "--yes"] + scratch.state)
        #expect(refused.exitCode == 1)
        #expect(refused.stdout.contains("Plan: 4 to evict, 2 to detach, 4 to unassign."), "the plan is shown first")
        #expect(Self.lastLine(refused.stderr) == """
            error: refused: this plan takes away more than 50% of what is applied: 4 of 4 pool members, 4 of 4 replicas, 2 of 2 drives, 0 of 6 powered nodes. \
            HardwarePool/train, StorageTier/scratch, Workload/llm-train are no longer in the manifests: wrong path, or a file missing? \
            Nothing was changed; check the path, or pass --allow-destroy to apply it anyway.
            """)
        #expect(try scratch.serial() == 1)

        let threshold = try scratch.run(["apply", siteOnly, "--yes", "--destroy-threshold", "100%"] + scratch.state)
        #expect(threshold.exitCode == 0, "a threshold of 100% lets everything go: \(threshold.stderr)")
        #expect(try scratch.serial() == 2)
        #expect(try scratch.run(["apply", scratch.quickstart, "--yes"] + scratch.state).exitCode == 0, "adding back is never refused")
        let allowed = try scratch.run(["apply", siteOnly, "--yes", "--allow-destroy"] + scratch.state)
        #expect(allowed.exitCode == 0, "\(allowed.stderr)")
        #expect(allowed.stderr.hasSuffix("Applied 10 changes; state serial 4.\n"), "\(allowed.stderr)")

        let bad = try scratch.run(["apply", siteOnly, "--yes", "--destroy-threshold", "150%"] + scratch.state)
        #expect(bad.exitCode == 1)
        #expect(Self.lastLine(bad.stderr) == "error: --destroy-threshold takes a share from 0% to 100% (or 0 to 1), got \"150%\".")
    }

    // MARK: 2. Every failure says why

    /// The quickstart asking for 6 replicas where the pool holds 4.
    static func tooManyReplicas(_ scratch: Scratch) throws -> String {
        let path = scratch.quickstart + "/site.yaml"
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "replicas: 4", with: "replicas: 6")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return scratch.quickstart
    }

    static let unplaced = "Workload/llm-train: 2 of 6 replicas cannot be placed: of 4 nodes in HardwarePool/train, 4 lack free gpus (each replica needs 8); to fix: add about 2 nodes like gpu-r01-n01 to HardwarePool/train, or lower the replicas"

    @Test func issue13APartialApplyEndsWithOneErrorLineSayingWhatWasAppliedAndWhatNot() throws {
        let scratch = try Scratch()
        let manifests = try Self.tooManyReplicas(scratch)
        let apply = try scratch.run(["apply", manifests, "--yes"] + scratch.state)
        #expect(apply.exitCode == 1)
        #expect(Self.lastLine(apply.stderr) == "error: applied 10 changes (state serial 1), but not all of the manifests: \(Self.unplaced)")
        #expect(!apply.stderr.contains("Applied 10 changes; state serial 1."))

        let again = try scratch.run(["apply", manifests, "--yes"] + scratch.state)
        #expect(again.exitCode == 1)
        #expect(Self.lastLine(again.stderr) == "error: nothing applied: \(Self.unplaced)")
        let plan = try scratch.run(["plan", manifests] + scratch.state)
        #expect(plan.exitCode == 1)
        #expect(Self.lastLine(plan.stderr) == "error: the plan cannot be carried out in full: \(Self.unplaced)")
    }

    @Test func issue13TextAndMarkdownPlansLeadWithErrorsAndMarkdownEndsWithAFooter() throws {
        let scratch = try Scratch()
        let manifests = try Self.tooManyReplicas(scratch)
        let text = try scratch.run(["plan", manifests] + scratch.state)
        let lines = text.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(Array(lines.dropFirst().prefix(4)) == ["", "Cannot be met (1 error):", "  error: \(Self.unplaced)", ""], "\(text.stdout)")
        #expect(!text.stdout.contains("Problems:"), "the error is not repeated below")

        let markdown = try scratch.run(["plan", manifests, "-o", "markdown"] + scratch.state)
        let md = markdown.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(Array(md.prefix(8)) == [
            "### dcapply plan", "",
            "**Plan: 4 to assign, 2 to attach, 4 to place.**", "",
            "> [!CAUTION]",
            "> **1 error: part of the manifests cannot be met.**",
            "> - `Workload/llm-train`: 2 of 6 replicas cannot be placed: of 4 nodes in HardwarePool/train, 4 lack free gpus (each replica needs 8); to fix: add about 2 nodes like gpu-r01-n01 to HardwarePool/train, or lower the replicas",
            "",
        ], "\(markdown.stdout)")
        let footer = try #require(md.last { !$0.isEmpty })
        #expect(footer.range(of: #"^State serial 0; hardware observed \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; manifests `[0-9a-f]{12}`\. Apply this plan with `dcapply apply .*/quickstart`\.$"#,
                             options: .regularExpression) != nil, "\(footer)")
    }

    // MARK: 3. Commands as people type them

    @Test func issue13AMistypedCommandSaysDidYouMeanAndCreatesNothing() throws {
        let scratch = try Scratch()
        let typo = try scratch.run(["pln", "quickstart"])
        #expect(typo.exitCode == 1)
        #expect(typo.stdout.isEmpty)
        #expect(typo.stderr == "error: unknown command \"pln\"; did you mean \"plan\"?\n")
        #expect(!FileManager.default.fileExists(atPath: scratch.root.appendingPathComponent(".dcapply").path), "no .dcapply/ made")

        let unknown = try scratch.run(["frobnicate"])
        #expect(unknown.exitCode == 1)
        #expect(unknown.stderr.hasPrefix("error: unknown command \"frobnicate\", and no file or folder of that name; the commands are apply, validate, plan,"))

        // An existing folder is still the default `apply`'s path.
        let path = try scratch.run(["quickstart"])
        #expect(path.exitCode == 1)
        #expect(Self.lastLine(path.stderr) == "error: not applied: there is no terminal to confirm on. Pass --yes to apply without asking.")
    }

    @Test func issue13GlobalOptionsGoBeforeOrAfterTheSubcommandAndVersionIsACommand() throws {
        let scratch = try Scratch()
        let before = try scratch.run(["--no-color", "-q", "--state", "sqlite:" + scratch.database, "plan", "quickstart"])
        #expect(before.exitCode == 0, "\(before.stderr)")
        #expect(before.stdout.hasSuffix("Plan: 4 to assign, 2 to attach, 4 to place.\n"))
        #expect(before.stderr.isEmpty, "-q applies")
        #expect(FileManager.default.fileExists(atPath: scratch.database), "--state applies")
        let after = try scratch.run(["plan", "quickstart", "--no-color", "-q"] + scratch.state)
        #expect(after.stdout == before.stdout)
        let nested = try scratch.run(["-o", "json"] + scratch.state + ["state", "show"])
        #expect(nested.exitCode == 0, "\(nested.stderr)")
        #expect(nested.stdout.hasPrefix("{"))

        let version = try scratch.run(["version"])
        #expect(version.exitCode == 0)
        #expect(version.stdout == "0.1.0\n")
        #expect(try scratch.run(["--version"]).stdout == version.stdout)
    }

    @Test func issue13UsageErrorsEndWithOneErrorLine() throws {
        let scratch = try Scratch()
        let usage = try scratch.run(["plan"])
        #expect(usage.exitCode == 1)
        #expect(Self.lastLine(usage.stderr) == "error: Name at least one manifest file or directory, such as Examples/quickstart/.")
    }

    // MARK: 4. Exact words

    @Test func issue13InventorySetOnAnUnknownNodeIsAnErrorWithDidYouMean() throws {
        let scratch = try Scratch()
        #expect(try scratch.run(["apply", scratch.quickstart, "--yes"] + scratch.state).exitCode == 0)
        let typo = try scratch.run(["inventory", "set", "gpu-r01-n1", "health=failed"] + scratch.state)
        #expect(typo.exitCode == 1)
        #expect(typo.stderr == "error: no node \"gpu-r01-n1\" in the applied state, so nothing was set; did you mean \"gpu-r01-n01\"?\n")
        let plan = try scratch.run(["plan", scratch.quickstart, "-o", "json"] + scratch.state)
        #expect(plan.stdout.contains("\"summary\" : \"No changes. The site matches the manifests.\""), "no override was stored")
        #expect(try scratch.run(["inventory", "set", "gpu-r01-n01", "health=failed"] + scratch.state).exitCode == 0)
    }

    @Test func issue13ALockTakenOverIsAPlainWarningLine() throws {
        let scratch = try Scratch()
        #expect(try scratch.run(["plan", scratch.quickstart] + scratch.state).exitCode == 0)  // makes the store
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let host = ProcessInfo.processInfo.hostName
        try DatabaseQueue(path: scratch.database).write {
            try $0.execute(sql: "INSERT INTO apply_lock VALUES (1, ?, ?, '1', '2026-01-01T00:00:00Z', 'apply')", arguments: [host, gone.processIdentifier])
        }
        let apply = try scratch.run(["apply", scratch.quickstart, "--yes"] + scratch.state)
        #expect(apply.exitCode == 0, "\(apply.stderr)")
        let lines = apply.stderr.split(separator: "\n").map(String.init)
        #expect(lines.first == "warning: took over the apply lock of pid \(gone.processIdentifier) on \(host) (apply), since 2026-01-01T00:00:00Z: that process is no longer running", "\(apply.stderr)")
    }

    @Test func issue13AuditShowVerboseNamesTheReplicaAndFromTo() throws {
        let scratch = try Scratch()
        #expect(try scratch.run(["apply", scratch.quickstart, "--yes"] + scratch.state).exitCode == 0)
        #expect(try scratch.run(["inventory", "set", "gpu-r01-n01", "health=failed"] + scratch.state).exitCode == 0)
        #expect(try scratch.run(["apply", scratch.quickstart, "--yes"] + scratch.state).exitCode == 0)
        let audit = try scratch.run(["audit", "show", "-v"] + scratch.state)
        let lines = audit.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasSuffix("place  Workload/llm-train replica 0: → Node/gpu-r01-n01  done  1") }, "\(audit.stdout)")
        #expect(lines.contains { $0.hasSuffix("move  Workload/llm-train replica 0: Node/gpu-r01-n01 → Node/gpu-r01-n03  done  1") }, "\(audit.stdout)")
        #expect(lines.contains { $0.hasSuffix("assign  Node/gpu-r01-n03: → HardwarePool/train  done  1") }, "\(audit.stdout)")
    }

    /// Ctrl-C at the confirmation question, on a terminal (`script` gives it one).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func issue13CtrlCAtTheQuestionReleasesTheLock() throws {
        let scratch = try Scratch()
        #expect(try scratch.run(["plan", scratch.quickstart] + scratch.state).exitCode == 0)  // makes the store
        let binary = try DCApplyRunner.executableURL().path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", "\(binary) apply \(scratch.quickstart) --state sqlite:\(scratch.database)", "/dev/null"]
        process.currentDirectoryURL = scratch.root
        let input = Pipe()
        let transcript = scratch.root.appendingPathComponent("terminal.txt")
        _ = FileManager.default.createFile(atPath: transcript.path, contents: nil)
        let output = try FileHandle(forWritingTo: transcript)
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        process.environment = environment
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        func text() -> String { (try? String(contentsOf: transcript, encoding: .utf8)) ?? "" }
        // Wait (at most 60 s) for the question; the lock is held from before planning.
        let deadline = Date().addingTimeInterval(60)
        while !text().contains("Only 'yes' will be accepted:") && Date() < deadline && process.isRunning { Thread.sleep(forTimeInterval: 0.1) }
        let holder = try? DatabaseQueue(path: scratch.database).read { try Int32.fetchOne($0, sql: "SELECT pid FROM apply_lock") }
        let pid = try #require(holder, "apply never took the lock: \(text())")
        kill(pid, SIGINT)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        try? input.fileHandleForWriting.close()
        try? output.close()
        let screen = text()
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 130, "\(screen)")
        #expect(screen.contains("error: not applied: interrupted at the confirmation prompt; the apply lock is released."), "\(screen)")
        #expect(try DatabaseQueue(path: scratch.database).read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM apply_lock") } == 0)
        #expect(try scratch.serial() == 0)
    }

    @Test func issue13AGangMoveListsOnlyTheNodesThatChange() throws {
        let scratch = try Scratch()
        let manifests = scratch.root.appendingPathComponent("Manifests").path
        try FileManager.default.copyItem(atPath: DCApplyRunner.packageRoot.appendingPathComponent("Manifests").path, toPath: manifests)
        let solve = ["--solve-time", "0.2"]
        #expect(try scratch.run(["apply", manifests, "--yes"] + solve + scratch.state).exitCode == 0)
        let state = try scratch.run(["state", "show", "-o", "json"] + scratch.state)
        let json = try JSONSerialization.jsonObject(with: Data(state.stdout.utf8)) as? [String: Any]
        let workloads = json?["workloads"] as? [String: [String: Any]] ?? [:]
        let gangs = workloads.values.compactMap { ($0["replicas"] as? [[String: Any]])?.first?["nodes"] as? [String] }.filter { $0.count > 1 }
        let gang = try #require(gangs.first, "the sample site has a gang")
        #expect(try scratch.run(["inventory", "set", gang[2], "health=failed"] + scratch.state).exitCode == 0)
        let plan = try scratch.run(["plan", manifests] + solve + scratch.state)
        let move = try #require(plan.stdout.split(separator: "\n").first { $0.contains("~ move replica") && $0.contains(gang[2]) }, "\(plan.stdout)")
        #expect(move.range(of: #"^  ~ move replica \d+ Node/\#(gang[2]) → Node/[a-z0-9-]+ \(\#(gang.count - 1) nodes stay\)  \(\#(gang[2]) failed\)$"#,
                           options: .regularExpression) != nil, "\(move)")
        let moved = try scratch.run(["plan", manifests, "-o", "json"] + solve + scratch.state)
        #expect(moved.stdout.contains("\"fromNodes\" : [\n"), "the JSON keeps every node of the gang")
    }
}
