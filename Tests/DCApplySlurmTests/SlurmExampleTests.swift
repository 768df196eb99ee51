import DCApplySlurm
import DCApplyTestSupport
import Foundation
import Subprocess
import Testing

/// `Examples/slurm/` through the built `dcapply` executable against a real slurmctld: what an
/// operator runs. Every `scontrol` call dcapply makes goes through a logging shim on PATH.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct SlurmExampleTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A copy of the example with its controller at `.slurm/` and a scontrol shim.
    struct Lab: Sendable {
        var folder: URL
        var controller: SlurmController
        var log: URL

        /// Runs `dcapply ARGUMENTS` in the example's folder.
        func dcapply(_ arguments: [String], failpoints: String? = nil) async throws -> SlurmCallResult {
            let executable = try DCApplyRunner.executableURL().path  // DCAPPLY_BINARY wins
            let path = folder.appendingPathComponent("shim").path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            var environment: [Environment.Key: String?] = ["PATH": path, "NO_COLOR": "1", "SLURM_CONF": controller.conf]
            environment["DCAPPLY_FAILPOINTS"] = failpoints
            let result = try await Subprocess.run(.path(.init(executable)), arguments: Arguments(arguments), environment: .inherit.updating(environment),
                                                  workingDirectory: .init(folder.path), output: .string(limit: 1 << 22), error: .string(limit: 1 << 22))
            let code: Int32
            switch result.terminationStatus {
            case .exited(let status): code = Int32(status)
            case .signaled(let signal): code = 128 + Int32(signal)
            }
            return SlurmCallResult(exitCode: code, output: result.standardOutput, error: result.standardError)
        }

        /// The scontrol calls that changed something since the last `takeWrites`.
        func takeWrites() throws -> [String] {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            try "".write(to: log, atomically: true, encoding: .utf8)
            return text.split(separator: "\n").map(String.init).filter { $0.hasPrefix("create") || $0.hasPrefix("update") || $0.hasPrefix("delete") }
        }
    }

    static func withLab<T: Sendable>(_ body: @Sendable (Lab) async throws -> T) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-slurm-example-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("shim"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for file in ["site.yaml", "inventory.yaml"] {
            try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("Examples/slurm/\(file)"), to: folder.appendingPathComponent(file))
        }
        let log = folder.appendingPathComponent("scontrol.log")
        let real = ["/usr/bin/scontrol", "/usr/local/bin/scontrol"].first(where: FileManager.default.isExecutableFile(atPath:)) ?? "/usr/bin/scontrol"
        let shim = folder.appendingPathComponent("shim/scontrol")
        try "#!/bin/sh\necho \"$*\" >> '\(log.path)'\nexec \(real) \"$@\"\n".write(to: shim, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: shim.path)
        let nodes = (1...2).flatMap { rack in (1...4).map { "gpu-r0\(rack)-n0\($0)" } }
        return try await SlurmController.with(nodes: nodes, folder: folder.appendingPathComponent(".slurm")) { controller in
            try await body(Lab(folder: folder, controller: controller, log: log))
        }
    }

    /// Pool members and reservation nodes of the plan's target (`plan -o json`).
    static func target(_ json: String) throws -> (train: Set<String>, llmTrain: Set<String>) {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let target = try #require(document["target"] as? [String: Any])
        let nodes = try #require(target["nodes"] as? [String: [String: Any]])
        let train = Set(nodes.filter { ($0.value["pool"] as? String) == "train" }.keys)
        let workloads = try #require(target["workloads"] as? [String: [String: Any]])
        let replicas = try #require(workloads["llm-train"]?["replicas"] as? [[String: Any]])
        return (train, Set(replicas.flatMap { ($0["nodes"] as? [String]) ?? [] }))
    }

    @Test func theExampleLeavesSlurmEqualToThePlanAndFollowsABrokenNode() async throws {
        try await Self.withLab { lab in
            let planned = try Self.target(try await lab.dcapply(["plan", ".", "-o", "json"]).output)
            let applied = try await lab.dcapply(["apply", ".", "--yes"])
            #expect(applied.exitCode == 0, "\(applied.error)")
            #expect(try await lab.controller.nodes("partition", "train") == planned.train)
            #expect(try await lab.controller.nodes("reservation", "llm-train") == planned.llmTrain)
            #expect(try await lab.controller.show("reservation", "llm-train")?["Accounts"] == "ml-research")
            #expect(try await lab.controller.show("node", "gpu-r02-n03")?["AvailableFeatures"] == "gpu,fabric:ib2,rack:r02")
            #expect(try await lab.dcapply(["plan", "."]).output.hasSuffix("No changes. The site matches the manifests.\n"))

            // Break a node that runs a replica: DOWN with dcapply's reason, its replica moves.
            let broken = try #require(planned.llmTrain.sorted().first)
            _ = try await lab.dcapply(["inventory", "set", broken, "health=failed"])
            #expect(try await lab.dcapply(["apply", ".", "--yes"]).exitCode == 0)
            let down = try #require(try await lab.controller.show("node", broken))
            #expect(down["State"]?.hasPrefix("DOWN") == true)
            #expect(down["Reason"] == "dcapply: failed")
            let moved = try #require(try await lab.controller.nodes("reservation", "llm-train"))
            #expect(moved.count == 3 && !moved.contains(broken))
            #expect(try await lab.controller.nodes("partition", "train")?.contains(broken) == false)

            // Heal it: resumed, and nothing is left to do.
            _ = try await lab.dcapply(["inventory", "set", broken, "health=healthy"])
            #expect(try await lab.dcapply(["apply", ".", "--yes"]).exitCode == 0)
            #expect(try await lab.controller.show("node", broken)?["State"]?.hasPrefix("IDLE") == true)
            #expect(try await lab.dcapply(["plan", "."]).output.hasSuffix("No changes. The site matches the manifests.\n"))

            // A partition deleted by hand is drift, shown and repaired.
            let members = try await lab.controller.nodes("partition", "train")
            _ = try await lab.controller.scontrol(["delete", "PartitionName=train"])
            let drift = try await lab.dcapply(["plan", "."]).output
            #expect(drift.contains("(slurm only)  (changed outside dcapply)"))
            #expect(try await lab.dcapply(["apply", ".", "--yes"]).exitCode == 0)
            #expect(try await lab.controller.nodes("partition", "train") == members)
            #expect(try await lab.dcapply(["plan", "."]).output.hasSuffix("No changes. The site matches the manifests.\n"))
        }
    }

    @Test func idleNodesAreDrainedBeforeTheirPowerOffDownAfterItAndResumedWhenPoweredOn() async throws {
        try await Self.withLab { lab in
            let site = lab.folder.appendingPathComponent("site.yaml")
            let energy = "---\napiVersion: dcapply/v1\nkind: EnergyPolicy\nmetadata: {name: lab-energy}\nspec: {site: lab, rackPowerCapKW: 100, powerOffIdle: true}\n"
            try (try String(contentsOf: site, encoding: .utf8) + energy).write(to: site, atomically: true, encoding: .utf8)
            let planned = try Self.target(try await lab.dcapply(["plan", ".", "-o", "json"]).output)
            let applied = try await lab.dcapply(["apply", ".", "--yes"])
            #expect(applied.exitCode == 0, "\(applied.error)")
            let writes = try lab.takeWrites()
            // Every node without a replica is powered off, the idle pool member included.
            let idle = Set((1...2).flatMap { rack in (1...4).map { "gpu-r0\(rack)-n0\($0)" } }).subtracting(planned.llmTrain)
            #expect(idle.count == 5)
            #expect(writes.contains { $0.hasPrefix("update NodeName=") && $0.contains("State=DRAIN Reason=dcapply: power off") })
            for node in idle {
                let record = try #require(try await lab.controller.show("node", node))
                #expect(record["State"]?.hasPrefix("DOWN") == true, "\(node): \(record["State"] ?? "")")
                #expect(record["Reason"] == "dcapply: power off")
            }
            #expect(try await lab.dcapply(["plan", "."]).output.hasSuffix("No changes. The site matches the manifests.\n"))

            // A fourth replica needs a node: it is powered on, resumed, and reserved.
            try (try String(contentsOf: site, encoding: .utf8).replacingOccurrences(of: "replicas: 3", with: "replicas: 4")).write(to: site, atomically: true, encoding: .utf8)
            #expect(try await lab.dcapply(["apply", ".", "--yes"]).exitCode == 0)
            let reserved = try #require(try await lab.controller.nodes("reservation", "llm-train"))
            let woken = reserved.subtracting(planned.llmTrain)
            #expect(reserved.count == 4 && woken.count == 1)
            for node in woken {
                #expect(try await lab.controller.show("node", node)?["State"]?.hasPrefix("IDLE") == true)
            }
            for node in idle.subtracting(woken) {
                #expect(try await lab.controller.show("node", node)?["Reason"] == "dcapply: power off")
            }
        }
    }

    @Test func aNodeAPersonDrainedIsObservedDegradedAndNeverResumed() async throws {
        try await Self.withLab { lab in
            _ = try await lab.controller.scontrol(["update", "NodeName=gpu-r01-n01", "State=DRAIN", "Reason=rma ticket 4711"])
            let plan = try await lab.dcapply(["plan", ".", "-o", "json"])
            #expect(plan.output.contains("Slurm has it DRAIN: rma ticket 4711 (not set by dcapply): observed as degraded"), "\(plan.output.prefix(2_000))")
            let planned = try Self.target(plan.output)
            #expect(!planned.llmTrain.contains("gpu-r01-n01"))
            #expect(try await lab.dcapply(["apply", ".", "--yes"]).exitCode == 0)
            let node = try #require(try await lab.controller.show("node", "gpu-r01-n01"))
            #expect(node["State"]?.contains("DRAIN") == true)
            #expect(node["Reason"] == "rma ticket 4711")
            #expect(try lab.takeWrites().allSatisfy { !$0.contains("State=RESUME") && !($0.hasPrefix("update NodeName=gpu-r01-n01 ") && $0.contains("State=")) })
        }
    }

    @Test func aReservationNearTheEndOfItsYearIsExtended() async throws {
        try await Self.withLab { lab in
            #expect(try await lab.dcapply(["apply", ".", "--yes"]).exitCode == 0)
            _ = try await lab.controller.scontrol(["update", "ReservationName=llm-train", "Duration=10-00:00:00"])
            #expect(try await lab.controller.show("reservation", "llm-train")?["Duration"] == "10-00:00:00")
            #expect(try await lab.dcapply(["plan", "."]).output.contains("(slurm only)  (Slurm reservation llm-train ends within 30 days: extended)"))
            _ = try lab.takeWrites()
            #expect(try await lab.dcapply(["apply", ".", "--yes"]).exitCode == 0)
            #expect(try lab.takeWrites().contains { $0.hasPrefix("update ReservationName=llm-train EndTime=") })
            let duration = try #require(try await lab.controller.show("reservation", "llm-train")?["Duration"])
            #expect(duration.hasPrefix("36"), "\(duration)")
            #expect(try await lab.dcapply(["plan", "."]).output.hasSuffix("No changes. The site matches the manifests.\n"))
        }
    }

    @Test func aMissingSlurmConfIsSaidAtOnce() async throws {
        try await Self.withLab { lab in
            try FileManager.default.removeItem(atPath: lab.controller.conf)
            let plan = try await lab.dcapply(["plan", "."])
            #expect(plan.exitCode == 1)
            #expect(plan.error.contains("the Slurm configuration .slurm/slurm.conf does not exist"), "\(plan.error)")
        }
    }

    @Test func aReservationOfTheSameNameNotMadeByDcapplyIsAProblemAndUntouched() async throws {
        try await Self.withLab { lab in
            let made = try await lab.controller.scontrol(["create", "ReservationName=llm-train", "Nodes=gpu-r02-n04", "StartTime=now", "Duration=60", "Users=root"])
            #expect(made.exitCode == 0)
            let plan = try await lab.dcapply(["plan", "."])
            #expect(plan.output.contains("Slurm: reservation llm-train exists in Slurm but dcapply did not create it"))
            _ = try await lab.dcapply(["apply", ".", "--yes"])
            #expect(try await lab.controller.nodes("reservation", "llm-train") == ["gpu-r02-n04"])
            #expect(try await lab.controller.show("reservation", "llm-train")?["Users"] == "root")
            #expect(try lab.takeWrites().allSatisfy { !$0.contains("ReservationName=llm-train") })
        }
    }

    @Test func killedMidApplyTheRerunEndsLikeAnUninterruptedApplyWithoutRepeatingDoneActions() async throws {
        try await Self.withLab { lab in
            let planned = try Self.target(try await lab.dcapply(["plan", ".", "-o", "json"]).output)
            _ = try lab.takeWrites()
            // The process dies (as with SIGKILL) right before its second actuator call.
            let killed = try await lab.dcapply(["apply", ".", "--yes"], failpoints: "actuator.call=crash@2")
            #expect(killed.exitCode == 137)
            let before = try lab.takeWrites()
            #expect(before.contains { $0.hasPrefix("create PartitionName=train") })
            #expect(try await lab.controller.show("reservation", "llm-train") == nil)

            let rerun = try await lab.dcapply(["apply", ".", "--yes"])
            #expect(rerun.exitCode == 0, "\(rerun.error)")
            let after = try lab.takeWrites()
            #expect(!after.contains { $0.contains("PartitionName=") }, "the partition's actions were journalled done: \(after)")
            #expect(after.contains { $0.hasPrefix("create ReservationName=llm-train") })
            #expect(try await lab.controller.nodes("partition", "train") == planned.train)
            #expect(try await lab.controller.nodes("reservation", "llm-train") == planned.llmTrain)
            #expect(try await lab.dcapply(["plan", "."]).output.hasSuffix("No changes. The site matches the manifests.\n"))
        }
    }

    @Test func killedAfterSlurmWasWrittenButBeforeTheJournalTheResentActionsChangeNothing() async throws {
        try await Self.withLab { lab in
            let planned = try Self.target(try await lab.dcapply(["plan", ".", "-o", "json"]).output)
            // SIGKILLed after the partition was written, before its assigns are journalled done.
            let killed = try await lab.dcapply(["apply", ".", "--yes"], failpoints: "apply.action=crash@2")
            #expect(killed.exitCode == 137)
            #expect(try lab.takeWrites().contains { $0.hasPrefix("create PartitionName=train") })
            #expect(try await lab.dcapply(["apply", ".", "--yes"]).exitCode == 0)
            #expect(try lab.takeWrites().allSatisfy { !$0.hasPrefix("create PartitionName=train") })
            #expect(try await lab.controller.nodes("partition", "train") == planned.train)
            #expect(try await lab.controller.nodes("reservation", "llm-train") == planned.llmTrain)
            #expect(try await lab.dcapply(["plan", "."]).output.hasSuffix("No changes. The site matches the manifests.\n"))
        }
    }
}
