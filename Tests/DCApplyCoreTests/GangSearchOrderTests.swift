@testable import DCApplyCore
import Testing

/// Issue 18: the gang search skips colocate domains that cannot beat the best gang so far.
/// The choice stays the scan's: the fewest nodes to power on, then the first domain by label.
struct GangSearchOrderTests {
    /// Three leaves of two 8-GPU nodes (`g-r0L-n0N` in `leafL`), the nodes in `off` powered off.
    static func site(replicas: Int, off: [String]) -> TestSite {
        let documents = PlacementTests.pool + "\n---\n" + PlacementTests.workload("g", replicas: replicas, gpus: 16, extra: ", colocate: leaf")
        var site = TestSite(manifests: TestSite.manifests(documents), inventory: TestSite.gpuInventory(racks: 3, perRack: 2))
        for name in off { site.observed.nodes[name]?.powerState = .off }
        return site
    }

    static func gangs(_ site: TestSite) -> [Set<String>] {
        site.solve().replicas(of: "g").sorted { $0.index < $1.index }.map { Set($0.nodes) }
    }

    @Test func everyLeafOnTakesTheFirstByLabel() {
        #expect(Self.gangs(Self.site(replicas: 1, off: [])) == [["g-r01-n01", "g-r01-n02"]])
    }

    @Test func everyLeafOffTakesTheFirstByLabel() {
        let off = ["g-r01-n01", "g-r01-n02", "g-r02-n01", "g-r02-n02", "g-r03-n01", "g-r03-n02"]
        #expect(Self.gangs(Self.site(replicas: 1, off: off)) == [["g-r01-n01", "g-r01-n02"]])
    }

    @Test func aLaterLeafWinsWithFewerNodesToPowerOn() {
        let off = ["g-r01-n01", "g-r01-n02", "g-r02-n01", "g-r02-n02"]
        #expect(Self.gangs(Self.site(replicas: 1, off: off)) == [["g-r03-n01", "g-r03-n02"]])
    }

    @Test func anEqualCountKeepsTheEarlierLeaf() {
        // leaf1 and leaf3 each need one node powered on, leaf2 two: leaf1 wins the tie.
        let off = ["g-r01-n01", "g-r02-n01", "g-r02-n02", "g-r03-n02"]
        #expect(Self.gangs(Self.site(replicas: 1, off: off)) == [["g-r01-n01", "g-r01-n02"]])
    }

    @Test func eachReplicaTakesTheBestLeafLeft() {
        let off = ["g-r01-n01", "g-r01-n02"]
        #expect(Self.gangs(Self.site(replicas: 3, off: off)) == [["g-r02-n01", "g-r02-n02"], ["g-r03-n01", "g-r03-n02"], ["g-r01-n01", "g-r01-n02"]])
    }
}
