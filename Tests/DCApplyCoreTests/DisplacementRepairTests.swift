@testable import DCApplyCore
import Testing

/// Issue 18: after a rack fails, replicas displaced without need go back (decisions 410–419).
struct DisplacementRepairTests {
    /// Racks r01–r03 of two 8-GPU nodes (1 kW idle, 10 kW full), each capped at 15 kW, idle
    /// nodes off. `hi` (priority 900) takes a whole node; `lo` (priority 100) half of one
    /// (5.5 kW): `hi` and `lo` together break a rack's cap. r01 has failed.
    static func site(energy: String = "rackPowerCapKW: 15, powerOffIdle: true") -> TestSite {
        let documents = PlacementTests.pool
            + "\n---\n" + PlacementTests.workload("hi", replicas: 1, gpus: 8, extra: ", priority: 900")
            + "\n---\n" + PlacementTests.workload("lo", replicas: 1, gpus: 4, extra: ", priority: 100")
        var site = TestSite(manifests: TestSite.manifests(documents, energy: energy),
                            inventory: TestSite.gpuInventory(racks: 3, perRack: 2))
        site.setHealth("g-r01-n01", .failed)
        site.setHealth("g-r01-n02", .failed)
        return site
    }

    /// The applied state: `hi` on r01-n01 (failed now), `lo` on r02-n01.
    static let current = TargetState(workloads: [
        "hi": .init(replicas: [ReplicaPlacement(index: 0, nodes: ["g-r01-n01"])], unplaced: 0),
        "lo": .init(replicas: [ReplicaPlacement(index: 0, nodes: ["g-r02-n01"])], unplaced: 0),
    ])

    /// The site's model with its pool placed and `placement` committed, as a solve leaves it.
    static func solved(_ site: TestSite, _ placement: [String: [String]]) -> (PlacementModel, [String: TargetState.WorkloadState]) {
        let solver = PortfolioPlacementSolver()
        var model = PlacementModel(desired: site.desired, observed: site.observed)
        _ = solver.placePools(&model, current: current)
        var states: [String: TargetState.WorkloadState] = [:]
        for (name, nodes) in placement.sorted(by: { $0.key < $1.key }) {
            let resources = site.desired.workloads[name]?.resources ?? [:]
            for node in nodes {
                guard let position = model.index[node] else { continue }
                model.setUsage(position, model.adding(resources, to: position), on: true)
                model.replicaCount[position] += 1
            }
            states[name] = .init(replicas: nodes.enumerated().map { ReplicaPlacement(index: $0.offset, nodes: [$0.element]) }, unplaced: 0)
        }
        return (model, states)
    }

    static func nodes(_ states: [String: TargetState.WorkloadState]) -> [String: [String]] {
        states.mapValues { $0.replicas.flatMap(\.nodes) }
    }

