@testable import DCApplyCore
import Testing

/// Issue 18: a `colocate` domain whose first-ranked free nodes break a rack cap still takes a
/// gang when other free nodes of the domain keep every rack within its cap (decision 370).
struct GangRackCapTests {
    /// Two racks of `perRack` 8-GPU nodes (`g-r0R-n0N`, 1 kW idle, 10 kW whole), all in one
    /// leaf, each rack capped at `capKW`; the nodes in `off` powered off.
    static func site(replicas: Int, perRack: Int = 2, capKW: Int, off: [String] = []) -> TestSite {
        let documents = PlacementTests.pool + "\n---\n" + PlacementTests.workload("g", replicas: replicas, gpus: 16, extra: ", colocate: leaf")
        var site = TestSite(manifests: TestSite.manifests(documents, energy: "rackPowerCapKW: \(capKW)"),
                            inventory: TestSite.gpuInventory(racks: 2, perRack: perRack))
        for name in site.observed.nodes.keys { site.observed.nodes[name]?.labels["leaf"] = "leaf1" }
        for name in off { site.observed.nodes[name]?.powerState = .off }
        return site
    }

    static func gangs(_ result: PlacementResult) -> [Set<String>] {
        result.replicas(of: "g").sorted { $0.index < $1.index }.map { Set($0.nodes) }
    }

    @Test func aGangSkipsTheNodeThatBreaksItsRackCap() {
        // The first two by name are both in r01: 10 + 10 kW over its 12 kW cap. One node of
        // each rack keeps both at 10 + 1 kW.
        let result = Self.site(replicas: 1, capKW: 12).solve()
        #expect(Self.gangs(result) == [["g-r01-n01", "g-r02-n01"]])
        #expect(result.target.workloads["g"]?.unplaced == 0)
        #expect(!result.problems.contains { $0.resource == ResourceAddress(.workload, "g") })
    }

    @Test func theNodesAlreadyOnStayFirst() {
        // r01-n01 is off: the gang takes the nodes on, r01-n02 and r02-n01, not the first by name.
        let result = Self.site(replicas: 1, capKW: 12, off: ["g-r01-n01"]).solve()
        #expect(Self.gangs(result) == [["g-r01-n02", "g-r02-n01"]])
    }

    @Test func aSetThatFitsIsStillTheFirstByName() {
        // A cap that holds two whole nodes: the first set fits and is kept.
        let result = Self.site(replicas: 1, capKW: 21).solve()
        #expect(Self.gangs(result) == [["g-r01-n01", "g-r01-n02"]])
    }

    @Test func aSecondGangTakesWhatTheCapsLeave() {
        // Three nodes a rack under 22 kW: each rack holds two whole nodes (20 + 1 kW with
        // the third idle), so two gangs fit, and a third does not.
        let result = Self.site(replicas: 3, perRack: 3, capKW: 22).solve()
        #expect(Self.gangs(result) == [["g-r01-n01", "g-r01-n02"], ["g-r02-n01", "g-r02-n02"]])
        #expect(result.target.workloads["g"]?.unplaced == 1)
    }

    @Test func aLaterLeafWhoseFirstSetFitsWinsOverASetAroundACap() {
        // leaf1 (r01-n01, r01-n02, r02-n01): its first two break r01's cap, r01-n01 and
        // r02-n01 would fit. leaf2 (r02-n02, r03-n01, r03-n02): its first set fits, and wins (decision 371).
        let documents = PlacementTests.pool + "\n---\n" + PlacementTests.workload("g", replicas: 1, gpus: 16, extra: ", colocate: leaf")
        var site = TestSite(manifests: TestSite.manifests(documents, energy: "rackPowerCapKW: 12"), inventory: TestSite.gpuInventory(racks: 3, perRack: 2))
        for name in site.observed.nodes.keys {
            site.observed.nodes[name]?.labels["leaf"] = ["g-r02-n02", "g-r03-n01", "g-r03-n02"].contains(name) ? "leaf2" : "leaf1"
        }
        #expect(Self.gangs(site.solve()) == [["g-r02-n02", "g-r03-n01"]])
    }
}
