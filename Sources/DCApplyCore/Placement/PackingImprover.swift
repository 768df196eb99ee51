import Dispatch

/// Improves a placement's energy by emptying powered nodes, within every hard constraint.
///
/// Runs after the constructive placement, per pool, on sites that power idle nodes off. Only
/// replicas new in this plan move (an existing replica never moves for energy: fewest moves
/// comes first). In order: re-packs in several decreasing orders; the exact pairing
/// (``PairPacking``) where no three replicas fit a node; closing nodes one at a time (a node's
/// replicas re-inserted by best fit, or by swapping into a node and ejecting smaller replicas
/// back into the queue, under a tabu list; an attempt that runs out of budget is undone); then
/// the packing search (``VectorPackingSearch``) where no rack cap can bind. Deterministic:
/// work budgets, no clock.
struct PackingImprover {
    /// Iterations of one closure attempt, per replica in the queue.
    var iterationsPerItem = 200
    /// Work in all, counted in node checks: deterministic, unlike a clock.
    var workBudget: Int

    private struct Item {
        let workload: Int
        let index: Int
        let demand: [Double]
        let weight: Double
        var bin: Int
    }

    private struct Bin {
        let node: Int
        let capacity: [Double]
        var used: [Double]
        let idleW: Double
        let dynamicW: Double
        /// Index of `gpus` in the keys when the node has GPUs: draw follows GPU use alone.
        let gpuKey: Int?
        let rack: Int
        var items: [Int] = []
        /// Holds something that cannot move (an existing replica, a drive, a gang).
        let pinned: Bool
        var open: Bool
    }

    private var model: PlacementModel
    private var states: [String: TargetState.WorkloadState]
    private let keys: [String]
    private var items: [Item] = []
    private var bins: [Bin] = []
    private var binOfNode: [Int: Int] = [:]
    private let workloadNames: [String]
    /// The pool of each workload, by workload position.
    private let workloadPools: [String?]
    /// The failure domain of each node under each workload's spread key (nil: no spread).
    private var spreadIDs: [[Int]?] = []
    private var spreadLimit: [Int] = []
    /// Replicas per (workload, domain id).
    private var domainCount: [[Int]] = []
    private var rackNames: [String] = []
    private var rackDraw: [Double] = []
    private var rackCap: [Double] = []
    /// Pools packed optimally by ``PairPacking``: nothing left to search there.
    private var solvedPools = Set<String>()
    /// Varies tie-breaks between rounds of closure attempts (deterministically).
    private var perturbation = 0

    init(model: PlacementModel, states: [String: TargetState.WorkloadState], current: TargetState, workBudget: Int) {
        self.workBudget = workBudget
        self.model = model
        self.states = states
        workloadNames = states.keys.sorted()
        workloadPools = workloadNames.map { model.desired.workloads[$0]?.pool }
        var keySet = Set<String>()
        for name in workloadNames { keySet.formUnion((model.desired.workloads[name]?.resources ?? [:]).keys) }
        keys = keySet.sorted()
        for name in workloadNames {
            let policy = model.desired.policy(model.desired.workloads[name]?.redundancy)
            let ids = (policy?.failureDomain).flatMap { model.domainIDs[$0] }
            spreadIDs.append(ids)
            spreadLimit.append(policy?.maxPerDomain ?? .max)
            var counts = Array(repeating: 0, count: (policy?.failureDomain).flatMap { model.domainCounts[$0] } ?? 0)
            if let ids {
                for replica in states[name]?.replicas ?? [] {
                    for domain in Set(replica.nodes.compactMap { model.index[$0] }.map { ids[$0] }) { counts[domain] += 1 }
                }
            }
            domainCount.append(counts)
        }
        collect(current: current)
    }