    @Test func aReplicaPushedOutByPowerGoesBackAndTheForcedOneGoesElsewhere() {
        // The priority run's choice: `hi` on r02-n02 (on, least slack), which leaves r02 no
        // power for `lo`, so `lo` moved to r03: 2 disrupted. The minimum is 1 (`hi` must
        // move; r03 has room for it and r02 keeps `lo`).
        let site = Self.site()
        let (model, states) = Self.solved(site, ["hi": ["g-r02-n02"], "lo": ["g-r03-n01"]])
        var repair = DisplacementRepair(model: model, states: states, current: Self.current, workBudget: 100_000)
        #expect(repair.disrupted == 2)
        repair.run()
        #expect(repair.restored == 1)
        #expect(repair.disrupted == 1)
        #expect(Self.nodes(repair.states) == ["hi": ["g-r03-n02"], "lo": ["g-r02-n01"]])
        // Every rack within its cap, both nodes hosting on, nothing else.
        for (rack, cap) in repair.model.rackCapW { #expect(RackCapRule.allows(projectedW: repair.model.rackDrawW[rack] ?? 0, capW: cap), "\(rack)") }
        #expect(repair.model.nodes.indices.filter { repair.model.hosts($0) }.map { repair.model.nodes[$0].name } == ["g-r02-n01", "g-r03-n02"])
    }

    @Test func nothingMovesWhenOnlyTheForcedReplicaMoved() {
        let site = Self.site()
        let (model, states) = Self.solved(site, ["hi": ["g-r03-n01"], "lo": ["g-r02-n01"]])
        var repair = DisplacementRepair(model: model, states: states, current: Self.current, workBudget: 100_000)
        repair.run()
        #expect(repair.restored == 0)
        #expect(repair.disrupted == 1)
        #expect(Self.nodes(repair.states) == ["hi": ["g-r03-n01"], "lo": ["g-r02-n01"]])
    }

    @Test func theForcedReplicaMayTakeTheRoomTheRestoredOneLeft() {
        // r03-n02 has failed too: the only node left for `hi` is r03-n01, which `lo` leaves.
        var site = Self.site()
        site.setHealth("g-r03-n02", .failed)
        let (model, states) = Self.solved(site, ["hi": ["g-r02-n02"], "lo": ["g-r03-n01"]])
        var repair = DisplacementRepair(model: model, states: states, current: Self.current, workBudget: 100_000)
        repair.run()
        #expect(repair.restored == 1)
        #expect(Self.nodes(repair.states) == ["hi": ["g-r03-n01"], "lo": ["g-r02-n01"]])
    }

    @Test func aStepThatWouldLeaveTheForcedReplicaNowhereIsNotMade() {
        // r03-n02 has failed and r03 is capped at 8 kW: `lo` (5.5 kW) fits there, `hi` (10 kW)
        // does not. Putting `lo` back would leave `hi` nowhere, so nothing changes.
        var site = Self.site(energy: "rackPowerCapKW: 15, powerOffIdle: true, racks: {r03: {powerCapKW: 8}}")
        site.setHealth("g-r03-n02", .failed)
        let (model, states) = Self.solved(site, ["hi": ["g-r02-n02"], "lo": ["g-r03-n01"]])
        var repair = DisplacementRepair(model: model, states: states, current: Self.current, workBudget: 100_000)
        repair.run()
        #expect(repair.restored == 0)
        #expect(repair.disrupted == 2)
        #expect(Self.nodes(repair.states) == ["hi": ["g-r02-n02"], "lo": ["g-r03-n01"]])
    }

    @Test func noWorkLeftMeansNoChange() {
        let site = Self.site()
        let (model, states) = Self.solved(site, ["hi": ["g-r02-n02"], "lo": ["g-r03-n01"]])
        var repair = DisplacementRepair(model: model, states: states, current: Self.current, workBudget: 0)
        repair.run()
        #expect(repair.restored == 0)
        #expect(Self.nodes(repair.states) == ["hi": ["g-r02-n02"], "lo": ["g-r03-n01"]])
    }

    @Test func aFirstPlanIsNotRepaired() {
        // No placement in the state: the solve's result is returned as it is.
        let site = Self.site()
        let (model, states) = Self.solved(site, ["hi": ["g-r02-n02"], "lo": ["g-r03-n01"]])
        let input = PlacementInput(desired: site.desired, observed: site.observed, current: .empty)
        let result = PortfolioPlacementSolver().repairDisplacement((model, states), input: input, tiers: [:])
        #expect(Self.nodes(result.states) == ["hi": ["g-r02-n02"], "lo": ["g-r03-n01"]])
    }

    @Test func theSolverPutsBackWhatItsPriorityRunDisplaced() {
        let site = Self.site()
        let (model, states) = Self.solved(site, ["hi": ["g-r02-n02"], "lo": ["g-r03-n01"]])
        let input = PlacementInput(desired: site.desired, observed: site.observed, current: Self.current)
        let result = PortfolioPlacementSolver().repairDisplacement((model, states), input: input, tiers: [:])
        #expect(Self.nodes(result.states) == ["hi": ["g-r03-n02"], "lo": ["g-r02-n01"]])
    }
}
