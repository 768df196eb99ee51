@testable import DCApplyCore
import Testing

/// Replanning a state that already holds a placement: when the stable run (keep every valid
/// replica, then fill) places everything, the solver does not make the priority run, whose
/// result could not win (docs/decisions.md 310). These tests check that the shortcut changes
/// no plan, on random small changes, and what a replan after a failure keeps.
struct IncrementalReplanTests {
    /// A small deterministic generator (SplitMix64): the same steps on every run.
    struct Steps: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// One random change: a node fails, a node recovers, or a workload's replicas move by up
    /// to two (at least one left).
    static func randomChange(_ site: inout TestSite, nodes: [String], names: [String], using generator: inout Steps) {
        switch Int.random(in: 0..<3, using: &generator) {
        case 0:
            if let node = nodes.randomElement(using: &generator) { site.setHealth(node, .failed) }
        case 1:
            if let node = nodes.randomElement(using: &generator) { site.setHealth(node, .healthy) }
        default:
            if let name = names.randomElement(using: &generator), let replicas = site.desired.workloads[name]?.replicas {
                site.desired.workloads[name]?.replicas = max(1, replicas + Int.random(in: -2...2, using: &generator))
            }
        }
    }

    static func site(load: Int) -> TestSite {
        func workload(_ name: String, replicas: Int, gpus: Int, extra: String = "") -> String {
            "apiVersion: dcapply/v1\nkind: Workload\nmetadata: {name: \(name)}\nspec: {pool: p, replicas: \(replicas), resources: {gpus: \(gpus), cpuCores: 8}\(extra)}"
        }
        let documents = """
            apiVersion: dcapply/v1
            kind: RedundancyPolicy
            metadata: {name: spread}
            spec: {failureDomain: rack, maxPerDomain: 3}
            ---
            apiVersion: dcapply/v1
            kind: HardwarePool
            metadata: {name: p}
            spec: {site: s1}
            ---

            """ + [
                workload("serve", replicas: 2 * load, gpus: 2, extra: ", redundancy: spread, priority: 20"),
                workload("batch", replicas: 3 * load, gpus: 4),
                workload("tiny", replicas: 4 * load, gpus: 1, extra: ", priority: 5"),
                workload("gang", replicas: load, gpus: 16, extra: ", colocate: leaf, priority: 10"),
            ].joined(separator: "\n---\n")
        return TestSite(manifests: TestSite.manifests(documents, energy: "rackPowerCapKW: 45, powerOffIdle: true, keepWarm: 1"),
                        inventory: TestSite.gpuInventory(racks: 4, perRack: 4, extra: ""))
    }

    static func solve(_ site: TestSite, current: TargetState, comparing: Bool) -> PlacementResult {
        var solver = PortfolioPlacementSolver(solveTime: 0.02)
        solver.comparesBothCandidates = comparing
        return solver.solve(PlacementInput(desired: site.desired, observed: site.observed, current: current))
    }

    @Test func placesEverythingOnlyWhenNoReplicaIsMissing() {
        let site = Self.site(load: 1)
        let result = Self.solve(site, current: .empty, comparing: false)
        #expect(result.target.workloads.values.allSatisfy { $0.unplaced == 0 })
        #expect(PortfolioPlacementSolver.placesEverything(result.target.workloads, desired: site.desired))
        var short = result.target.workloads
        short["batch"]?.unplaced = 1
        #expect(!PortfolioPlacementSolver.placesEverything(short, desired: site.desired))
        var missing = result.target.workloads
        missing["serve"]?.replicas.removeLast()
        #expect(!PortfolioPlacementSolver.placesEverything(missing, desired: site.desired), "a replica neither placed nor counted")
        missing = result.target.workloads
        missing["tiny"] = nil
        #expect(!PortfolioPlacementSolver.placesEverything(missing, desired: site.desired), "a workload with no state")
    }