    /// Movable items: single-node replicas placed anew, of workloads without minDomains, on
    /// healthy nodes of sites that power idle nodes off.
    private mutating func collect(current: TargetState) {
        var movableOnNode: [Int: [Int]] = [:]
        for (w, name) in workloadNames.enumerated() {
            guard let workload = model.desired.workloads[name], model.desired.policy(workload.redundancy)?.minDomains == nil else { continue }
            let existing = Dictionary(current.workloads[name]?.replicas.map { ($0.index, $0.nodes) } ?? [], uniquingKeysWith: { a, _ in a })
            for replica in states[name]?.replicas ?? [] where replica.nodes.count == 1 && existing[replica.index] != replica.nodes {
                guard let node = model.index[replica.nodes[0]], powersOff(node) else { continue }
                let demand = keys.map { workload.resources[$0] ?? 0 }
                let scale = keys.map { key in max(model.nodes[node].capacity[key] ?? 0, 1e-9) }
                let weight = zip(demand, scale).reduce(0) { $0 + $1.0 / $1.1 }
                items.append(Item(workload: w, index: replica.index, demand: demand, weight: weight, bin: -1))
                movableOnNode[node, default: []].append(items.count - 1)
            }
        }
        guard !items.isEmpty else { return }
        // Bins: healthy members of the pools these items belong to.
        let pools = Set(items.map { model.desired.workloads[workloadNames[$0.workload]]?.pool ?? "" })
        var rackOf: [String: Int] = [:]
        for node in model.nodes.indices where model.pool[node].map(pools.contains) ?? false
            && model.nodes[node].health == .healthy && !model.wholeNode[node] {
            let movable = movableOnNode[node] ?? []
            let pinned = model.replicaCount[node] > movable.count || model.driveCount[node] > 0 || !powersOff(node)
            let capacity = keys.map { model.nodes[node].capacity[$0] ?? 0 }
            let used = keys.map { model.used[node][$0] ?? 0 }
            let rackName = model.rack[node]
            var rack = rackOf[rackName] ?? -1
            if rack < 0 {
                rack = rackNames.count
                rackOf[rackName] = rack
                rackNames.append(rackName)
                rackDraw.append(model.rackDrawW[rackName] ?? 0)
                rackCap.append(model.rackCapW[rackName] ?? .infinity)
            }
            let gpuKey = keys.firstIndex(of: "gpus").flatMap { capacity[$0] > 0 ? $0 : nil }
            binOfNode[node] = bins.count
            bins.append(Bin(node: node, capacity: capacity, used: used, idleW: model.nodes[node].power.idleW,
                            dynamicW: model.nodes[node].power.maxW - model.nodes[node].power.idleW, gpuKey: gpuKey, rack: rack,
                            items: movable, pinned: pinned, open: model.on[node]))
            for item in movable { items[item].bin = bins.count - 1 }
        }
        items.removeAll { $0.bin < 0 }  // defensive: an item on a node that is not a bin stays put
    }

    private func powersOff(_ node: Int) -> Bool {
        model.desired.energyPolicy(site: model.nodes[node].site)?.powerOffIdle ?? false
    }

    // MARK: Constraint checks on the dense state

    private func fits(_ item: Int, _ bin: Int) -> Bool {
        let b = bins[bin], demand = items[item].demand
        guard model.pool[b.node] == workloadPools[items[item].workload] else { return false }
        for k in keys.indices where b.used[k] + demand[k] > b.capacity[k] + 1e-9 { return false }
        return spreadAllows(item, bin) && powerAllows(adding: demand, to: bin)
    }

    private func spreadAllows(_ item: Int, _ bin: Int) -> Bool {
        let w = items[item].workload
        guard let ids = spreadIDs[w] else { return true }
        if items[item].bin == bin { return true }
        return domainCount[w][ids[bins[bin].node]] < spreadLimit[w]
    }

    /// The contract's estimate on the dense vectors (on): exact, since every key in use is in `keys`.
    private func drawW(_ bin: Int, used: [Double]) -> Double {
        let b = bins[bin]
        var fraction = 0.0
        if let g = b.gpuKey {
            fraction = used[g] / b.capacity[g]
        } else {
            for k in keys.indices where b.capacity[k] > 0 { fraction = max(fraction, used[k] / b.capacity[k]) }
        }
        return b.idleW + b.dynamicW * min(1, fraction)
    }

    /// The draw after adding `demand` (and taking `removed` out), without allocating.
    private func drawW(_ bin: Int, adding demand: [Double], removing removed: [Double]? = nil) -> Double {
        let b = bins[bin]
        var fraction = 0.0
        if let g = b.gpuKey {
            fraction = (b.used[g] + demand[g] - (removed?[g] ?? 0)) / b.capacity[g]
        } else {
            for k in keys.indices where b.capacity[k] > 0 {
                fraction = max(fraction, (b.used[k] + demand[k] - (removed?[k] ?? 0)) / b.capacity[k])
            }
        }
        return b.idleW + b.dynamicW * min(1, fraction)
    }

