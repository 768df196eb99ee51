@testable import DCApplyCore
import Testing

/// The placement kernel: each hard rule's comparison, the draw formula on every layout, and the
/// gate that hands a strategy only the problems whose rules it honours.
struct PlacementKernelTests {
    // MARK: Rules

    @Test func capacityAllowsARoundingErrorAndNothingMore() {
        // 0.1 + 0.2 is 0.30000000000000004: a sum that should equal the capacity fits.
        #expect(0.1 + 0.2 > 0.3)
        #expect(CapacityRule.fits(0.1 + 0.2, capacity: 0.3))
        #expect(CapacityRule.fits(8, capacity: 8))
        #expect(CapacityRule.fits(8 + Tolerance.capacity / 2, capacity: 8))
        #expect(!CapacityRule.fits(8 + Tolerance.capacity * 4, capacity: 8))
        #expect(!CapacityRule.fits(9, capacity: 8))
    }

    @Test func rackCapAllowsAMicrowattAndNothingMore() {
        #expect(RackCapRule.allows(projectedW: 12_000, capW: 12_000))
        #expect(RackCapRule.allows(projectedW: 12_000 + Tolerance.power / 2, capW: 12_000))
        #expect(!RackCapRule.allows(projectedW: 12_000 + Tolerance.power * 4, capW: 12_000))
    }

    @Test func spreadAllowsOneMoreBelowTheLimitOnly() {
        #expect(SpreadRule.allows(placed: 0, limit: 1))
        #expect(!SpreadRule.allows(placed: 1, limit: 1))
        #expect(SpreadRule.allows(placed: 5, limit: .max))
    }

    @Test func healthTakesNewOnHealthyAndKeepsUnlessFailed() {
        #expect(Health.allCases.filter(HealthRule.takesNew) == [.healthy])
        #expect(Health.allCases.filter(HealthRule.keeps) == [.healthy, .degraded])
    }

    @Test func encryptionRequiredTakesSelfEncryptingDrivesOnly() throws {
        let site = TestSite(manifests: TestSite.manifests("""
            apiVersion: dcapply/v1
            kind: StorageTier
            metadata: {name: t}
            spec: {site: s1, media: nvme, usableTiB: 1, protection: {replicas: 1}, encryption: required}
            """), inventory: TestSite.gpuInventory(racks: 1, perRack: 1))
        let tier = try #require(site.desired.storageTiers["t"])
        let plain = Drive(id: "d0", media: .nvme, capacityTiB: 1, selfEncrypting: false)
        let sed = Drive(id: "d1", media: .nvme, capacityTiB: 1, selfEncrypting: true)
        #expect(!EncryptionRule.allows(plain, for: tier))
        #expect(EncryptionRule.allows(sed, for: tier))
    }

    @Test func aGangTakesCeilOfGPUsOverNodeGPUs() {
        #expect(GangRule.size(gpusPerReplica: 8, gpusPerNode: 8) == 1)
        #expect(GangRule.size(gpusPerReplica: 12, gpusPerNode: 8) == 2)
        #expect(GangRule.size(gpusPerReplica: 16, gpusPerNode: 8) == 2)
        #expect(GangRule.size(gpusPerReplica: 17, gpusPerNode: 8) == 3)
        #expect(GangRule.size(gpusPerReplica: 4, gpusPerNode: 0) == 1)
    }

    // MARK: The draw formula

    static func node(gpus: Double?, capacity: ResourceMap) -> ObservedNode {
        var capacity = capacity
        if let gpus { capacity["gpus"] = gpus }
        return ObservedNode(name: "n", site: "s1", labels: [:], gpu: gpus.map { GPUInfo(model: "H100", count: Int($0), memoryGiB: 80) },
                            capacity: capacity, drives: [], power: PowerRating(idleW: 1000, maxW: 10000), health: .healthy, powerState: .on)
    }

    @Test func theDrawFollowsGPUsWhenANodeHasThemAndTheLargestShareOtherwise() {
        let gpu = Self.node(gpus: 8, capacity: ["cpuCores": 64])
        #expect(PowerModel.estimatedW(gpu, used: ["gpus": 4, "cpuCores": 64], on: true) == 5500)
        #expect(PowerModel.estimatedW(gpu, used: ["gpus": 4], on: false) == 0)
        let cpu = Self.node(gpus: nil, capacity: ["cpuCores": 64, "memoryGiB": 512])
        #expect(PowerModel.estimatedW(cpu, used: ["cpuCores": 16, "memoryGiB": 256], on: true) == 5500)
        #expect(PowerModel.estimatedW(cpu, used: ["cpuCores": 128], on: true) == 10000)
    }

