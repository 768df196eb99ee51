import DCApplyTestSupport
import Foundation
import Testing

/// End-to-end checks: the plans `dcapply` prints keep every hard constraint of the manifest
/// contract, as recomputed by an independent oracle (`PlanVerifier`).
@Suite(.timeLimit(.minutes(5))) struct PlanConstraintTests {
    @Test func manifestsSamplePlanMeetsEveryHardConstraint() throws {
        try expectPlanMeetsEveryHardConstraint(
            manifests: DCApplyRunner.packageRoot.appendingPathComponent("Manifests"))
    }

    @Test func quickstartPlanMeetsEveryHardConstraint() throws {
        try expectPlanMeetsEveryHardConstraint(
            manifests: DCApplyRunner.packageRoot.appendingPathComponent("Examples/quickstart"))
    }

    @Test(arguments: 0..<100)
    func generatedSitesMeetEveryHardConstraint(seed: Int) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let site = scratch.url.appendingPathComponent("site")
        try SiteGenerator().write(to: site, seed: UInt64(seed), failures: seed % 4)
        let state = "sqlite:" + scratch.url.appendingPathComponent("state.db").path
        let result = try DCApplyRunner.run(
            ["plan", site.path, "--output", "json", "--state", state], in: scratch.url)
        try #require(result.exitCode == 0 || result.exitCode == 1, "stderr: \(result.stderr)")
        let violations = try PlanVerifier.violations(
            manifestsDirectory: site, planJSON: Data(result.stdout.utf8), assumeNothingApplied: true)
        #expect(violations.isEmpty, "seed \(seed): \(violations.joined(separator: "\n"))\nstderr: \(result.stderr)")
    }

    @Test(arguments: [1, 6])
    func generatedSitePlansAreDeterministic(seed: Int) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let site = scratch.url.appendingPathComponent("site")
        try SiteGenerator().write(to: site, seed: UInt64(seed), failures: 1)
        var plans: [String] = []
        for run in 0..<2 {
            let state = "sqlite:" + scratch.url.appendingPathComponent("state-\(run).db").path
            let result = try DCApplyRunner.run(
                ["plan", site.path, "--output", "json", "--state", state], in: scratch.url)
            try #require(result.exitCode == 0 || result.exitCode == 1, "stderr: \(result.stderr)")
            let root = try #require(
                try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                "stderr: \(result.stderr)")
            let stable: [String: Any] = [
                "target": root["target"] ?? NSNull(),
                "changes": root["changes"] ?? NSNull(),
                "problems": root["problems"] ?? NSNull(),
            ]
            let data = try JSONSerialization.data(withJSONObject: stable, options: [.sortedKeys])
            plans.append(String(decoding: data, as: UTF8.self))
        }
        #expect(plans[0] == plans[1])
    }

    @Test func failedNodeIsReplacedAfterApply() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let quickstart = DCApplyRunner.packageRoot.appendingPathComponent("Examples/quickstart")
        try #require(FileManager.default.fileExists(atPath: quickstart.path), "Examples/quickstart is missing")
        let site = scratch.url.appendingPathComponent("quickstart")
        try FileManager.default.copyItem(at: quickstart, to: site)
        let state = "sqlite:" + scratch.url.appendingPathComponent("s.db").path

        let apply = try DCApplyRunner.run(["apply", site.path, "--yes", "--state", state], in: site)
        try #require(apply.exitCode == 0, "apply failed: \(apply.stderr)")
        let before = try plan(site, state: state)
        let manifests = try PlanVerifier.Manifests.load(from: site)
        // Prefer a member of a sized pool: that pool must keep its size after losing it.
        let members = before.nodes.compactMap { name, node in node.pool.map { (node: name, pool: $0) } }
            .sorted { ($0.pool, $0.node) < ($1.pool, $1.node) }
        let victim = try #require(
            members.first { manifests.pools[$0.pool]?.sizeNodes != nil || manifests.pools[$0.pool]?.sizeGpus != nil }
                ?? members.first,
            "the quickstart plan puts no node in a pool")
        let membersBefore = members.filter { $0.pool == victim.pool }.count

        let set = try DCApplyRunner.run(
            ["inventory", "set", victim.node, "health=failed", "--state", state], in: site)
        try #require(set.exitCode == 0, "inventory set failed: \(set.stderr)")
        let result = try DCApplyRunner.run(["plan", site.path, "--output", "json", "--state", state], in: site)
        try #require(result.exitCode == 0 || result.exitCode == 1, "stderr: \(result.stderr)")
        let violations = try PlanVerifier.violations(
            manifestsDirectory: site, planJSON: Data(result.stdout.utf8),
            healthOverrides: [victim.node: "failed"])
        #expect(violations.isEmpty, "\(violations.joined(separator: "\n"))\nstderr: \(result.stderr)")

        let after = try PlanVerifier.Plan(json: Data(result.stdout.utf8))
        #expect(after.nodes[victim.node]?.pool == nil, "\(victim.node) failed but stays in \(victim.pool)")
        let membersAfter = after.nodes.values.filter { $0.pool == victim.pool }.count
        let pool = try #require(manifests.pools[victim.pool])
        if pool.sizeNodes != nil {
            #expect(membersAfter == membersBefore, "HardwarePool/\(victim.pool) did not replace \(victim.node)")
        } else if let gpus = pool.sizeGpus {
            let total = after.nodes.filter { $0.value.pool == victim.pool }
                .reduce(0.0) { $0 + (manifests.nodes[$1.key]?.gpus ?? 0) }
            #expect(total >= Double(gpus), "HardwarePool/\(victim.pool) has \(total) GPUs after failover")
        }
    }

    // MARK: Helpers

    private func expectPlanMeetsEveryHardConstraint(manifests: URL) throws {
        try #require(FileManager.default.fileExists(atPath: manifests.path), "\(manifests.path) is missing")
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let state = "sqlite:" + scratch.url.appendingPathComponent("state.db").path
        let result = try DCApplyRunner.run(
            ["plan", manifests.path, "--output", "json", "--state", state], in: scratch.url)
        try #require(result.exitCode == 0, "stderr: \(result.stderr)")
        let violations = try PlanVerifier.violations(
            manifestsDirectory: manifests, planJSON: Data(result.stdout.utf8), assumeNothingApplied: true)
        #expect(violations.isEmpty, "\(violations.joined(separator: "\n"))")
    }

    private func plan(_ site: URL, state: String) throws -> PlanVerifier.Plan {
        let result = try DCApplyRunner.run(["plan", site.path, "--output", "json", "--state", state], in: site)
        try #require(result.exitCode == 0, "stderr: \(result.stderr)")
        return try PlanVerifier.Plan(json: Data(result.stdout.utf8))
    }
}

