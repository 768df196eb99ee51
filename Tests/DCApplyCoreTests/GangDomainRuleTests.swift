@testable import DCApplyCore
import Testing

/// The rule added through the kernel (decisions.md #116): a gang's nodes must each be in a
/// domain of its `colocate` key. Placing a new gang always required it; keeping one did not.
struct GangDomainRuleTests {
    static func site() -> TestSite {
        var site = TestSite(manifests: TestSite.manifests(PlacementTests.pool + "\n---\n"
                                + PlacementTests.workload("g", replicas: 1, gpus: 16, extra: ", colocate: leaf")),
                            inventory: TestSite.gpuInventory(racks: 2, perRack: 2))
        // Rack 1's nodes lose their leaf label: they are in no leaf domain.
        for node in ["g-r01-n01", "g-r01-n02"] { site.observed.nodes[node]?.labels["leaf"] = nil }
        return site
    }

    @Test func aNodeWithoutTheColocateLabelIsInNoDomain() {
        let site = Self.site()
        let model = PlacementModel(desired: site.desired, observed: site.observed)
        let index = model.index
        let unlabelled = ["g-r01-n01", "g-r01-n02"].compactMap { index[$0] }
        let labelled = ["g-r02-n01", "g-r02-n02"].compactMap { index[$0] }
        #expect(unlabelled.count == 2 && labelled.count == 2)
        #expect(!GangRule.colocated(unlabelled, colocate: "leaf", model: model))
        #expect(GangRule.colocated(labelled, colocate: "leaf", model: model))
        #expect(GangRule.colocated(unlabelled, colocate: nil, model: model))
        #expect(!GangRule.colocated([unlabelled[0], labelled[0]], colocate: "leaf", model: model))
    }

    @Test func aGangOnNodesOutsideEveryColocateDomainIsNotKept() {
        let site = Self.site()
        let current = TargetState(workloads: ["g": .init(replicas: [ReplicaPlacement(index: 0, nodes: ["g-r01-n01", "g-r01-n02"])], unplaced: 0)])
        let result = site.solve(current: current)
        #expect(result.replicas(of: "g") == [ReplicaPlacement(index: 0, nodes: ["g-r02-n01", "g-r02-n02"])])
        // A new gang goes to the labelled nodes too, as it always did.
        #expect(site.solve().replicas(of: "g") == [ReplicaPlacement(index: 0, nodes: ["g-r02-n01", "g-r02-n02"])])
    }
}