    /// The dense mirrors of the kernel give the contract's estimate bit for bit.
    @Test func theDenseDrawIsTheContractsBitForBit() {
        let site = TestSite(manifests: TestSite.manifests(PlacementTests.pool + "\n---\n" + PlacementTests.workload("w", replicas: 1, gpus: 3)),
                            inventory: TestSite.gpuInventory(racks: 1, perRack: 1))
        var model = PlacementModel(desired: site.desired, observed: site.observed)
        let demand = model.denseDemand(["gpus": 3, "cpuCores": 8])
        for step in 1...2 {
            let after = model.adding(["gpus": 3, "cpuCores": 8], to: 0)
            #expect(model.drawW(0, adding: demand) == PowerModel.estimatedW(model.nodes[0], used: after, on: true), "step \(step)")
            model.setUsage(0, after, on: true)
        }
        #expect(model.drawW(0) == PowerModel.estimatedW(model.nodes[0], used: ["gpus": 6, "cpuCores": 16], on: true))
    }

    // MARK: Spread

    @Test func domainSpreadCountsAddsAndRemovesPerDomain() {
        let site = TestSite(manifests: TestSite.manifests("""
            apiVersion: dcapply/v1
            kind: RedundancyPolicy
            metadata: {name: spread}
            spec: {failureDomain: rack, maxPerDomain: 2}
            """), inventory: TestSite.gpuInventory(racks: 2, perRack: 2))
        let model = PlacementModel(desired: site.desired, observed: site.observed)
        var spread = DomainSpread(site.desired.redundancyPolicies["spread"], model: model)
        // Nodes in name order: g-r01-n01, g-r01-n02 (rack 1), g-r02-n01, g-r02-n02 (rack 2).
        spread.add(node: 0)
        spread.add(node: 1)
        #expect(spread.used == 1)
        #expect(!spread.allows(node: 0))
        #expect(spread.allows(node: 0, leaving: 1))
        #expect(spread.allows(node: 2))
        spread.remove(node: 1)
        #expect(spread.allows(node: 1))
        spread.remove(node: 0)
        #expect(spread.used == 0)
        let none = DomainSpread(nil, model: model)
        #expect(!none.spreads && none.allows(node: 0) && none.domains([0, 1]).isEmpty)
    }

    // MARK: The gate

    @Test func eachStrategyHonoursCapacityAndOnlyTheFullOnesHonourCapsAndSpread() {
        for rules in [WorkloadPlacer.honours, PackingImprover.honours, VectorPackingSearch.honours, PairPacking.honours] {
            #expect(rules.admits([.capacity, .poolExclusivity, .health]))
        }
        #expect(WorkloadPlacer.honours.admits([.capacity, .spread, .gangs, .rackCaps]))
        #expect(PackingImprover.honours.admits([.capacity, .spread, .rackCaps]))
        #expect(!PackingImprover.honours.admits([.gangs]))
        #expect(!VectorPackingSearch.honours.admits([.capacity, .rackCaps]))
        #expect(!PairPacking.honours.admits([.capacity, .spread]))
        #expect(TierPlacer.honours.admits([.encryption, .protection, .spread]))
        #expect(PlacementRules.all.admits(WorkloadPlacer.honours.union(TierPlacer.honours)))
        #expect("\(VectorPackingSearch.honours)" == "[capacity, poolExclusivity, health]")
    }

    /// The improver after a greedy placement of `workloads` on two racks of two nodes.
    static func improver(_ workloads: String, energy: String) -> PackingImprover {
        let site = TestSite(manifests: TestSite.manifests("""
            apiVersion: dcapply/v1
            kind: RedundancyPolicy
            metadata: {name: spread}
            spec: {failureDomain: rack, maxPerDomain: 2}
            ---

            """ + PlacementTests.pool + "\n---\n" + workloads, energy: energy),
                            inventory: TestSite.gpuInventory(racks: 2, perRack: 2))
        var model = PlacementModel(desired: site.desired, observed: site.observed)
        _ = PortfolioPlacementSolver().placePools(&model, current: .empty)
        var placer = WorkloadPlacer(model: model, current: .empty)
        var problems: [Problem] = []
        let placed = placer.run(problems: &problems)
        #expect(problems.isEmpty)
        return PackingImprover(model: placed.model, states: placed.states, current: .empty, workBudget: 1_000_000)
    }