/// The oracle must be able to fail: a hand-made valid plan passes, and each corruption of it is caught.
@Suite(.timeLimit(.minutes(5))) struct PlanVerifierSelfTests {
    @Test func acceptsAValidPlan() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let violations = try fixture.violations(of: Fixture.validPlan)
        #expect(violations.isEmpty, "\(violations.joined(separator: "\n"))")
    }

    @Test func reportsTwoFullNodeReplicasOnOneNode() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        var plan = Fixture.validPlan
        plan.replicas = [["gpu-r01-n01"], ["gpu-r01-n01"]]
        let violations = try fixture.violations(of: plan)
        #expect(violations.contains { $0.contains("Node/gpu-r01-n01 exceeds capacity") && $0.contains("16 gpus") },
                "\(violations)")
    }

    @Test func reportsAHostingNodePoweredOff() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        var plan = Fixture.validPlan
        plan.powerState["gpu-r02-n01"] = "off"
        plan.estimatedW["gpu-r02-n01"] = 0
        let violations = try fixture.violations(of: plan)
        #expect(violations.contains { $0.contains("Node/gpu-r02-n01 hosts a replica or a drive") }, "\(violations)")
    }

    @Test func reportsARackOverItsPowerCap() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        var plan = Fixture.validPlan
        plan.powerState["gpu-r01-n02"] = "on"
        plan.estimatedW["gpu-r01-n02"] = 1100
        let violations = try fixture.violations(of: plan)
        #expect(violations.contains { $0.contains("rack r01") && $0.contains("over the 11 kW cap") }, "\(violations)")
    }

    @Test func reportsAWrongPowerEstimate() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        var plan = Fixture.validPlan
        plan.estimatedW["gpu-r01-n01"] = 5000
        let violations = try fixture.violations(of: plan)
        #expect(violations.contains { $0.contains("Node/gpu-r01-n01 has estimatedW 5000") }, "\(violations)")
    }

    @Test func reportsWorkOnAFailedNode() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let violations = try fixture.violations(of: Fixture.validPlan, healthOverrides: ["gpu-r02-n01": "failed"])
        #expect(violations.contains { $0.contains("HardwarePool/train has member gpu-r02-n01, which is failed") },
                "\(violations)")
        #expect(violations.contains { $0.contains("replica 1 is on gpu-r02-n01, which is failed") }, "\(violations)")
    }

    @Test func reportsUnplacedReplicasWithoutAProblem() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        var plan = Fixture.validPlan
        plan.replicas = [["gpu-r01-n01"]]
        plan.unplaced = 1
        plan.powerState["gpu-r02-n01"] = "off"
        plan.estimatedW["gpu-r02-n01"] = 0
        plan.storageDrives = ["gpu-r01-n01/nvme0"]
        plan.rawTiB = 7.68
        plan.satisfied = false
        let violations = try fixture.violations(of: plan)
        #expect(violations.contains { $0.contains("Workload/serve leaves 1 replica(s) unplaced") }, "\(violations)")
        #expect(violations.contains { $0.contains("StorageTier/hot is not satisfied") }, "\(violations)")
        plan.problems = [("error", "Workload/serve"), ("error", "StorageTier/hot")]
        let withProblems = try fixture.violations(of: plan)
        // Reported now, but gpu-r02-n01 still had room (rack r01 has neither spread nor power left).
        #expect(withProblems == [
            "Workload/serve leaves 1 replica(s) unplaced, but one more fits on Node/gpu-r02-n01 within its "
                + "capacity, the workload's spread and the rack power cap",
        ])
    }

    @Test func reportsASizedPoolShortOfNodesWhileOneIsFree() throws {
        let fixture = try Fixture(poolSize: "{nodes: 4}")
        defer { fixture.remove() }
        #expect(try fixture.violations(of: Fixture.validPlan).isEmpty)
        var plan = Fixture.validPlan
        plan.outOfPool = ["gpu-r02-n02"]
        plan.problems = [("error", "HardwarePool/train")]
        let violations = try fixture.violations(of: plan)
        #expect(violations == [
            "HardwarePool/train is short of its size but leaves Node/gpu-r02-n02 out, which is healthy, matches it, "
                + "is in no pool and fits its spread",
        ])
    }

    @Test func reportsAGpuSizedPoolWithANodeTooMany() throws {
        let fixture = try Fixture(poolSize: "{gpus: 24}")
        defer { fixture.remove() }
        let violations = try fixture.violations(of: Fixture.validPlan)
        #expect(violations.contains { $0.contains("HardwarePool/train has 32 GPUs on 4 nodes for size.gpus 24") },
                "\(violations)")
        var plan = Fixture.validPlan
        plan.outOfPool = ["gpu-r02-n02"]
        #expect(try fixture.violations(of: plan).isEmpty)
    }

    @Test func reportsAStorageTierThatClaimsTooMuch() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        var plan = Fixture.validPlan
        plan.storageDrives = ["gpu-r01-n01/nvme0"]
        plan.rawTiB = 7.68
        let violations = try fixture.violations(of: plan)
        #expect(violations.contains { $0.contains("StorageTier/hot claims satisfied") }, "\(violations)")
    }

    @Test func reportsAGangSplitAcrossColocationDomains() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        var plan = Fixture.validPlan
        plan.gangNodes = ["gpu-r01-n02", "gpu-r02-n02"]
        plan.powerState["gpu-r01-n02"] = "on"
        plan.powerState["gpu-r02-n02"] = "on"
        plan.estimatedW["gpu-r01-n02"] = 10200
        plan.estimatedW["gpu-r02-n02"] = 10200
        let violations = try fixture.violations(of: plan)
        #expect(violations.contains { $0.contains("Workload/gang replica 0 is a gang colocated by rack") },
                "\(violations)")
    }

    @Test func reportsASizelessPoolThatLeavesAMatchingNodeOut() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        var plan = Fixture.validPlan
        plan.outOfPool = ["gpu-r02-n02"]
        let violations = try fixture.violations(of: plan)
        #expect(violations.contains { $0.contains("Node/gpu-r02-n02 is healthy, matches HardwarePool/train") },
                "\(violations)")
    }

    @Test(arguments: [
        // (GPUs per member, size.gpus, spares, minDomains, whether a minimal core with that many spares exists)
        ([8.0, 8, 8], 16, 1, 0, true),
        ([8.0, 8, 8], 16, 0, 0, false),
        ([8.0, 8], 8, 0, 2, true),
        ([8.0, 4], 12, 0, 0, true),
        ([8.0, 4, 4], 8, 0, 0, false),
        ([4.0, 4, 4, 8], 12, 1, 0, true),
    ])
    func judgesGpuSizedPoolExcess(counts: [Double], wanted: Int, spares: Int, minDomains: Int, minimal: Bool) {
        let domains = counts.indices.map { "rack-\($0)" }
        #expect(PlanVerifier.Checker.someSpareSetLeavesMinimalCore(
            counts: counts, domains: domains, spareCount: spares, wanted: Double(wanted),
            minDomains: minDomains) == minimal)
    }

    @Test func reportsReplicasOfATenantWithoutUse() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try fixture.addTenant(grantingUseOn: "infer-*")
        let violations = try fixture.violations(of: Fixture.validPlan)
        #expect(violations.contains { $0.contains("tenant ml is not granted use on HardwarePool/train") },
                "\(violations)")
        try fixture.addTenant(grantingUseOn: "tr?in*")
        #expect(try fixture.violations(of: Fixture.validPlan).isEmpty)
    }

    @Test(arguments: 0..<12)
    func generatedSitesLoadInTheVerifier(seed: Int) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let summary = try SiteGenerator().write(to: scratch.url, seed: UInt64(seed), failures: seed % 4)
        let again = try ScratchDirectory()
        defer { again.remove() }
        try SiteGenerator().write(to: again.url, seed: UInt64(seed), failures: seed % 4)
        for name in try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) {
            let first = try Data(contentsOf: scratch.url.appendingPathComponent(name))
            let second = try Data(contentsOf: again.url.appendingPathComponent(name))
            #expect(first == second, "\(name) differs between two runs of seed \(seed)")
        }

        let manifests = try PlanVerifier.Manifests.load(from: scratch.url)
        #expect(Set(manifests.nodes.keys) == Set(summary.nodeNames))
        #expect(manifests.nodes.values.filter { $0.health == "failed" }.count == seed % 4)
        #expect(manifests.nodes.values.filter { $0.health == "degraded" }.count == 1)
        for node in manifests.nodes.values {
            #expect(node.labels["row"] != nil && node.labels["rack"] != nil, "\(node.name) lacks a failure domain")
        }
        for pool in manifests.pools.values {
            #expect(manifests.sites[pool.site] != nil)
            if let policy = pool.redundancy { #expect(manifests.policies[policy] != nil) }
        }
        for workload in manifests.workloads.values {
            #expect(manifests.pools[workload.pool] != nil)
            if let policy = workload.redundancy { #expect(manifests.policies[policy]?.spares == 0) }
        }
        #expect(!manifests.energyPolicies.isEmpty)
    }

    @Test func expandsInventoryTemplates() {
        let expand = PlanVerifier.InventoryReader.expand
        #expect(expand("cpu-r{rack:02}-n{index:02}", "3", 7) == "cpu-r03-n07")
        #expect(expand("r{rack}", "12", 1) == "r12")
        #expect(expand("n{index:03}", "", 5) == "n005")
    }
}

