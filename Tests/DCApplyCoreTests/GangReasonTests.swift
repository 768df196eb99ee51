@testable import DCApplyCore
import Testing

/// Issue 13: when a gang cannot be placed, the reason names the binding constraint (free whole
/// nodes per domain, spread, rack power, pool size) with its numbers and a fix.
struct GangReasonTests {
    static func message(_ site: TestSite) -> String {
        site.solve().problems.first { $0.resource == ResourceAddress(.workload, "g") }?.message ?? "(no problem)"
    }

    static func gang(replicas: Int, extra: String = "") -> String {
        PlacementTests.pool + "\n---\n" + PlacementTests.workload("g", replicas: replicas, gpus: 16, extra: ", colocate: leaf" + extra)
    }

    @Test func issue13TooFewFreeNodesInAnyLeaf() {
        let site = TestSite(manifests: TestSite.manifests(Self.gang(replicas: 3)), inventory: TestSite.gpuInventory(racks: 2, perRack: 3))
        #expect(Self.message(site) == "1 of 3 replicas cannot be placed: of 6 nodes in HardwarePool/p, each replica needs 2 whole nodes of 8 GPUs in one leaf; the most free in any leaf is 1; to fix: add about 1 node like g-r01-n01 to HardwarePool/p in one leaf, or lower the replicas")
    }

    @Test func issue13RackPowerStopsEveryGang() {
        let site = TestSite(manifests: TestSite.manifests(Self.gang(replicas: 1), energy: "rackPowerCapKW: 12"),
                            inventory: TestSite.gpuInventory(racks: 2, perRack: 2))
        #expect(Self.message(site) == "1 of 1 replica cannot be placed: of 4 nodes in HardwarePool/p, each replica needs 2 whole nodes of 8 GPUs in one leaf; 2 leaf domains have 2 free nodes within the spread, but a gang there would push a rack over its power cap of 12.0 kW; to fix: raise rackPowerCapKW, or add nodes to HardwarePool/p in racks with power to spare")
    }

    @Test func issue13SpreadStopsTheNextGang() {
        let policy = """
            apiVersion: dcapply/v1
            kind: RedundancyPolicy
            metadata: {name: one-per-rack}
            spec: {failureDomain: rack, maxPerDomain: 1}
            ---

            """
        let site = TestSite(manifests: TestSite.manifests(policy + Self.gang(replicas: 3, extra: ", redundancy: one-per-rack")),
                            inventory: TestSite.gpuInventory(racks: 2, perRack: 4))
        #expect(Self.message(site) == "1 of 3 replicas cannot be placed: of 8 nodes in HardwarePool/p, each replica needs 2 whole nodes of 8 GPUs in one leaf; 2 leaf domains have 2 free nodes, but every rack they are in already holds 1 replica (maxPerDomain 1), so at most 0 of them can join a gang; to fix: raise maxPerDomain, or add nodes to HardwarePool/p in other racks")
    }
}
