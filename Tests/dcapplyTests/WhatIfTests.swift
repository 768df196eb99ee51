import DCApplyTestSupport
import Foundation
import Testing

/// `dcapply what-if`: the plan after losing a rack or a node, and a verdict per redundancy
/// promise, without writing anything.
@Suite(.timeLimit(.minutes(5)))
struct WhatIfTests {
    typealias Scratch = CLITests.Scratch

    /// A scratch quickstart with its first plan applied.
    static func appliedQuickstart() throws -> Scratch {
        let scratch = try Scratch()
        let apply = try scratch.run([scratch.manifests, "--yes"] + scratch.state)
        #expect(apply.exitCode == 0, "stderr: \(apply.stderr)")
        return scratch
    }

    /// The lines from `Redundancy:` to the end.
    static func redundancySection(_ stdout: String) -> [String] {
        let lines = stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return Array(lines.drop { $0 != "Redundancy:" })
    }

    @Test func whatIfOnARackLossOfTheQuickstartBreaksEveryPromiseAndWritesNothing() throws {
        let scratch = try Self.appliedQuickstart()
        let stateBefore = try scratch.run(["state", "show", "--output", "json"] + scratch.state)
        let inventoryBefore = try scratch.run(["inventory", "show", scratch.manifests] + scratch.state)

        let result = try scratch.run(["what-if", scratch.manifests, "--fail", "rack=r01"] + scratch.state)

        #expect(result.exitCode == 1, "stderr: \(result.stderr)")
        #expect(result.stdout.hasPrefix("""
            What if rack=r01 fails: 3 nodes lost (gpu-r01-n01, gpu-r01-n02, gpu-r01-n03)

            dcapply plan: 6 nodes observed, state serial 1, manifests 
            """))
        #expect(result.stdout.contains("  - unassign Node/gpu-r01-n01  (node failed)"))
        // The two racks of the quickstart are the whole site: with one gone, no promise holds.
        // Each ✘ line quotes the first error problem the plan reports on that resource.
        let json = try scratch.json(try scratch.run(["what-if", scratch.manifests, "--fail", "rack=r01", "-o", "json"] + scratch.state))
        let promises = json["promises"] as? [[String: Any]] ?? []
        let firstReasons = promises.map { "\($0["resource"] ?? "")" + ": " + ((($0["reasons"] as? [String]) ?? []).first ?? "") }
        let crossLines = Self.redundancySection(result.stdout).filter { $0.hasPrefix("  ✘ ") }
        #expect(crossLines == firstReasons.map { "  ✘ " + $0 })
        #expect(crossLines.map { String($0.prefix { $0 != ":" }) } == ["  ✘ HardwarePool/train", "  ✘ StorageTier/scratch", "  ✘ Workload/llm-train"])
        #expect(Self.redundancySection(result.stdout).suffix(2) == ["3 promises broken.", ""])

        let stateAfter = try scratch.run(["state", "show", "--output", "json"] + scratch.state)
        #expect(stateAfter.stdout == stateBefore.stdout, "what-if writes nothing to the state")
        let inventoryAfter = try scratch.run(["inventory", "show", scratch.manifests] + scratch.state)
        #expect(inventoryAfter.stdout == inventoryBefore.stdout, "what-if leaves no health override behind")
        let history = try scratch.run(["state", "history", "--output", "json"] + scratch.state)
        #expect((try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [Any])?.count == 1)
    }

    @Test func losingANodeOfTheQuickstartKeepsEveryPromise() throws {
        let scratch = try Self.appliedQuickstart()
        let result = try scratch.run(["what-if", scratch.manifests, "--fail", "node=gpu-r02-n01"] + scratch.state)
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.hasPrefix("What if node=gpu-r02-n01 fails: 1 node lost (gpu-r02-n01)\n"))
        #expect(result.stdout.contains("  ~ move replica 1 Node/gpu-r02-n01 → Node/gpu-r02-n03  (gpu-r02-n01 failed)"))
        #expect(Self.redundancySection(result.stdout) == [
            "Redundancy:",
            "  ✔ HardwarePool/train: still meets RedundancyPolicy/rack-spread",
            "  ✔ StorageTier/scratch: still meets RedundancyPolicy/rack-spread and its protection (2 replicas)",
            "  ✔ Workload/llm-train: still meets RedundancyPolicy/rack-spread",
            "Every redundancy promise holds.",
            "",
        ])

        let detailed = try scratch.run(["what-if", scratch.manifests, "--fail", "node=gpu-r02-n01", "--detailed-exitcode"] + scratch.state)
        #expect(detailed.exitCode == 2, "the failover has changes")
        let idle = try scratch.run(["what-if", scratch.manifests, "--fail", "node=gpu-r01-n03", "--detailed-exitcode"] + scratch.state)
        #expect(idle.exitCode == 0, "a spare that hosts nothing changes nothing")
        #expect(idle.stdout.contains("No changes. The site matches the manifests.\n\nRedundancy:\n"))
    }

    @Test func losingBothRacksOfTheQuickstartExitsOneNamingTheBrokenPromises() throws {
        let scratch = try Self.appliedQuickstart()
        let result = try scratch.run(["what-if", scratch.manifests, "--fail", "rack=r01", "--fail", "rack=r02"] + scratch.state)
        #expect(result.exitCode == 1)
        #expect(result.stdout.hasPrefix("What if rack=r01 and rack=r02 fail: 6 nodes lost (gpu-r01-n01, gpu-r01-n02, gpu-r01-n03, gpu-r02-n01, gpu-r02-n02, gpu-r02-n03)\n"))
        let section = Self.redundancySection(result.stdout)
        for resource in ["HardwarePool/train", "StorageTier/scratch", "Workload/llm-train"] {
            #expect(section.contains { $0.hasPrefix("  ✘ \(resource): ") }, "names \(resource)")
        }
        #expect(section.suffix(2) == ["3 promises broken.", ""])
    }

    @Test func whatIfJSONIsOneDocumentWhosePlanIsThePlanAfterTheFailure() throws {
        let scratch = try Self.appliedQuickstart()
        let result = try scratch.run(["what-if", scratch.manifests, "--fail", "node=gpu-r02-n01", "-o", "json"] + scratch.state)
        #expect(result.exitCode == 0)
        let json = try scratch.json(result)
        #expect(json.keys.sorted() == ["failed", "holds", "plan", "promises"])
        #expect(json["failed"] as? NSDictionary == ["scenario": ["node=gpu-r02-n01"], "nodes": ["gpu-r02-n01"]] as NSDictionary)
        #expect(json["holds"] as? Bool == true)
        let promises = json["promises"] as? [[String: Any]] ?? []
        #expect(promises.map { $0["resource"] as? String } == ["HardwarePool/train", "StorageTier/scratch", "Workload/llm-train"])
        #expect(promises.allSatisfy { $0["holds"] as? Bool == true })
        #expect(promises.first?["message"] as? String == "still meets RedundancyPolicy/rack-spread")

        // The same plan as `plan` makes once the node has really failed.
        _ = try scratch.run(["inventory", "set", "gpu-r02-n01", "health=failed"] + scratch.state)
        let plan = try scratch.json(try scratch.run(["plan", scratch.manifests, "-o", "json"] + scratch.state))
        #expect(json["plan"] as? NSDictionary == plan as NSDictionary)
    }

    @Test func aRackLossOnTheSampleSiteKeepsEveryPromise() throws {
        let scratch = try Scratch()
        let manifests = DCApplyRunner.packageRoot.appendingPathComponent("Manifests").path
        let apply = try scratch.run([manifests, "--yes"] + scratch.state)
        #expect(apply.exitCode == 0, "stderr: \(apply.stderr)")

        let rack = try scratch.run(["what-if", manifests, "--fail", "rack=r07"] + scratch.state)
        #expect(rack.exitCode == 0, "stdout: \(rack.stdout)")
        #expect(rack.stdout.hasPrefix("What if rack=r07 fails: 4 nodes lost (h100-r07-n01, h100-r07-n02, h100-r07-n03, h100-r07-n04)\n"))
        #expect(rack.stdout.contains("  - unassign Node/h100-r07-n01  (node failed)"))
        #expect(Self.redundancySection(rack.stdout) == [
            "Redundancy:",
            "  ✔ HardwarePool/infer-l40s: still meets RedundancyPolicy/infer-rack-spread",
            "  ✔ HardwarePool/train-h100: still meets RedundancyPolicy/train-rack-spread",
            "  ✔ StorageTier/capacity: still meets RedundancyPolicy/storage-rack-spread and its protection (erasure 8+3)",
            "  ✔ StorageTier/hot: still meets RedundancyPolicy/storage-rack-spread and its protection (3 replicas)",
            "  ✔ Workload/embed-serve: still meets RedundancyPolicy/serve-spread",
            "  ✔ Workload/llama-70b-serve: still meets RedundancyPolicy/serve-spread",
            "  ✔ Workload/llm-finetune: still meets RedundancyPolicy/serve-spread",
            "  ✔ Workload/mistral-7b-serve: still meets RedundancyPolicy/serve-spread",
            "Every redundancy promise holds.",
            "",
        ])

        let node = try scratch.run(["what-if", manifests, "--fail", "node=h100-r02-n01", "--detailed-exitcode"] + scratch.state)
        #expect([0, 2].contains(node.exitCode), "stdout: \(node.stdout)")
        #expect(node.stdout.hasSuffix("Every redundancy promise holds.\n"))
    }

    @Test func unknownFailuresExitOneAndSayWhatExists() throws {
        let scratch = try Scratch()
        let rack = try scratch.run(["what-if", scratch.manifests, "--fail", "rack=r07"] + scratch.state)
        #expect(rack.exitCode == 1)
        #expect(rack.stdout.isEmpty)
        #expect(rack.stderr.hasSuffix("error: no node has rack=r07 (rack values: r01, r02); did you mean \"rack=r01\"?\n"))

        let node = try scratch.run(["what-if", scratch.manifests, "--fail", "node=gpu-r01-n1"] + scratch.state)
        #expect(node.exitCode == 1)
        #expect(node.stderr.hasSuffix("error: no node \"gpu-r01-n1\" in the inventory; did you mean \"gpu-r01-n01\"?\n"))

        let missing = try scratch.run(["what-if", scratch.manifests] + scratch.state)
        #expect(missing.exitCode == 1)
        // Issue 13: the usage first, the one line saying what is wrong last.
        #expect(missing.stderr.hasSuffix("\nerror: Name what fails with --fail, such as --fail rack=r07 or --fail node=gpu-r01-n01.\n"), "\(missing.stderr)")

        let malformed = try scratch.run(["what-if", scratch.manifests, "--fail", "r07"] + scratch.state)
        #expect(malformed.exitCode == 1)
        #expect(malformed.stderr.hasSuffix("\nerror: Cannot read the failure \"r07\": expected key=value, such as rack=r07 or node=gpu-r01-n01.\n"), "\(malformed.stderr)")
    }
}
