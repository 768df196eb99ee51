@testable import DCApplyCore
import Testing

/// The solver's hard constraints, one by one.
struct PlacementTests {
    static let pool = """
        apiVersion: dcapply/v1
        kind: HardwarePool
        metadata: {name: p}
        spec: {site: s1}
        """

    static func workload(_ name: String, replicas: Int, gpus: Int, extra: String = "") -> String {
        "apiVersion: dcapply/v1\nkind: Workload\nmetadata: {name: \(name)}\nspec: {pool: p, replicas: \(replicas), resources: {gpus: \(gpus), cpuCores: 8}\(extra)}"
    }

    @Test func packsReplicasWithinEveryNodesCapacity() {
        let site = TestSite(manifests: TestSite.manifests(Self.pool + "\n---\n" + Self.workload("w", replicas: 5, gpus: 3)),
                            inventory: TestSite.gpuInventory(racks: 1, perRack: 2))
        let result = site.solve()
        // 8 GPUs a node, 3 a replica: two fit per node, so only 4 of 5 can be placed.
        #expect(result.replicas(of: "w").count == 4)
        #expect(result.target.workloads["w"]?.unplaced == 1)
        for node in site.observed.nodes.keys { #expect(result.gpusUsed(on: node, site: site) <= 8) }
        let problem = result.problems.first { $0.resource == ResourceAddress(.workload, "w") }
        #expect(problem?.message == "1 of 5 replicas cannot be placed: of 2 nodes in HardwarePool/p, 2 lack free gpus (each replica needs 3); to fix: add about 1 node like g-r01-n01 to HardwarePool/p, or lower the replicas")
    }

    @Test func failedNodesHoldNothingAndDegradedNodesTakeNothingNew() {
        var site = TestSite(manifests: TestSite.manifests(Self.pool + "\n---\n" + Self.workload("w", replicas: 2, gpus: 8)),
                            inventory: TestSite.gpuInventory(racks: 1, perRack: 3))
        let first = site.solve()
        let hosts = first.replicas(of: "w").flatMap(\.nodes)
        site.setHealth(hosts[0], .failed)
        site.setHealth(hosts[1], .degraded)
        let second = site.solve(current: first.target)
        #expect(second.target.nodes[hosts[0]]?.pool == nil, "a failed node leaves its pool")
        #expect(!second.replicas(of: "w").contains { $0.nodes.contains(hosts[0]) })
        #expect(second.replicas(of: "w").contains { $0.nodes == [hosts[1]] }, "a degraded node keeps its replica")
        // With the degraded node kept busy, a third replica cannot go on it.
        site.desired.workloads["w"]?.replicas = 3
        let third = site.solve(current: second.target)
        #expect(third.target.workloads["w"]?.unplaced == 1)
    }

    @Test func aNodeBelongsToOnePoolAndSizesAreMetWithSpares() {
        let manifests = TestSite.manifests("""
            apiVersion: dcapply/v1
            kind: RedundancyPolicy
            metadata: {name: one-spare}
            spec: {failureDomain: rack, spares: 1}
            ---
            apiVersion: dcapply/v1
            kind: HardwarePool
            metadata: {name: a}
            spec: {site: s1, size: {nodes: 2}, redundancy: one-spare}
            ---
            apiVersion: dcapply/v1
            kind: HardwarePool
            metadata: {name: b}
            spec: {site: s1, size: {gpus: 12}}
            """)
        let site = TestSite(manifests: manifests, inventory: TestSite.gpuInventory(racks: 2, perRack: 3))
        let result = site.solve()
        #expect(result.members(of: "a").count == 3)
        // 12 GPUs with 8-GPU nodes: two nodes, the least excess whole nodes allow.
        #expect(result.members(of: "b").count == 2)
        #expect(Set(result.members(of: "a")).isDisjoint(with: result.members(of: "b")))
        #expect(result.problems.isEmpty)
    }

    @Test func poolShortOfNodesIsAProblemNamingTheSpreadLimit() {
        let manifests = TestSite.manifests("""
            apiVersion: dcapply/v1
            kind: RedundancyPolicy
            metadata: {name: spread}
            spec: {failureDomain: rack, maxPerDomain: 1}
            ---
            apiVersion: dcapply/v1
            kind: HardwarePool
            metadata: {name: p}
            spec: {site: s1, size: {nodes: 3}, redundancy: spread}
            """)
        let site = TestSite(manifests: manifests, inventory: TestSite.gpuInventory(racks: 2, perRack: 3))
        let result = site.solve()
        #expect(result.members(of: "p").count == 2)
        #expect(result.problems.map(\.message) == ["needs 3 nodes, has 2 healthy nodes with 16 GPUs: 6 healthy nodes match its site, selector and GPU model; at most 1 per rack over 2 racks allows 2; to fix: raise maxPerDomain to 2, or add eligible nodes in 1 more rack"])
    }

    @Test func replicasRespectMaxPerDomainAndReachMinDomains() {
        let manifests = TestSite.manifests("""
            apiVersion: dcapply/v1
            kind: RedundancyPolicy
            metadata: {name: spread}
            spec: {failureDomain: rack, maxPerDomain: 2, minDomains: 3}
            ---

            """ + Self.pool + "\n---\n" + Self.workload("w", replicas: 6, gpus: 1, extra: ", redundancy: spread"))
        let site = TestSite(manifests: manifests, inventory: TestSite.gpuInventory(racks: 4, perRack: 2))
        let result = site.solve()
        var perRack: [String: Int] = [:]
        for replica in result.replicas(of: "w") { perRack[site.observed.nodes[replica.nodes[0]]!.labels["rack"]!, default: 0] += 1 }
        #expect(result.replicas(of: "w").count == 6)
        #expect(perRack.values.allSatisfy { $0 <= 2 })
        #expect(perRack.count >= 3)
    }

    @Test func gangsTakeWholeNodesInOneColocateDomain() {
        let site = TestSite(manifests: TestSite.manifests(Self.pool + "\n---\n" + Self.workload("g", replicas: 2, gpus: 16, extra: ", colocate: leaf")),
                            inventory: TestSite.gpuInventory(racks: 2, perRack: 3))
        let result = site.solve()
        let replicas = result.replicas(of: "g")
        #expect(replicas.count == 2)
        for replica in replicas {
            #expect(replica.nodes.count == 2)
            #expect(Set(replica.nodes.map { site.observed.nodes[$0]!.labels["leaf"]! }).count == 1)
        }
        #expect(Set(replicas.flatMap(\.nodes)).count == 4, "gang nodes are not shared")
    }

    @Test func rackPowerCapsBind() {
        // Each node draws 1 kW idle and 10 kW at full use; a 12 kW cap allows one busy node
        // and one idle node per rack.
        let site = TestSite(manifests: TestSite.manifests(Self.pool + "\n---\n" + Self.workload("w", replicas: 3, gpus: 8), energy: "rackPowerCapKW: 12"),
                            inventory: TestSite.gpuInventory(racks: 2, perRack: 2))
        let result = site.solve()
        #expect(result.replicas(of: "w").count == 2)
        let draws = PowerModel.draws(of: result.target, desired: site.desired, observed: site.observed)
        for rack in ["r01", "r02"] {
            let total = site.observed.nodes.values.filter { $0.labels["rack"] == rack }.reduce(0.0) { $0 + draws[$1.name]! }
            #expect(total <= 12_000)
        }
        #expect(result.problems.first?.message.contains("would push a rack over its power cap") == true)
    }

    @Test func storageTierMeetsTheProtectionRuleWithEncryptedDrivesOnly() {
        let manifests = TestSite.manifests("""
            apiVersion: dcapply/v1
            kind: RedundancyPolicy
            metadata: {name: by-rack}
            spec: {failureDomain: rack}
            ---
            apiVersion: dcapply/v1
            kind: StorageTier
            metadata: {name: hot}
            spec: {site: s1, media: nvme, usableTiB: 10, protection: {replicas: 3}, redundancy: by-rack, encryption: required}
            """)
        let drives = "[{id: a, media: nvme, capacityTiB: 8, selfEncrypting: true}, {id: b, media: nvme, capacityTiB: 8}]"
        let site = TestSite(manifests: manifests, inventory: TestSite.gpuInventory(racks: 3, perRack: 1, drives: drives))
        let result = site.solve()
        let tier = result.target.storageTiers["hot"]
        // Three racks, each needs min(c, 10) summing to 30: two 8 TiB encrypted drives per rack
        // would be needed, but only one per rack is self-encrypting.
        #expect(tier?.satisfied == false)
        #expect(tier?.drives.allSatisfy { $0.drive == "a" } == true)
        #expect(result.problems.first?.message.contains("self-encrypting nvme drives only") == true)

        var relaxed = site
        relaxed.desired.storageTiers["hot"]?.usableTiB = 8
        let satisfied = relaxed.solve().target.storageTiers["hot"]
        #expect(satisfied?.satisfied == true)
        #expect(satisfied?.drives.count == 3)
        #expect(satisfied?.rawTiB == 24)
    }

    @Test func higherPriorityIsPlacedFirstWhenShort() {
        let site = TestSite(manifests: TestSite.manifests(Self.pool + "\n---\n"
                                + Self.workload("low", replicas: 2, gpus: 8) + "\n---\n"
                                + Self.workload("high", replicas: 2, gpus: 8, extra: ", priority: 10")),
                            inventory: TestSite.gpuInventory(racks: 1, perRack: 3))
        let result = site.solve()
        #expect(result.replicas(of: "high").count == 2)
        #expect(result.replicas(of: "low").count == 1)
        #expect(result.problems.map(\.resource) == [ResourceAddress(.workload, "low")])
    }

    @Test func existingLowPriorityReplicasAreDisplacedOnlyWhenNothingElseFits() {
        var site = TestSite(manifests: TestSite.manifests(Self.pool + "\n---\n"
                                + Self.workload("low", replicas: 2, gpus: 8) + "\n---\n"
                                + Self.workload("high", replicas: 1, gpus: 8, extra: ", priority: 10")),
                            inventory: TestSite.gpuInventory(racks: 1, perRack: 4))
        let first = site.solve()
        site.desired.workloads["high"]?.replicas = 2
        let second = site.solve(current: first.target)
        #expect(second.replicas(of: "low") == first.replicas(of: "low"), "room remained, so low stays put")
        site.desired.workloads["high"]?.replicas = 3
        let third = site.solve(current: second.target)
        #expect(third.replicas(of: "high").count == 3)
        #expect(third.replicas(of: "low").count == 1)
    }

    @Test func aSolvedTargetIsAFixedPointAndDeterministic() {
        let manifests = TestSite.manifests("""
            apiVersion: dcapply/v1
            kind: RedundancyPolicy
            metadata: {name: spread}
            spec: {failureDomain: rack, maxPerDomain: 3}
            ---
            apiVersion: dcapply/v1
            kind: HardwarePool
            metadata: {name: p}
            spec: {site: s1, size: {nodes: 6}, redundancy: spread}
            ---

            """ + Self.workload("w", replicas: 7, gpus: 4, extra: ", redundancy: spread") + "\n---\n" + Self.workload("g", replicas: 1, gpus: 16),
                            energy: "rackPowerCapKW: 40, powerOffIdle: true, keepWarm: 1")
        let site = TestSite(manifests: manifests, inventory: TestSite.gpuInventory(racks: 3, perRack: 3))
        let first = site.solve()
        #expect(site.solve().target == first.target)
        let again = site.solve(current: first.target)
        #expect(again.target == first.target)
        // Once applied (power states reached), planning again changes nothing.
        var applied = site
        for (name, state) in first.target.nodes { applied.observed.nodes[name]?.powerState = state.powerState }
        #expect(applied.plan(current: first.target).changes.isEmpty)
    }

    @Test func idleHealthyNodesArePoweredOffExceptKeepWarm() {
        let site = TestSite(manifests: TestSite.manifests(Self.pool + "\n---\n" + Self.workload("w", replicas: 2, gpus: 4),
                                                          energy: "powerOffIdle: true, keepWarm: 1"),
                            inventory: TestSite.gpuInventory(racks: 2, perRack: 2))
        let result = site.solve()
        let on = result.target.nodes.filter { $0.value.powerState == .on }.keys.sorted()
        // Both 4-GPU replicas pack onto one node; one more idle node is kept warm.
        #expect(Set(result.replicas(of: "w").flatMap(\.nodes)).count == 1)
        #expect(on.count == 2)
    }

    /// Applying a target and planning again must change nothing: the observed power states
    /// become the target's, and the target becomes the current assignment.
    static func applied(_ site: TestSite, _ target: TargetState) -> TestSite {
        var applied = site
        for (name, state) in target.nodes { applied.observed.nodes[name]?.powerState = state.powerState }
        return applied
    }

    @Test func shrinkingAPoolReleasesBusyMembersWhenItMustAndSettles() {
        var site = TestSite(manifests: TestSite.manifests("""
            apiVersion: dcapply/v1
            kind: HardwarePool
            metadata: {name: p}
            spec: {site: s1, size: {nodes: 4}}
            ---

            """ + Self.workload("w", replicas: 4, gpus: 8)), inventory: TestSite.gpuInventory(racks: 1, perRack: 5))
        let first = site.solve()
        #expect(first.members(of: "p").count == 4)
        site.desired.pools["p"]?.size = .nodes(2)
        let second = site.solve(current: first.target)
        #expect(second.members(of: "p").count == 2)
        #expect(second.replicas(of: "w").count == 2)
        #expect(second.target.workloads["w"]?.unplaced == 2)
        #expect(Self.applied(site, second.target).plan(current: second.target).changes.isEmpty)
    }

    @Test func gpuSizedPoolsTakeTheLeastExcess() {
        let inventory = """
            apiVersion: dcapply/v1
            kind: Inventory
            nodes:
              - {name: big-1, labels: {rack: r1}, gpus: {model: H100, count: 8}, power: {idleW: 1, maxW: 2}}
              - {name: big-2, labels: {rack: r1}, gpus: {model: H100, count: 8}, power: {idleW: 1, maxW: 2}}
              - {name: big-3, labels: {rack: r2}, gpus: {model: H100, count: 8}, power: {idleW: 1, maxW: 2}}
              - {name: small-1, labels: {rack: r2}, gpus: {model: H100, count: 4}, power: {idleW: 1, maxW: 2}}
              - {name: small-2, labels: {rack: r2}, gpus: {model: H100, count: 4}, power: {idleW: 1, maxW: 2}}
            """
        let site = TestSite(manifests: TestSite.manifests("apiVersion: dcapply/v1\nkind: HardwarePool\nmetadata: {name: p}\nspec: {site: s1, size: {gpus: 12}}"),
                            inventory: inventory)
        #expect(site.solve().members(of: "p") == ["big-1", "small-1"])
    }

    @Test func storageTierSpansMinDomains() {
        let manifests = TestSite.manifests("""
            apiVersion: dcapply/v1
            kind: RedundancyPolicy
            metadata: {name: three-racks}
            spec: {failureDomain: rack, minDomains: 3}
            ---
            apiVersion: dcapply/v1
            kind: StorageTier
            metadata: {name: t}
            spec: {site: s1, media: nvme, usableTiB: 4, protection: {replicas: 2}, redundancy: three-racks}
            """)
        let site = TestSite(manifests: manifests, inventory: TestSite.gpuInventory(racks: 3, perRack: 1, drives: "[{id: a, media: nvme, capacityTiB: 8}]"))
        let tier = site.solve().target.storageTiers["t"]
        #expect(Set(tier?.drives.map(\.node) ?? []).count == 3, "two drives would meet the capacity rule, minDomains asks for three racks")
        #expect(tier?.satisfied == true)
    }

    @Test func aDegradedMemberKeepsItsReplicasAndIsReplacedInTheCount() {
        var site = TestSite(manifests: TestSite.manifests("""
            apiVersion: dcapply/v1
            kind: HardwarePool
            metadata: {name: p}
            spec: {site: s1, size: {nodes: 2}}
            ---

            """ + Self.workload("w", replicas: 2, gpus: 8)), inventory: TestSite.gpuInventory(racks: 1, perRack: 3))
        let first = site.solve()
        let degraded = first.members(of: "p")[0]
        site.setHealth(degraded, .degraded)
        let second = site.solve(current: first.target)
        #expect(second.members(of: "p").count == 3, "the degraded member stays while it hosts, a healthy node joins")
        #expect(second.replicas(of: "w") == first.replicas(of: "w"))
    }

    @Test func plansAreIdenticalRunAfterRunEvenWhenShort() {
        // Every key is short at once: the message must not depend on dictionary order (GPUs,
        // the usual reason, are named first).
        let site = TestSite(manifests: TestSite.manifests(Self.pool + "\n---\n"
                                + "apiVersion: dcapply/v1\nkind: Workload\nmetadata: {name: w}\nspec: {pool: p, replicas: 9, resources: {gpus: 8, cpuCores: 64, memoryGiB: 1024}}"),
                            inventory: TestSite.gpuInventory(racks: 2, perRack: 2))
        let reference = site.plan()
        for _ in 0..<20 {
            let again = site.plan()
            #expect(again.json == reference.json)
        }
        #expect(reference.problems.map(\.message) == ["5 of 9 replicas cannot be placed: of 4 nodes in HardwarePool/p, 4 lack free gpus (each replica needs 8); to fix: add about 5 nodes like g-r01-n01 to HardwarePool/p, or lower the replicas"])
    }
}