    private func powerAllows(adding demand: [Double], to bin: Int) -> Bool {
        let b = bins[bin]
        guard rackCap[b.rack].isFinite else { return true }
        // A node that is off draws nothing now: turning it on adds its whole draw, idle included.
        let now = b.open ? drawW(bin, used: b.used) : 0
        return rackDraw[b.rack] + drawW(bin, adding: demand) - now <= rackCap[b.rack] + 1e-6
    }

    // MARK: Moves

    private mutating func remove(_ item: Int) {
        let bin = items[item].bin
        guard bin >= 0 else { return }
        let before = drawW(bin, used: bins[bin].used)
        for k in keys.indices { bins[bin].used[k] -= items[item].demand[k] }
        bins[bin].items.removeAll { $0 == item }
        rackDraw[bins[bin].rack] += drawW(bin, used: bins[bin].used) - before
        if let ids = spreadIDs[items[item].workload] {
            domainCount[items[item].workload][ids[bins[bin].node]] -= 1
        }
        items[item].bin = -1
    }

    private mutating func insert(_ item: Int, into bin: Int) {
        let before = drawW(bin, used: bins[bin].used)
        for k in keys.indices { bins[bin].used[k] += items[item].demand[k] }
        bins[bin].items.append(item)
        rackDraw[bins[bin].rack] += drawW(bin, used: bins[bin].used) - before
        if let ids = spreadIDs[items[item].workload] {
            domainCount[items[item].workload][ids[bins[bin].node]] += 1
        }
        items[item].bin = bin
    }

    /// Powers a bin on or off in the rack accounting (idle draw).
    private mutating func setOpen(_ bin: Int, _ open: Bool) {
        guard bins[bin].open != open else { return }
        let idle = drawW(bin, used: bins[bin].used)
        rackDraw[bins[bin].rack] += open ? idle : -idle
        bins[bin].open = open
    }

    // MARK: Search

    private struct Snapshot {
        let items: [Item]
        let bins: [Bin]
        let rackDraw: [Double]
        let domainCount: [[Int]]
    }

    private func snapshot() -> Snapshot { Snapshot(items: items, bins: bins, rackDraw: rackDraw, domainCount: domainCount) }

    private mutating func restore(_ snapshot: Snapshot) {
        items = snapshot.items
        bins = snapshot.bins
        rackDraw = snapshot.rackDraw
        domainCount = snapshot.domainCount
    }

    /// Empties `bin` and re-inserts its replicas elsewhere among open bins; false (and nothing
    /// changed) when the budget runs out first.
    private mutating func close(_ bin: Int) -> Bool {
        let saved = snapshot()
        var queue = bins[bin].items
        for item in queue { remove(item) }
        setOpen(bin, false)
        var tabu: [Int: Int] = [:]  // item * bins.count + bin -> iteration until which it is tabu
        let budget = iterationsPerItem * max(queue.count, 1)
        var iteration = 0
        while !queue.isEmpty {
            iteration += 1
            workBudget -= bins.count
            if iteration > budget || workBudget < 0 { restore(saved); return false }
            // The heaviest replica first.
            let position = perturbation % 2 == 1 && iteration % 3 == 0
                ? (iteration / 3) % queue.count
                : queue.indices.max { (items[queue[$0]].weight, queue[$1]) < (items[queue[$1]].weight, queue[$0]) }!
            let item = queue.remove(at: position)
            // Best fit among open bins: the least slack left.
            var best: (Double, Int)?
            for b in bins.indices where bins[b].open && b != bin && fits(item, b) {
                var slack = 0.0
                for k in keys.indices where bins[b].capacity[k] > 0 {
                    slack += (bins[b].capacity[k] - bins[b].used[k] - items[item].demand[k]) / bins[b].capacity[k]
                }
                if best == nil || (slack, b) < best! { best = (slack, b) }
            }
            if let (_, b) = best {
                insert(item, into: b)
                continue
            }
            // Swap: into the open bin where the fewest, lightest movable replicas must leave.
            var choice: (cost: Double, bin: Int, ejected: [Int])?
            for b in bins.indices where bins[b].open && b != bin {
                if (tabu[item * bins.count + b] ?? 0) > iteration { continue }
                guard let ejected = ejection(for: item, from: b) else { continue }
                let cost = ejected.reduce(0) { $0 + items[$1].weight * items[$1].weight }
                if choice == nil || (cost, b) < (choice!.cost, choice!.bin) { choice = (cost, b, ejected) }
            }
            guard let (_, b, ejected) = choice else { restore(saved); return false }
            for other in ejected {
                remove(other)
                tabu[other * bins.count + b] = iteration + 7 + (other &+ perturbation) % (5 + perturbation)
                queue.append(other)
            }
            insert(item, into: b)
        }
        return true
    }