    @Test func aStrategyWithoutRackCapsIsRefusedAPoolWhereACapCanBind() {
        // Three 2-GPU replicas on one node draw 7.75 kW; the node at full draw, 10 kW, would
        // pass a 9 kW cap: the cap can bind.
        let capped = Self.improver(PlacementTests.workload("w", replicas: 3, gpus: 2), energy: "rackPowerCapKW: 9, powerOffIdle: true")
        #expect(capped.poolPacking("p", for: VectorPackingSearch.honours) == nil)
        #expect(capped.poolPacking("p", for: PairPacking.honours) == nil)
        #expect(capped.poolPacking("p", for: PackingImprover.honours)?.movers.count == 3)
        let roomy = Self.improver(PlacementTests.workload("w", replicas: 3, gpus: 2), energy: "rackPowerCapKW: 20, powerOffIdle: true")
        #expect(roomy.poolPacking("p", for: VectorPackingSearch.honours)?.movers.count == 3)
    }

    @Test func replicasThatSpreadStayPutForAStrategyWithoutSpread() {
        let improver = Self.improver(PlacementTests.workload("w", replicas: 3, gpus: 2, extra: ", redundancy: spread"), energy: "powerOffIdle: true")
        let blind = improver.poolPacking("p", for: VectorPackingSearch.honours)
        #expect(blind?.movers.isEmpty == true)
        #expect(blind?.pure == false)
        #expect(improver.poolPacking("p", for: PackingImprover.honours)?.movers.count == 3)
    }

    // MARK: Every strategy within every rule

    /// After the whole portfolio (greedy, re-packing, pairing, closing, search) on sites that
    /// power idle nodes off: per node capacity, per rack spread and per rack cap all hold.
    @Test(arguments: [(4, 2, "rackPowerCapKW: 25, powerOffIdle: true"), (6, 2, "powerOffIdle: true"), (9, 3, "rackPowerCapKW: 40, powerOffIdle: true")])
    func thePortfolioKeepsCapacitySpreadAndCaps(replicas: Int, maxPerRack: Int, energy: String) {
        let manifests = TestSite.manifests("""
            apiVersion: dcapply/v1
            kind: RedundancyPolicy
            metadata: {name: spread}
            spec: {failureDomain: rack, maxPerDomain: \(maxPerRack)}
            ---

            """ + PlacementTests.pool + "\n---\n" + PlacementTests.workload("s", replicas: replicas, gpus: 3, extra: ", redundancy: spread")
            + "\n---\n" + PlacementTests.workload("f", replicas: replicas, gpus: 2), energy: energy)
        let site = TestSite(manifests: manifests, inventory: TestSite.gpuInventory(racks: 3, perRack: 3))
        let result = site.solve()
        #expect(result.replicas(of: "s").count + result.replicas(of: "f").count > 0)
        for node in site.observed.nodes.keys { #expect(result.gpusUsed(on: node, site: site) <= 8, "\(node)") }
        var perRack: [String: Int] = [:]
        for replica in result.replicas(of: "s") { for node in replica.nodes { perRack[site.observed.nodes[node]?.labels["rack"] ?? "", default: 0] += 1 } }
        #expect(perRack.values.allSatisfy { $0 <= maxPerRack }, "\(perRack)")
        let draws = PowerModel.draws(of: result.target, desired: site.desired, observed: site.observed)
        var rackDraw: [String: Double] = [:]
        for (node, watts) in draws { rackDraw[site.observed.nodes[node]?.labels["rack"] ?? "", default: 0] += watts }
        if let cap = site.desired.energyPolicy(site: "s1")?.rackPowerCapKW {
            #expect(rackDraw.values.allSatisfy { $0 <= cap * 1000 + Tolerance.power }, "\(rackDraw)")
        }
        #expect(!result.problems.contains { $0.severity == .error && $0.message.contains("power cap") })
    }
}
