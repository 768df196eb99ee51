import Dispatch

/// The improver's orchestration: which strategy runs when, on which problem the kernel admits
/// for it (``PlacementRules``), and on what budget.
extension PackingImprover {
    /// Improves the packing: re-packs, closing nodes one at a time, the packing search.
    mutating func run() -> (model: PlacementModel, states: [String: TargetState.WorkloadState]) {
        guard !items.isEmpty else { return (model, states) }
        // Several decreasing orders (sum, max, sum of squares of the normalised sizes): the
        // best start for the search below.
        let measures: [([Double], [Double]) -> Double] = [
            { d, r in zip(d, r).reduce(0) { $0 + $1.0 / max($1.1, Tolerance.smallestScale) } },
            { d, r in zip(d, r).reduce(0) { max($0, $1.0 / max($1.1, Tolerance.smallestScale)) } },
            { d, r in zip(d, r).reduce(0) { let x = $1.0 / max($1.1, Tolerance.smallestScale); return $0 + x * x } },
        ]
        for measure in measures where workBudget > 0 && openBins() > lowerBound() {
            repack(order: decreasing(by: measure))
        }
        if workBudget > 0 && openBins() > lowerBound() { binCentricRepack() }
        // Where a maximum matching is the optimum, nothing more can be gained.
        if pairPools() {
            writeBack()
            return (model, states)
        }
        // Closing nodes one at a time first, on a third of the budget (it is quick where many
        // replicas share a node), then the packing search on what is left, then closing again.
        let total = workBudget
        workBudget = total / 3
        closeNodes()
        workBudget += total - total / 3
        if workBudget > 0 && openBins() > lowerBound() { searchPools() }
        closeNodes()
        writeBack()
        return (model, states)
    }

    /// Closes nodes while it can, those holding the least first; a node that cannot be
    /// closed is tried again once the landscape has changed.
    mutating func closeNodes() {
        var failed = Set<Int>()
        var round = 0
        while workBudget > 0 && openBins() > lowerBound() {
            var candidates = bins.indices.filter { bins[$0].open && !bins[$0].pinned && !failed.contains($0) && !bins[$0].items.isEmpty }
            if candidates.isEmpty && !failed.isEmpty && round < 1000 {
                // Every node failed once: try again with the tabu tenure and order perturbed.
                round += 1
                failed.removeAll()
                perturbation = round
                candidates = bins.indices.filter { bins[$0].open && !bins[$0].pinned && !bins[$0].items.isEmpty }
            }
            guard !candidates.isEmpty else { break }
            // The least loaded, the first of equals (as `min(by:)`), in a plain loop: a closure
            // here copied the improver per comparison (decision 430).
            var least: (load: Double, tie: Int, bin: Int)?
            for b in candidates {
                var load = 0.0
                for item in bins[b].items { load += items[item].weight }
                let tie = (b &* (perturbation &+ 1)) % 9973
                if least.map({ (load, tie) < ($0.load, $0.tie) }) ?? true { least = (load, tie, b) }
            }
            guard let target = least?.bin else { break }
            if close(target) {
                failed.removeAll()  // the landscape changed: earlier failures may now succeed
            } else {
                failed.insert(target)
            }
        }
    }

    /// Seeds of the parallel search: a fixed list, so the plan does not depend on the cores.
    static let searchSeeds: [UInt64] = [1, 2]
    /// The search's checks are cheaper than the node checks of `workBudget`: this many of them
    /// take as long as one (measured on the reference machine, docs/performance.md).
    static let searchWorkPerCheck = 40

    /// One pool's packing problem: its open nodes, the replicas that may move (new, without
    /// spread), each node's room besides them, and the nodes that must stay open.
    struct PoolPacking {
        let nodes: [Int]
        let movers: [Int]
        /// The position in `nodes` of each mover's node.
        let position: [Int]
        let room: [[Double]]
        let pinned: [Bool]
        /// Every replica of the pool may move: nothing but capacity constrains it.
        let pure: Bool
    }

    var movablePools: [String] { Set(items.map { workloadPools[$0.workload] ?? "" }).sorted() }

    /// The kernel's gate: the problem of `pool` for a strategy that honours `rules`, or nil
    /// when the problem is bound by a rule the strategy does not honour. A pool is one pool's
    /// healthy members (exclusivity and health hold by construction) and always bound by
    /// capacity; by rack caps when one could bind (the strategy is then refused); replicas whose
    /// workload spreads stay where they are, as fixed load, unless the strategy honours spread.
    func poolPacking(_ pool: String, for rules: PlacementRules) -> PoolPacking? {
        let nodes = bins.indices.filter { bins[$0].open && model.pool[bins[$0].node] == pool }
        var bound: PlacementRules = [.capacity, .poolExclusivity, .health]
        if !capsCannotBind(nodes) { bound.insert(.rackCaps) }
        guard rules.admits(bound) else { return nil }
        let inPool = items.indices.filter { workloadPools[items[$0].workload] == pool }
        let movers = inPool.filter { (rules.contains(.spread) || !spreads[items[$0].workload].spreads) && items[$0].bin >= 0 }
        var local: [Int: Int] = [:]
        for (position, b) in nodes.enumerated() { local[b] = position }
        var room = nodes.map { b in keys.indices.map { bins[b].capacity[$0] - bins[b].used[$0] } }
        var position: [Int] = []
        for item in movers {
            guard let p = local[items[item].bin] else { return nil }
            position.append(p)
            for k in keys.indices { room[p][k] += items[item].demand[k] }
        }
        let moving = Set(movers)
        let pinned = nodes.map { b in bins[b].pinned || bins[b].items.contains { !moving.contains($0) } }
        return PoolPacking(nodes: nodes, movers: movers, position: position, room: room, pinned: pinned, pure: movers.count == inPool.count)
    }