    /// The lightest set of movable replicas to take out of `bin` so that `item` fits, lightest
    /// first; nil when even emptying the movable part is not enough.
    private func ejection(for item: Int, from bin: Int) -> [Int]? {
        let candidates = bins[bin].items.sorted { (items[$0].weight, $0) < (items[$1].weight, $1) }
        var ejected: [Int] = []
        var used = bins[bin].used
        let demand = items[item].demand
        func roomy() -> Bool { keys.indices.allSatisfy { used[$0] + demand[$0] <= bins[bin].capacity[$0] + 1e-9 } }
        for other in candidates where !roomy() {
            // Only replicas that make room on a short dimension.
            let helps = keys.indices.contains { used[$0] + demand[$0] > bins[bin].capacity[$0] + 1e-9 && items[other].demand[$0] > 0 }
            guard helps else { continue }
            ejected.append(other)
            for k in keys.indices { used[k] -= items[other].demand[k] }
        }
        guard roomy(), !ejected.isEmpty else { return nil }
        // The ejected must weigh less than what goes in, or the search goes round in circles.
        guard ejected.reduce(0, { $0 + items[$1].weight }) < items[item].weight * 1.0001 || ejected.count == 1 else { return nil }
        guard model.pool[bins[bin].node] == workloadPools[items[item].workload] else { return nil }
        // Spread: the ejected replicas of the same workload leave this bin's domain.
        let w = items[item].workload
        if let ids = spreadIDs[w] {
            let sameWorkload = ejected.filter { items[$0].workload == w }.count
            if domainCount[w][ids[bins[bin].node]] - sameWorkload >= spreadLimit[w] { return nil }
        }
        // Power: the bin's draw with the ejections done and the item in.
        let b = bins[bin]
        if rackCap[b.rack].isFinite {
            var removed = [Double](repeating: 0, count: keys.count)
            for other in ejected { for k in keys.indices { removed[k] += items[other].demand[k] } }
            let now = b.open ? drawW(bin, used: b.used) : 0
            if rackDraw[b.rack] + drawW(bin, adding: demand, removing: removed) - now > rackCap[b.rack] + 1e-6 { return nil }
        }
        return ejected
    }

    /// Re-packs every movable replica in `order`: into the open node where it leaves the least
    /// slack, else into a closed node (opened). Kept only if fewer nodes end up open.
    private mutating func repack(order: [Int]) {
        let saved = snapshot()
        let before = openBins()
        for item in order { remove(item) }
        for bin in bins.indices where !bins[bin].pinned && bins[bin].items.isEmpty { setOpen(bin, false) }
        for item in order {
            workBudget -= bins.count
            if workBudget < 0 { restore(saved); return }  // out of budget: keep what was
            var best: (Int, Double, Int)?
            for b in bins.indices where fits(item, b) {
                var slack = 0.0
                for k in keys.indices where bins[b].capacity[k] > 0 {
                    slack += (bins[b].capacity[k] - bins[b].used[k] - items[item].demand[k]) / bins[b].capacity[k]
                }
                let key = (bins[b].open ? 0 : 1, slack, b)
                if best == nil || key < best! { best = key }
            }
            guard let (_, _, b) = best else { restore(saved); return }
            if !bins[b].open { setOpen(b, true) }
            insert(item, into: b)
        }
        if openBins() >= before { restore(saved) }
    }

