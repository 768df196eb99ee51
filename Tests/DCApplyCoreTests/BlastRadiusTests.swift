import DCApplyCore
import Testing

/// Issue 13: how much of what is applied a plan takes away, kind by kind.
struct BlastRadiusTests {
    static func state(members: Int, powered: Int, replicas: Int, drives: Int) -> TargetState {
        var state = TargetState()
        for i in 0..<powered { state.nodes["n\(i)"] = .init(pool: i < members ? "train" : nil, powerState: .on) }
        state.workloads["llm"] = .init(replicas: (0..<replicas).map { ReplicaPlacement(index: $0, nodes: ["n\($0)"]) }, unplaced: 0)
        state.storageTiers["scratch"] = .init(drives: (0..<drives).map { DriveAddress(node: "n\($0)", drive: "nvme0") }, rawTiB: 7.68, satisfied: true)
        return state
    }

    @Test func issue13EveryPoolMemberGoneExceedsHalfEvenAmongManyPoweredNodes() {
        let applied = Self.state(members: 20, powered: 100, replicas: 20, drives: 2)
        var target = applied
        for name in target.nodes.keys { target.nodes[name]?.pool = nil }
        target.workloads = [:]
        let radius = BlastRadius(applied: applied, target: target)
        #expect(radius.description == "20 of 20 pool members, 20 of 20 replicas, 0 of 2 drives, 0 of 100 powered nodes")
        #expect(radius.exceeds(0.5), "40 of 142 things in all, but every pool member and replica")
        #expect(!radius.exceeds(1.0))
    }

    @Test func issue13HalfOrLessIsAllowedAndNothingAppliedNeverExceeds() {
        let applied = Self.state(members: 4, powered: 6, replicas: 4, drives: 2)
        var target = applied
        target.workloads["llm"] = .init(replicas: Array(applied.workloads["llm"]?.replicas.prefix(2) ?? []), unplaced: 0)
        target.nodes["n5"]?.powerState = .off
        let half = BlastRadius(applied: applied, target: target)
        #expect(half.description == "0 of 4 pool members, 2 of 4 replicas, 0 of 2 drives, 1 of 6 powered nodes")
        #expect(!half.exceeds(0.5))
        #expect(half.exceeds(0.25))
        #expect(!BlastRadius(applied: .empty, target: .empty).exceeds(0))
        #expect(!BlastRadius(applied: .empty, target: applied).exceeds(0), "adding is never a blast")
    }

    @Test func issue13TheRefusalNamesTheCountsTheLikelyCauseAndTheWayPast() {
        let applied = Self.state(members: 4, powered: 6, replicas: 4, drives: 2)
        let radius = BlastRadius(applied: applied, target: .empty)
        let missing = BlastRadius.missingManifests(applied: applied, desired: DesiredState())
        #expect(missing.map(\.description) == ["HardwarePool/train", "StorageTier/scratch", "Workload/llm"])
        #expect(BlastRadius.refusal(radius, threshold: 0.5, missing: missing, flag: "Pass --allow-destroy.") == """
            refused: this plan takes away more than 50% of what is applied: 4 of 4 pool members, 4 of 4 replicas, 2 of 2 drives, 6 of 6 powered nodes. \
            HardwarePool/train, StorageTier/scratch, Workload/llm are no longer in the manifests: wrong path, or a file missing? Pass --allow-destroy.
            """)
    }

    @Test func issue13ReplacingFailedHardwareTakesNothingAway() {
        let applied = Self.state(members: 4, powered: 6, replicas: 4, drives: 2)
        var target = applied
        // n0 and n1 failed: n4 and n5 take their place in the pool, their replicas and drives.
        for (gone, new) in [("n0", "n4"), ("n1", "n5")] {
            target.nodes[gone] = .init(pool: nil, powerState: .on)
            target.nodes[new] = .init(pool: "train", powerState: .on)
        }
        target.workloads["llm"] = .init(replicas: [0, 1, 2, 3].map { ReplicaPlacement(index: $0, nodes: ["n\([4, 5, 2, 3][$0])"]) }, unplaced: 0)
        target.storageTiers["scratch"] = .init(drives: [DriveAddress(node: "n4", drive: "nvme0"), DriveAddress(node: "n5", drive: "nvme0")], rawTiB: 7.68, satisfied: true)
        let radius = BlastRadius(applied: applied, target: target)
        #expect(radius.description == "0 of 4 pool members, 0 of 4 replicas, 0 of 2 drives, 0 of 6 powered nodes")
        #expect(!radius.exceeds(0))
    }
}