    /// ``PairPacking`` on every pool where it applies: identical nodes holding nothing else,
    /// replicas without spread, no three of which fit a node. Such a pool is then optimal.
    /// True when that solved every pool: nothing is left to search anywhere.
    mutating func pairPools() -> Bool {
        var all = true
        for pool in movablePools where workBudget > 0 {
            guard let problem = poolPacking(pool, for: PairPacking.honours), problem.pure, !problem.pinned.contains(true), let first = problem.nodes.first,
                  problem.nodes.allSatisfy({ bins[$0].capacity == bins[first].capacity }),
                  zip(problem.nodes, problem.room).allSatisfy({ b, r in zip(r, bins[b].capacity).allSatisfy { abs($0 - $1) < Tolerance.capacity } }),
                  let pairing = PairPacking.optimal(problem.movers.map { items[$0].demand }, capacity: bins[first].capacity),
                  pairing.count <= problem.nodes.count else {
                all = false
                continue
            }
            workBudget -= problem.movers.count * problem.movers.count / Self.searchWorkPerCheck
            if pairing.count < problem.nodes.count {
                for item in problem.movers { remove(item) }
                for (position, group) in pairing.enumerated() { for m in group { insert(problem.movers[m], into: problem.nodes[position]) } }
                for b in problem.nodes where bins[b].items.isEmpty { setOpen(b, false) }
            }
            solvedPools.insert(pool)
        }
        return all && workBudget > 0
    }

    /// The consistent neighbourhood search (``VectorPackingSearch``) on each pool where no rack
    /// cap can bind, over the movable replicas without spread; the others stay where they are.
    /// Two seeds run side by side on the same budget; the fewest open nodes wins, the first
    /// seed on a tie, so the result does not depend on timing.
    mutating func searchPools() {
        for pool in movablePools where workBudget > 0 && !solvedPools.contains(pool) {
            guard let problem = poolPacking(pool, for: VectorPackingSearch.honours), !problem.movers.isEmpty else { continue }
            let here = problem.nodes, movers = problem.movers
            let largest = keys.indices.map { k in here.map { bins[$0].capacity[k] }.max() ?? 0 }
            let demands = movers.map { items[$0].demand }
            var floor = max(lowerBound(loadOn: here, largest: largest, pinned: problem.pinned.filter { $0 }.count),
                            Self.conflictClique(demands, largest: largest))
            if let bound = Self.identicalBinsBound(problem, demands) { floor = max(floor, bound) }
            let start = Self.minimumSlackStart(problem, demands)
            let search = VectorPackingSearch(dims: keys.count, demand: demands, room: problem.room,
                                             assignment: start?.assignment ?? problem.position,
                                             open: start?.open ?? Array(repeating: true, count: here.count),
                                             pinned: problem.pinned, work: workBudget * Self.searchWorkPerCheck - (start?.nodes ?? 0), seed: 0)
            let results = Self.portfolio(search, floor: floor)
            guard let best = results.indices.min(by: { (results[$0].openCount, $0) < (results[$1].openCount, $1) }) else { continue }
            workBudget -= ((results.map { search.work - max($0.work, 0) }.max() ?? 0) + (start?.nodes ?? 0)) / Self.searchWorkPerCheck
            guard results[best].openCount < here.count else { continue }
            for (m, item) in movers.enumerated() where here[results[best].bin[m]] != items[item].bin { remove(item) }
            for (m, item) in movers.enumerated() where items[item].bin < 0 { insert(item, into: here[results[best].bin[m]]) }
            for (position, b) in here.enumerated() where !results[best].open[position] && bins[b].items.isEmpty { setOpen(b, false) }
        }
    }

    /// A lower bound on the nodes: replicas that pairwise cannot share a node (together they
    /// exceed the largest capacity of some resource) each need their own. Greedy, largest
    /// first; a clique found this way is a valid bound, if not always the best one.
    static func conflictClique(_ demands: [[Double]], largest: [Double]) -> Int {
        let order = demands.indices.sorted { a, b in
            let sa = demands[a].indices.map { largest[$0] > 0 ? demands[a][$0] / largest[$0] : 0 }.max() ?? 0
            let sb = demands[b].indices.map { largest[$0] > 0 ? demands[b][$0] / largest[$0] : 0 }.max() ?? 0
            return (sa, b) > (sb, a)
        }
        var clique: [Int] = []
        for item in order.prefix(4_000) {  // a bound from a subset is still a bound: keep it cheap
            let conflicts = clique.allSatisfy { other in
                largest.indices.contains { !CapacityRule.fits(demands[item][$0] + demands[other][$0], capacity: largest[$0]) }
            }
            if conflicts { clique.append(item) }
        }
        return clique.count
    }

    /// Runs a copy of `search` per seed, in parallel.
    static func portfolio(_ search: VectorPackingSearch, floor: Int) -> [VectorPackingSearch] {
        final class Results: @unchecked Sendable {
            var slots: [VectorPackingSearch]
            let lock = DispatchQueue(label: "dcapply.portfolio")
            init(_ slots: [VectorPackingSearch]) { self.slots = slots }
        }
        let results = Results(searchSeeds.map { search.reseeded($0) })
        DispatchQueue.concurrentPerform(iterations: searchSeeds.count) { position in
            var mine = results.lock.sync { results.slots[position] }
            mine.run(floor: floor)
            results.lock.sync { results.slots[position] = mine }
        }
        return results.slots
    }
}
