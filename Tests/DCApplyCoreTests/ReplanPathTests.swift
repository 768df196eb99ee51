@testable import DCApplyCore
import Foundation
import Testing

/// The replan's own parts made cheaper at 50,000 nodes (docs/decisions.md 400–409): the
/// improver handed only the workloads with new replicas, and the state read by position.
struct ReplanPathTests {
    /// The stable run of a replan (keep every valid replica, then fill), as the solver makes it.
    static func stableRun(_ site: TestSite, current: TargetState) -> WorkloadPlacer {
        let solver = PortfolioPlacementSolver()
        var base = PlacementModel(desired: site.desired, observed: site.observed)
        var problems = solver.placePools(&base, current: current)
        _ = solver.placeStorage(&base, current: current, problems: &problems)
        var placer = WorkloadPlacer(model: base, current: current, keepEverythingFirst: true, explainsUnplaced: false)
        return placer.run(problems: &problems)
    }

    /// On random failures, recoveries and replica changes, the improver handed only the
    /// workloads with new replicas moves exactly what it moves when handed every workload.
    @Test(arguments: [1, 2]) func theImproverOnChangedWorkloadsAgreesWithTheWholeRun(load: Int) {
        var site = IncrementalReplanTests.site(load: load)
        var generator = IncrementalReplanTests.Steps(state: UInt64(load) * 104_729)
        var current = IncrementalReplanTests.solve(site, current: .empty, comparing: false).target
        site = PlacementTests.applied(site, current)
        let nodes = site.observed.nodes.keys.sorted()
        let names = site.desired.workloads.keys.sorted()
        var withNewReplicas = 0
        for _ in 0..<10 {
            IncrementalReplanTests.randomChange(&site, nodes: nodes, names: names, using: &generator)
            let run = Self.stableRun(site, current: current)
            let changed = PortfolioPlacementSolver.changedWorkloads(run.states, current: current)
            #expect(changed.replicas == PortfolioPlacementSolver.newReplicas(run.states, current: current))
            if changed.replicas > 0 { withNewReplicas += 1 }
            var whole = PackingImprover(model: run.model, states: run.states, current: current, workBudget: 20_000)
            let expected = whole.run()
            let part = PortfolioPlacementSolver.improveReplan(run.model, states: run.states, current: current,
                                                             nodes: nodes.count, solveTime: 0.02)
            #expect(part.states == expected.states)
            #expect(part.model.on == expected.model.on)
            #expect(part.model.used == expected.model.used)
            #expect(part.model.replicaCount == expected.model.replicaCount)
            #expect(part.model.rackDrawW == expected.model.rackDrawW)
            var settledPart = part.model, settledWhole = expected.model
            let solver = PortfolioPlacementSolver()
            _ = solver.settlePower(&settledPart)
            _ = solver.settlePower(&settledWhole)
            #expect(settledPart.on == settledWhole.on, "the same nodes on after power settles")
            current = IncrementalReplanTests.solve(site, current: current, comparing: false).target
            site = PlacementTests.applied(site, current)
        }
        #expect(withNewReplicas >= 2, "the steps gave the improver something to move")
    }

    /// A replan where nothing is new hands the improver nothing: the states come back as given.
    @Test func aReplanWithNothingNewSkipsTheImprover() {
        let site = IncrementalReplanTests.site(load: 1)
        let first = IncrementalReplanTests.solve(site, current: .empty, comparing: false).target
        let applied = PlacementTests.applied(site, first)
        let run = Self.stableRun(applied, current: first)
        let changed = PortfolioPlacementSolver.changedWorkloads(run.states, current: first)
        #expect(changed.names.isEmpty)
        #expect(changed.replicas == 0)
        let result = PortfolioPlacementSolver.improveReplan(run.model, states: run.states, current: first, nodes: 16, solveTime: nil)
        #expect(result.states == run.states)
        #expect(result.states == first.workloads)
    }

    /// Replicas moved, added and removed are counted per workload; identical ones are not.
    @Test func changedWorkloadsNamesOnlyWorkloadsWithNewReplicas() {
        let current = TargetState(workloads: [
            "a": .init(replicas: [ReplicaPlacement(index: 0, nodes: ["n1"]), ReplicaPlacement(index: 1, nodes: ["n2"])], unplaced: 0),
            "c": .init(replicas: [ReplicaPlacement(index: 0, nodes: ["n6"]), ReplicaPlacement(index: 1, nodes: ["n7"])], unplaced: 0),
            "d": .init(replicas: [ReplicaPlacement(index: 0, nodes: ["n8"])], unplaced: 0),
        ])
        let states: [String: TargetState.WorkloadState] = [
            "a": .init(replicas: [ReplicaPlacement(index: 0, nodes: ["n1"]), ReplicaPlacement(index: 1, nodes: ["n3"]), ReplicaPlacement(index: 2, nodes: ["n1"])], unplaced: 0),
            "b": .init(replicas: [ReplicaPlacement(index: 0, nodes: ["n4", "n5"])], unplaced: 0),
            "c": .init(replicas: [ReplicaPlacement(index: 0, nodes: ["n6"])], unplaced: 1),
            "d": .init(replicas: [ReplicaPlacement(index: 0, nodes: ["n8"])], unplaced: 0),
        ]
        let changed = PortfolioPlacementSolver.changedWorkloads(states, current: current)
        #expect(changed.names == ["a", "b"], "c only lost a replica, d is unchanged")
        #expect(changed.replicas == 3)
    }

