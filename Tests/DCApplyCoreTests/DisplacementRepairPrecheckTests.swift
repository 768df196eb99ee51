@testable import DCApplyCore
import Testing

/// Decision 431: the solver asks ``DisplacementRepair/mayRestore`` before building the repair.
struct DisplacementRepairPrecheckTests {
    @Test func aReplicaThatLeftAHealthyNodeIsACandidate() {
        let site = DisplacementRepairTests.site()
        let (model, states) = DisplacementRepairTests.solved(site, ["hi": ["g-r02-n02"], "lo": ["g-r03-n01"]])
        #expect(DisplacementRepair.mayRestore(model: model, states: states, current: DisplacementRepairTests.current))
    }

    @Test func onlyTheReplicaOfAFailedNodeMovedMeansNothingToRestore() {
        let site = DisplacementRepairTests.site()
        let (model, states) = DisplacementRepairTests.solved(site, ["hi": ["g-r03-n01"], "lo": ["g-r02-n01"]])
        #expect(!DisplacementRepair.mayRestore(model: model, states: states, current: DisplacementRepairTests.current))
        // As the repair itself finds.
        var repair = DisplacementRepair(model: model, states: states, current: DisplacementRepairTests.current, workBudget: 100_000)
        repair.run()
        #expect(repair.restored == 0)
    }

    @Test func nothingMovedMeansNothingToRestore() {
        var site = DisplacementRepairTests.site()
        site.setHealth("g-r01-n01", .healthy)
        let (model, states) = DisplacementRepairTests.solved(site, ["hi": ["g-r01-n01"], "lo": ["g-r02-n01"]])
        #expect(!DisplacementRepair.mayRestore(model: model, states: states, current: DisplacementRepairTests.current))
    }

    @Test func aReplicaNoLongerAskedForIsNoCandidate() {
        let site = DisplacementRepairTests.site()
        let (model, states) = DisplacementRepairTests.solved(site, ["hi": ["g-r03-n01"], "lo": ["g-r03-n02"]])
        let current = TargetState(workloads: [
            "hi": .init(replicas: [ReplicaPlacement(index: 0, nodes: ["g-r01-n01"])], unplaced: 0),
            "lo": .init(replicas: [ReplicaPlacement(index: 0, nodes: ["g-r02-n01"]), ReplicaPlacement(index: 5, nodes: ["g-r02-n02"])], unplaced: 0),
        ])
        // `lo` index 0 left healthy r02-n01: a candidate; index 5 (beyond `replicas`) alone is not.
        #expect(DisplacementRepair.mayRestore(model: model, states: states, current: current))
        let (model2, states2) = DisplacementRepairTests.solved(site, ["hi": ["g-r03-n01"], "lo": ["g-r02-n01"]])
        #expect(!DisplacementRepair.mayRestore(model: model2, states: states2, current: current))
    }
}
