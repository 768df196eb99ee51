import DCApplySlurm
import Foundation
import Testing

struct SlurmReconciliationTests {
    static let nodes = (1...8).map { "gpu-r01-n0\($0)" }

    static func observed(partitions: [SlurmPartition] = [], reservations: [SlurmReservation] = [], node: (SlurmNode) -> SlurmNode = { $0 }) -> SlurmObservation {
        var observation = SlurmObservation()
        for name in nodes { observation.nodes[name] = node(SlurmNode(name: name, state: "idle", availableFeatures: ["gpu"], activeFeatures: ["gpu"])) }
        for partition in partitions { observation.partitions[partition.name] = partition }
        for reservation in reservations { observation.reservations[reservation.name] = reservation }
        return observation
    }

    static let target = SlurmTarget(
        partitions: ["a": Set(nodes[0..<4]), "b": Set(nodes[4..<8])],
        reservations: ["llama": .init(nodes: [nodes[0], nodes[1]], accounts: ["ml"])])

    @Test func firstApplyMakesOneCallPerPoolAndWorkload() {
        let plan = SlurmReconciliation(target: Self.target, observed: Self.observed(), owned: SlurmOwnership())
        #expect(plan.commands.map(\.commandLine) == [
            "scontrol create PartitionName=a Nodes=gpu-r01-n[01-04] State=UP",
            "scontrol create PartitionName=b Nodes=gpu-r01-n[05-08] State=UP",
            "scontrol create ReservationName=llama Nodes=gpu-r01-n[01-02] StartTime=now Duration=infinite Accounts=ml Flags=OVERLAP",
        ])
        #expect(plan.problems.isEmpty && plan.drift.isEmpty)
    }

    @Test func appliedTargetNeedsNothing() {
        let owned = SlurmOwnership(partitions: Self.target.partitions, reservations: ["llama": .init(nodes: [Self.nodes[0], Self.nodes[1]], accounts: ["ml"])])
        let observed = Self.observed(partitions: [SlurmPartition(name: "a", nodes: Set(Self.nodes[0..<4])), SlurmPartition(name: "b", nodes: Set(Self.nodes[4..<8]))],
                                     reservations: [SlurmReservation(name: "llama", nodes: [Self.nodes[0], Self.nodes[1]], accounts: ["ml"], endTime: Date().addingTimeInterval(300 * 86_400))])
        let plan = SlurmReconciliation(target: Self.target, observed: observed, owned: owned)
        #expect(plan.commands.isEmpty && plan.drift.isEmpty && plan.problems.isEmpty)
    }

    @Test func aSameNameObjectDcapplyDidNotCreateIsAProblemAndUntouched() {
        let observed = Self.observed(reservations: [SlurmReservation(name: "llama", nodes: [Self.nodes[7]], users: ["root"])])
        let plan = SlurmReconciliation(target: Self.target, observed: observed, owned: SlurmOwnership())
        #expect(!plan.commands.contains { $0.arguments.contains("ReservationName=llama") })
        #expect(plan.problems == ["reservation llama exists in Slurm but dcapply did not create it: dcapply leaves it alone; rename the workload, set the actuator's prefix, or remove the reservation"])
    }

    @Test func aManagedPartitionDeletedByHandIsDriftAndRecreated() {
        let owned = SlurmOwnership(partitions: ["a": Set(Self.nodes[0..<4])])
        let target = SlurmTarget(partitions: ["a": Set(Self.nodes[0..<4])])
        let plan = SlurmReconciliation(target: target, observed: Self.observed(), owned: owned)
        #expect(plan.drift.map(\.description) == ["partition a: deleted outside dcapply"])
        #expect(plan.commands == [.createPartition(name: "a", nodes: Set(Self.nodes[0..<4]))])
    }

    @Test func aPoolThatGoesDeletesOnlyItsOwnPartition() {
        let owned = SlurmOwnership(partitions: ["old": [Self.nodes[0]]])
        let observed = Self.observed(partitions: [SlurmPartition(name: "old", nodes: [Self.nodes[0]]), SlurmPartition(name: "batch", nodes: Set(Self.nodes))])
        let plan = SlurmReconciliation(target: SlurmTarget(), observed: observed, owned: owned)
        #expect(plan.commands == [.deletePartition(name: "old")])
    }

    @Test func holdsBrokenNodesInOneCallPerReasonAndNeverResumesWhatAPersonDrained() {
        let target = SlurmTarget(holds: [Self.nodes[0]: .down(reason: "dcapply: failed"), Self.nodes[1]: .down(reason: "dcapply: failed"),
                                         Self.nodes[2]: .drain(reason: "dcapply: degraded"), Self.nodes[3]: .down(reason: "dcapply: failed")])
        let observed = Self.observed { node in
            var node = node
            switch node.name {
            case Self.nodes[3]: node.flags = ["DRAIN"]; node.reason = "rma ticket 12"  // a person's: untouched
            case Self.nodes[4]: node.state = "down"; node.reason = "dcapply: failed"      // healed: resumed
            case Self.nodes[5]: node.flags = ["DRAIN"]; node.reason = "bios update"       // a person's: never resumed
            default: break
            }
            return node
        }
        let plan = SlurmReconciliation(target: target, observed: observed, owned: SlurmOwnership())
        #expect(plan.commands.map(\.commandLine) == [
            "scontrol update NodeName=gpu-r01-n03 State=DRAIN Reason=\"dcapply: degraded\"",
            "scontrol update NodeName=gpu-r01-n[01-02] State=DOWN Reason=\"dcapply: failed\"",
            "scontrol update NodeName=gpu-r01-n05 State=RESUME",
        ])
    }

    @Test func mirrorsLabelsIntoFeaturesKeepingForeignOnes() {
        let target = SlurmTarget(features: [Self.nodes[0]: ["rack:r01"], Self.nodes[1]: ["rack:r01"], Self.nodes[2]: ["rack:r01"]], featureKeys: ["rack"])
        let observed = Self.observed { node in
            var node = node
            if node.name == Self.nodes[2] { node.availableFeatures = ["gpu", "rack:r01"]; node.activeFeatures = ["gpu", "rack:r01"] }
            if node.name == Self.nodes[1] { node.availableFeatures = ["gpu", "rack:r09"]; node.activeFeatures = ["gpu", "rack:r09"] }
            return node
        }
        let plan = SlurmReconciliation(target: target, observed: observed, owned: SlurmOwnership())
        #expect(plan.commands.map(\.commandLine) == ["scontrol update NodeName=gpu-r01-n[01-02] AvailableFeatures=gpu,rack:r01 ActiveFeatures=gpu,rack:r01"])
    }

    @Test func extendsAReservationNearItsYearEnd() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let owned = SlurmOwnership(reservations: ["llama": .init(nodes: [Self.nodes[0], Self.nodes[1]], accounts: ["ml"])])
        let observed = Self.observed(reservations: [SlurmReservation(name: "llama", nodes: [Self.nodes[0], Self.nodes[1]], accounts: ["ml"], endTime: now.addingTimeInterval(86_400))])
        let plan = SlurmReconciliation(target: SlurmTarget(reservations: Self.target.reservations), observed: observed, owned: owned, now: now)
        #expect(plan.commands == [.extendReservation(name: "llama", endTime: now.addingTimeInterval(365 * 86_400))])
    }
}