    /// The state read by position, streaming: gangs keep their node order, replica indices with
    /// gaps and workloads without replicas come back exactly, and many workloads stay apart.
    @Test func theSQLiteStoreLoadsReplicasGangsAndGapsExactly() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-replan-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStateStore(path: directory.appendingPathComponent("state.db").path)
        var nodes: [String: TargetState.NodeState] = [:]
        for i in 0..<40 { nodes["n\(i)"] = .init(pool: i % 3 == 0 ? nil : "p\(i % 2)", powerState: i % 5 == 0 ? .off : .on) }
        var workloads: [String: TargetState.WorkloadState] = [
            "gang": .init(replicas: [ReplicaPlacement(index: 0, nodes: ["n9", "n1", "n5"]), ReplicaPlacement(index: 3, nodes: ["n2", "n30"])], unplaced: 1),
            "none": .init(replicas: [], unplaced: 4),
            "a-b": .init(replicas: [ReplicaPlacement(index: 2, nodes: ["n7"])], unplaced: 0),
        ]
        for w in 0..<12 {
            workloads["w\(w)"] = .init(replicas: (0..<(w % 4 + 1)).map { ReplicaPlacement(index: $0 * 2, nodes: ["n\((w + $0) % 40)"]) }, unplaced: w % 2)
        }
        let target = TargetState(nodes: nodes, workloads: workloads, storageTiers: [:], grants: ["team": ["p0"]])
        let draws = Dictionary(uniqueKeysWithValues: nodes.keys.map { ($0, Double($0.count) * 100.5) })
        _ = try store.commitApply(target: target, estimatedW: draws, powerStates: [:], record: StateStoreTests.record(), expectedSerial: 0)
        let loaded = try store.load()
        #expect(loaded.target == target)
        #expect(loaded.estimatedW == draws)
        #expect(loaded.target.workloads["gang"]?.replicas.map(\.nodes) == [["n9", "n1", "n5"], ["n2", "n30"]])
        #expect(loaded.serial == 1)
    }

    /// The observed digest built piece by piece is the digest of the lines as first written
    /// (saved plans compare it): labels, capacities, GPUs, drives and fractions included.
    @Test func theObservedDigestIsUnchanged() {
        func reference(_ observed: ObservedState) -> String {
            var text = ""
            for node in observed.sortedNodes {
                text += "\(node.name)\t\(node.site)\t\(node.health.rawValue)\t\(node.powerState.rawValue)\t\(node.power.idleW)\t\(node.power.maxW)\n"
                for (key, value) in node.labels.sorted(by: { $0.key < $1.key }) { text += "  label\t\(key)\t\(value)\n" }
                for (key, value) in node.capacity.sorted(by: { $0.key < $1.key }) { text += "  capacity\t\(key)\t\(value)\n" }
                if let gpu = node.gpu { text += "  gpu\t\(gpu.model)\t\(gpu.count)\t\(gpu.memoryGiB)\n" }
                for drive in node.drives.sorted(by: { $0.id < $1.id }) {
                    text += "  drive\t\(drive.id)\t\(drive.media.rawValue)\t\(drive.capacityTiB)\t\(drive.selfEncrypting)\n"
                }
            }
            return Digest.sha256(text)
        }
        var observed = IncrementalReplanTests.site(load: 1).observed
        #expect(observed.digest == reference(observed))
        let drives = [Drive(id: "nvme1", media: .nvme, capacityTiB: 3.84, selfEncrypting: true),
                      Drive(id: "nvme0", media: .nvme, capacityTiB: 7.5, selfEncrypting: false)]
        observed.nodes["z-cpu"] = ObservedNode(name: "z-cpu", site: "s2", labels: ["rack": "r9", "b": "ü"], gpu: nil,
                                               capacity: ["cpuCores": 64, "memoryGiB": 511.5], drives: drives,
                                               power: PowerRating(idleW: 250.25, maxW: 1e4), health: .degraded, powerState: .off)
        observed.nodes["a-gpu"] = ObservedNode(name: "a-gpu", site: "s1", labels: [:], gpu: GPUInfo(model: "H100", count: 8, memoryGiB: 80),
                                               capacity: ["gpus": 8], drives: [], power: PowerRating(idleW: 1100, maxW: 10200),
                                               health: .failed, powerState: .on)
        #expect(observed.digest == reference(observed))
        observed.nodes["a-gpu"]?.power.maxW = 10201
        #expect(observed.digest == reference(observed))
        #expect(observed.digest != reference(IncrementalReplanTests.site(load: 1).observed))
    }
}