    /// Bin-centric re-pack: fill one node at a time (open ones first, then by index) with the
    /// replica whose normalised demand best matches the node's remaining room (dot product),
    /// until none fits. Kept only if fewer nodes end up open.
    private mutating func binCentricRepack() {
        let saved = snapshot()
        let before = openBins()
        var pending = Set(items.indices)
        for item in items.indices { remove(item) }
        for bin in bins.indices where !bins[bin].pinned && bins[bin].items.isEmpty { setOpen(bin, false) }
        let order = bins.indices.sorted { (bins[$0].open ? 0 : 1, $0) < (bins[$1].open ? 0 : 1, $1) }
        for b in order where !pending.isEmpty {
            while true {
                workBudget -= pending.count
                if workBudget < 0 { restore(saved); return }  // out of budget: keep what was
                var best: (Double, Int)?
                for item in pending where fits(item, b) {
                    var score = 0.0
                    for k in keys.indices where bins[b].capacity[k] > 0 {
                        score += (items[item].demand[k] / bins[b].capacity[k]) * ((bins[b].capacity[k] - bins[b].used[k]) / bins[b].capacity[k])
                    }
                    if best == nil || (score, -item) > (best!.0, -best!.1) { best = (score, item) }
                }
                guard let (_, item) = best else { break }
                if !bins[b].open { setOpen(b, true) }
                insert(item, into: b)
                pending.remove(item)
            }
        }
        if !pending.isEmpty || openBins() >= before { restore(saved) }
    }

    /// Movable items sorted by a size measure, largest first.
    private func decreasing(by measure: ([Double], [Double]) -> Double) -> [Int] {
        let reference = keys.indices.map { k in bins.map { $0.capacity[k] }.max() ?? 1 }
        return items.indices.sorted { a, b in
            let sa = measure(items[a].demand, reference), sb = measure(items[b].demand, reference)
            return sa != sb ? sa > sb : a < b
        }
    }