/// A small hand-written site and a plan for it that keeps every constraint.
private struct Fixture {
    /// The parts of a plan the corruptions change.
    struct PlanParts {
        var replicas: [[String]] = [["gpu-r01-n01"], ["gpu-r02-n01"]]
        var unplaced = 0
        var gangNodes: [String] = []
        var outOfPool: Set<String> = []
        var powerState: [String: String] = [
            "gpu-r01-n01": "on", "gpu-r01-n02": "off", "gpu-r02-n01": "on", "gpu-r02-n02": "off",
        ]
        var estimatedW: [String: Double] = [
            "gpu-r01-n01": 10200, "gpu-r01-n02": 0, "gpu-r02-n01": 10200, "gpu-r02-n02": 0,
        ]
        var storageDrives = ["gpu-r01-n01/nvme0", "gpu-r02-n01/nvme0"]
        var rawTiB = 15.36
        var satisfied = true
        var problems: [(severity: String, resource: String)] = []

        func json() throws -> Data {
            let nodes = powerState.keys.sorted().map { name -> (String, Any) in
                (name, ["pool": outOfPool.contains(name) ? NSNull() : "train", "powerState": powerState[name] ?? "off",
                        "estimatedW": estimatedW[name] ?? 0] as [String: Any])
            }
            let replicaObjects = replicas.enumerated().map { ["index": $0.offset, "nodes": $0.element] as [String: Any] }
            let gangReplicas: [[String: Any]] = gangNodes.isEmpty ? [] : [["index": 0, "nodes": gangNodes]]
            let root: [String: Any] = [
                "formatVersion": 1,
                "revision": NSNull(),
                "changes": [Any](),
                "target": [
                    "nodes": Dictionary(uniqueKeysWithValues: nodes),
                    "workloads": [
                        "serve": ["replicas": replicaObjects, "unplaced": unplaced],
                        "gang": ["replicas": gangReplicas, "unplaced": gangNodes.isEmpty ? 1 : 0],
                    ],
                    "storageTiers": ["hot": ["drives": storageDrives, "rawTiB": rawTiB, "satisfied": satisfied]],
                ],
                "energy": ["currentW": 0, "plannedW": estimatedW.values.reduce(0, +)],
                "problems": (problems + [("error", "Workload/gang")]).map {
                    ["severity": $0.severity, "resource": $0.resource, "message": "test"]
                },
            ]
            return try JSONSerialization.data(withJSONObject: root)
        }
    }