    /// Random node failures, recoveries and replica changes on a site where demand mostly fits
    /// and on one that is short: the plan with the shortcut is the plan without it, every time.
    @Test(arguments: [1, 3]) func theShortcutChangesNoPlan(load: Int) {
        var site = Self.site(load: load)
        var generator = Steps(state: UInt64(load) * 7919)
        var current = Self.solve(site, current: .empty, comparing: false).target
        site = PlacementTests.applied(site, current)
        let nodes = site.observed.nodes.keys.sorted()
        let names = site.desired.workloads.keys.sorted()
        var shortcuts = 0
        for _ in 0..<12 {
            Self.randomChange(&site, nodes: nodes, names: names, using: &generator)
            let fast = Self.solve(site, current: current, comparing: false)
            let both = Self.solve(site, current: current, comparing: true)
            #expect(fast.target == both.target)
            #expect(fast.problems == both.problems)
            if PortfolioPlacementSolver.placesEverything(fast.target.workloads, desired: site.desired) { shortcuts += 1 }
            current = fast.target
            site = PlacementTests.applied(site, current)
            // Applied, the plan is a fixed point.
            #expect(Self.solve(site, current: current, comparing: false).target == current)
        }
        if load == 1 { #expect(shortcuts > 0, "the shortcut was taken on the roomy site") }
    }

    @Test func aNodeFailureWhereDemandFitsMovesOnlyItsReplicas() {
        var site = Self.site(load: 1)
        let first = Self.solve(site, current: .empty, comparing: false).target
        site = PlacementTests.applied(site, first)
        let busy = first.workloads["batch"]?.replicas.first?.nodes.first ?? ""
        site.setHealth(busy, .failed)
        let second = Self.solve(site, current: first, comparing: false).target
        for (name, state) in first.workloads {
            for replica in state.replicas {
                let after = second.workloads[name]?.replicas.first { $0.index == replica.index }
                if replica.nodes.contains(busy) {
                    #expect(after.map { !$0.nodes.contains(busy) } ?? false, "\(name)[\(replica.index)] leaves the failed node")
                } else {
                    #expect(after == replica, "\(name)[\(replica.index)] stays")
                }
            }
        }
        #expect(second.workloads.values.allSatisfy { $0.unplaced == 0 })
    }
}

extension IncrementalReplanTests {
    @Test func aReplanBudgetGrowsWithTheNewReplicasNotTheSite() {
        #expect(PortfolioPlacementSolver.defaultSolveTime(nodes: 20_000) == 3.2)
        #expect(PortfolioPlacementSolver.defaultSolveTime(nodes: 20_000, newReplicas: 0) == 0.5)
        #expect(PortfolioPlacementSolver.defaultSolveTime(nodes: 20_000, newReplicas: 150) == 1.5)
        #expect(PortfolioPlacementSolver.defaultSolveTime(nodes: 20_000, newReplicas: 30_000) == 3.2)
        #expect(PortfolioPlacementSolver.defaultSolveTime(nodes: 30, newReplicas: 150) == 0.7, "never above the site's default")
        let current = TargetState(workloads: [
            "a": .init(replicas: [ReplicaPlacement(index: 0, nodes: ["n1"]), ReplicaPlacement(index: 1, nodes: ["n2"])], unplaced: 0),
        ])
        let states: [String: TargetState.WorkloadState] = [
            "a": .init(replicas: [ReplicaPlacement(index: 0, nodes: ["n1"]), ReplicaPlacement(index: 1, nodes: ["n3"]), ReplicaPlacement(index: 2, nodes: ["n1"])], unplaced: 0),
            "b": .init(replicas: [ReplicaPlacement(index: 0, nodes: ["n4", "n5"])], unplaced: 0),
        ]
        // a[1] moved, a[2] and b[0] are new; a[0] stays.
        #expect(PortfolioPlacementSolver.newReplicas(states, current: current) == 3)
    }
}