    /// Improves the packing: re-packs, closing nodes one at a time, the packing search.
    mutating func run() -> (model: PlacementModel, states: [String: TargetState.WorkloadState]) {
        guard !items.isEmpty else { return (model, states) }
        // Several decreasing orders (sum, max, sum of squares of the normalised sizes): the
        // best start for the search below.
        let measures: [([Double], [Double]) -> Double] = [
            { d, r in zip(d, r).reduce(0) { $0 + $1.0 / max($1.1, 1e-9) } },
            { d, r in zip(d, r).reduce(0) { max($0, $1.0 / max($1.1, 1e-9)) } },
            { d, r in zip(d, r).reduce(0) { let x = $1.0 / max($1.1, 1e-9); return $0 + x * x } },
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
    private mutating func closeNodes() {
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
            func load(_ b: Int) -> Double { bins[b].items.reduce(0) { $0 + items[$1].weight } }
            let target = candidates.min { (load($0), ($0 &* (perturbation &+ 1)) % 9973) < (load($1), ($1 &* (perturbation &+ 1)) % 9973) }!
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
    private struct PoolPacking {
        let nodes: [Int]
        let movers: [Int]
        /// The position in `nodes` of each mover's node.
        let position: [Int]
        let room: [[Double]]
        let pinned: [Bool]
        /// Every replica of the pool may move: nothing but capacity constrains it.
        let pure: Bool
    }

    private var movablePools: [String] { Set(items.map { workloadPools[$0.workload] ?? "" }).sorted() }

    /// Nil where a rack cap could bind: the searches below check capacity alone.
    private func poolPacking(_ pool: String) -> PoolPacking? {
        let nodes = bins.indices.filter { bins[$0].open && model.pool[bins[$0].node] == pool }
        guard capsCannotBind(nodes) else { return nil }
        let inPool = items.indices.filter { workloadPools[items[$0].workload] == pool }
        let movers = inPool.filter { spreadIDs[items[$0].workload] == nil && items[$0].bin >= 0 }
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
    private mutating func pairPools() -> Bool {
        var all = true
        for pool in movablePools where workBudget > 0 {
            guard let problem = poolPacking(pool), problem.pure, !problem.pinned.contains(true), let first = problem.nodes.first,
                  problem.nodes.allSatisfy({ bins[$0].capacity == bins[first].capacity }),
                  zip(problem.nodes, problem.room).allSatisfy({ b, r in zip(r, bins[b].capacity).allSatisfy { abs($0 - $1) < 1e-9 } }),
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
    private mutating func searchPools() {
        for pool in movablePools where workBudget > 0 && !solvedPools.contains(pool) {
            guard let problem = poolPacking(pool), !problem.movers.isEmpty else { continue }
            let here = problem.nodes, movers = problem.movers
            let largest = keys.indices.map { k in here.map { bins[$0].capacity[k] }.max() ?? 0 }
            let floor = max(lowerBound(loadOn: here, largest: largest, pinned: problem.pinned.filter { $0 }.count),
                            Self.conflictClique(movers.map { items[$0].demand }, largest: largest))
            let search = VectorPackingSearch(dims: keys.count, demand: movers.map { items[$0].demand }, room: problem.room,
                                             assignment: problem.position, open: Array(repeating: true, count: here.count),
                                             pinned: problem.pinned, work: workBudget * Self.searchWorkPerCheck, seed: 0)
            let results = Self.portfolio(search, floor: floor)
            let best = results.indices.min { (results[$0].openCount, $0) < (results[$1].openCount, $1) }!
            workBudget -= (results.map { search.work - max($0.work, 0) }.max() ?? 0) / Self.searchWorkPerCheck
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
                largest.indices.contains { demands[item][$0] + demands[other][$0] > largest[$0] + 1e-9 }
            }
            if conflicts { clique.append(item) }
        }
        return clique.count
    }

    /// Runs a copy of `search` per seed, in parallel.
    private static func portfolio(_ search: VectorPackingSearch, floor: Int) -> [VectorPackingSearch] {
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

    /// Whether no rack holding one of `candidates` could exceed its cap whatever they hold.
    private func capsCannotBind(_ candidates: [Int]) -> Bool {
        var worst = rackDraw
        for b in candidates {
            worst[bins[b].rack] += bins[b].idleW + bins[b].dynamicW - drawW(b, used: bins[b].used)
        }
        return candidates.allSatisfy { worst[bins[$0].rack] <= rackCap[bins[$0].rack] + 1e-6 }
    }

    private func openBins() -> Int { bins.indices.filter { bins[$0].open }.count }

    /// No fewer bins can hold the load: per key, the load over the largest capacity, and
    /// never fewer than the pinned bins.
    private func lowerBound() -> Int {
        lowerBound(loadOn: bins.indices.filter { bins[$0].open },
                   largest: keys.indices.map { k in bins.map { $0.capacity[k] }.max() ?? 0 },
                   pinned: bins.filter { $0.open && $0.pinned }.count)
    }

    /// No fewer nodes can hold the load on `nodes`: per key, that load over the `largest`
    /// capacity any node that could take it has; and never fewer than the `pinned` ones.
    private func lowerBound(loadOn nodes: [Int], largest: [Double], pinned: Int) -> Int {
        var bound = pinned
        for k in keys.indices where largest[k] > 0 {
            let load = nodes.reduce(0.0) { $0 + bins[$1].used[k] }
            bound = max(bound, Int((load / largest[k] - 1e-9).rounded(.up)))
        }
        return bound
    }

    /// Puts the improved assignment back into the model and the workload states.
    private mutating func writeBack() {
        for b in bins.indices {
            let node = bins[b].node
            var usage = model.used[node]
            for (k, key) in keys.enumerated() { usage[key] = bins[b].used[k] }
            model.setUsage(node, usage, on: model.on[node])
            model.on[node] = bins[b].open || model.on[node] && bins[b].pinned
        }
        var count = Array(repeating: 0, count: model.nodes.count)
        var placement: [String: [Int: String]] = [:]
        for item in items where item.bin >= 0 {
            placement[workloadNames[item.workload], default: [:]][item.index] = model.nodes[bins[item.bin].node].name
        }
        for (name, state) in states {
            var replicas = state.replicas
            for i in replicas.indices { if let node = placement[name]?[replicas[i].index] { replicas[i].nodes = [node] } }
            states[name] = TargetState.WorkloadState(replicas: replicas, unplaced: state.unplaced)
            for replica in replicas { for node in replica.nodes { if let position = model.index[node] { count[position] += 1 } } }
        }
        model.replicaCount = count
        // Recompute each rack's draw from scratch: no drift from incremental updates.
        var draws: [String: Double] = [:]
        for node in model.nodes.indices { draws[model.rack[node], default: 0] += model.drawW(node) }
        model.rackDrawW = draws
    }
}