    static let validPlan = PlanParts()

    let directory: URL

    /// - Parameter poolSize: the `size` of HardwarePool `train`, in YAML flow style; nil for none.
    init(poolSize: String? = nil) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("plan-verifier-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let manifests = """
            apiVersion: dcapply/v1
            kind: Site
            metadata: {name: lab}
            spec:
              failureDomains: [row, rack]
              provider:
                local:
                  inventory: hardware/inventory.yaml
            ---
            apiVersion: dcapply/v1
            kind: RedundancyPolicy
            metadata: {name: rack-spread}
            spec: {failureDomain: rack, maxPerDomain: 1, minDomains: 2}
            ---
            apiVersion: dcapply/v1
            kind: HardwarePool
            metadata: {name: train}
            spec:
              site: lab
              gpuModel: H100
            \(poolSize.map { "  size: \($0)" } ?? "")
              nodeSelector:
                matchExpressions:
                  - {key: rack, operator: In, values: [r01, r02]}
            ---
            apiVersion: dcapply/v1
            kind: Workload
            metadata: {name: serve}
            spec:
              pool: train
              tenant: ml
              replicas: 2
              resources: {gpus: 8, cpuCores: 16, memoryGiB: 128}
              redundancy: rack-spread
            ---
            apiVersion: dcapply/v1
            kind: Workload
            metadata: {name: gang}
            spec: {pool: train, replicas: 1, resources: {gpus: 16}, colocate: rack, priority: -1}
            ---
            apiVersion: dcapply/v1
            kind: StorageTier
            metadata: {name: hot}
            spec: {site: lab, media: nvme, usableTiB: 5, protection: {replicas: 2}}
            ---
            apiVersion: dcapply/v1
            kind: EnergyPolicy
            metadata: {name: lab-energy}
            spec: {site: lab, rackPowerCapKW: 40, racks: {r01: {powerCapKW: 11}}, powerOffIdle: false}

            """
        let inventory = """
            apiVersion: dcapply/v1
            kind: Inventory
            templates:
              - namePattern: "gpu-r{rack:02}-n{index:02}"
                racks: [1, 2]
                perRack: 2
                labels: {row: "1", rack: "r{rack:02}"}
                gpus: {model: H100, count: 8, memoryGiB: 80}
                capacity: {cpuCores: 112, memoryGiB: 2048}
                drives:
                  - {id: nvme0, media: nvme, capacityTiB: 7.68, selfEncrypting: true}
                power: {idleW: 1100, maxW: 10200}
                powerState: on

            """
        try manifests.write(to: directory.appendingPathComponent("site.yaml"), atomically: true, encoding: .utf8)
        let hardware = directory.appendingPathComponent("hardware")
        try FileManager.default.createDirectory(at: hardware, withIntermediateDirectories: true)
        try inventory.write(to: hardware.appendingPathComponent("inventory.yaml"), atomically: true, encoding: .utf8)
    }

    func violations(of plan: PlanParts, healthOverrides: [String: String] = [:]) throws -> [String] {
        try PlanVerifier.violations(manifestsDirectory: directory, planJSON: try plan.json(),
                                    healthOverrides: healthOverrides, assumeNothingApplied: true)
    }

    /// Writes an AccessPolicy `ml` that grants `use` on pools matching `pattern` only.
    func addTenant(grantingUseOn pattern: String) throws {
        let policy = """
            apiVersion: dcapply/v1
            kind: AccessPolicy
            metadata: {name: ml}
            spec:
              members:
                - {user: alice@example.com, keys: ["ssh-ed25519 AAAA alice"]}
              rules:
                - {kinds: [HardwarePool], names: ["\(pattern)"], verbs: [use]}
                - {kinds: [Workload], verbs: [manage]}

            """
        try policy.write(to: directory.appendingPathComponent("access.yaml"), atomically: true, encoding: .utf8)
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A temporary directory that each test removes when it is done.
private struct ScratchDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("dcapply-test-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}
