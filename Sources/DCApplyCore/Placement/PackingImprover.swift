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

    struct Item {
        let workload: Int
        let index: Int
        let demand: [Double]
        let weight: Double
        var bin: Int
    }

    struct Bin {
        let node: Int
        let capacity: [Double]
        var used: [Double]
        let idleW: Double
        let maxW: Double
        /// Index of `gpus` in the keys when the node has GPUs: draw follows GPU use alone.
        let gpuKey: Int?
        let rack: Int
        var items: [Int] = []
        /// Holds something that cannot move (an existing replica, a drive, a gang).
        let pinned: Bool
        var open: Bool
    }

    var model: PlacementModel
    var states: [String: TargetState.WorkloadState]
    let keys: [String]
    var items: [Item] = []
    var bins: [Bin] = []
    var binOfNode: [Int: Int] = [:]
    let workloadNames: [String]
    /// The pool of each workload, by workload position.
    let workloadPools: [String?]
    /// Each workload's spread, by workload position: the kernel's one representation.
    var spreads: [DomainSpread] = []
    var rackNames: [String] = []
    var rackDraw: [Double] = []
    var rackCap: [Double] = []
    /// Pools packed optimally by ``PairPacking``: nothing left to search there.
    var solvedPools = Set<String>()
    /// Varies tie-breaks between rounds of closure attempts (deterministically).
    var perturbation = 0

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
            var spread = DomainSpread(model.desired.policy(model.desired.workloads[name]?.redundancy), model: model)
            for replica in states[name]?.replicas ?? [] {
                spread.add(spread.domains(replica.nodes.compactMap { model.index[$0] }))
            }
            spreads.append(spread)
        }
        collect(current: current)
    }

    /// Movable items: single-node replicas placed anew, of workloads without minDomains, on
    /// healthy nodes of sites that power idle nodes off.
    mutating func collect(current: TargetState) {
        var movableOnNode: [Int: [Int]] = [:]
        for (w, name) in workloadNames.enumerated() {
            guard let workload = model.desired.workloads[name], model.desired.policy(workload.redundancy)?.minDomains == nil else { continue }
            let existing = Dictionary(current.workloads[name]?.replicas.map { ($0.index, $0.nodes) } ?? [], uniquingKeysWith: { a, _ in a })
            for replica in states[name]?.replicas ?? [] where replica.nodes.count == 1 && existing[replica.index] != replica.nodes {
                guard let node = model.index[replica.nodes[0]], powersOff(node) else { continue }
                let demand = keys.map { workload.resources[$0] ?? 0 }
                let scale = keys.map { key in max(model.nodes[node].capacity[key] ?? 0, Tolerance.smallestScale) }
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
            && HealthRule.takesNew(model.nodes[node].health) && !model.wholeNode[node] {
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
                            maxW: model.nodes[node].power.maxW, gpuKey: gpuKey, rack: rack,
                            items: movable, pinned: pinned, open: model.on[node]))
            for item in movable { items[item].bin = bins.count - 1 }
        }
        items.removeAll { $0.bin < 0 }  // defensive: an item on a node that is not a bin stays put
    }

    func powersOff(_ node: Int) -> Bool {
        model.desired.energyPolicy(site: model.nodes[node].site)?.powerOffIdle ?? false
    }

    // MARK: Constraint checks on the dense state

    /// Whether `item` may go into `bin`: pool, capacity, spread and rack cap, each asked of
    /// the kernel's rule.
    func fits(_ item: Int, _ bin: Int) -> Bool {
        let b = bins[bin], demand = items[item].demand
        guard model.pool[b.node] == workloadPools[items[item].workload] else { return false }
        for k in keys.indices where !CapacityRule.fits(b.used[k] + demand[k], capacity: b.capacity[k]) { return false }
        return spreadAllows(item, bin) && powerAllows(adding: demand, to: bin)
    }

    func spreadAllows(_ item: Int, _ bin: Int) -> Bool {
        if items[item].bin == bin { return true }
        return spreads[items[item].workload].allows(node: bins[bin].node)
    }

    /// The contract's estimate (``PowerModel``) on the dense vectors (on): exact, since every
    /// key in use is in `keys`.
    func drawW(_ bin: Int, used: [Double]) -> Double {
        let b = bins[bin]
        let utilisation = PowerModel.utilisation(gpu: b.gpuKey, keys: keys.indices, capacity: { b.capacity[$0] }, used: { used[$0] })
        return PowerModel.drawW(idleW: b.idleW, maxW: b.maxW, utilisation: utilisation)
    }

    /// The draw after adding `demand` (and taking `removed` out), without allocating.
    func drawW(_ bin: Int, adding demand: [Double], removing removed: [Double]? = nil) -> Double {
        let b = bins[bin]
        let utilisation = PowerModel.utilisation(gpu: b.gpuKey, keys: keys.indices, capacity: { b.capacity[$0] },
                                                 used: { b.used[$0] + demand[$0] - (removed?[$0] ?? 0) })
        return PowerModel.drawW(idleW: b.idleW, maxW: b.maxW, utilisation: utilisation)
    }

    /// Whether the rack of `bin` keeps within its cap with `demand` added to the bin (and
    /// `removed` taken out), the bin turned on if it is off.
    func powerAllows(adding demand: [Double], removing removed: [Double]? = nil, to bin: Int) -> Bool {
        let b = bins[bin]
        guard rackCap[b.rack].isFinite else { return true }
        // A node that is off draws nothing now: turning it on adds its whole draw, idle included.
        let now = b.open ? drawW(bin, used: b.used) : 0
        return RackCapRule.allows(projectedW: rackDraw[b.rack] + drawW(bin, adding: demand, removing: removed) - now, capW: rackCap[b.rack])
    }

    // MARK: Moves

    mutating func remove(_ item: Int) {
        let bin = items[item].bin
        guard bin >= 0 else { return }
        let before = drawW(bin, used: bins[bin].used)
        for k in keys.indices { bins[bin].used[k] -= items[item].demand[k] }
        bins[bin].items.removeAll { $0 == item }
        rackDraw[bins[bin].rack] += drawW(bin, used: bins[bin].used) - before
        spreads[items[item].workload].remove(node: bins[bin].node)
        items[item].bin = -1
    }

    mutating func insert(_ item: Int, into bin: Int) {
        let before = drawW(bin, used: bins[bin].used)
        for k in keys.indices { bins[bin].used[k] += items[item].demand[k] }
        bins[bin].items.append(item)
        rackDraw[bins[bin].rack] += drawW(bin, used: bins[bin].used) - before
        spreads[items[item].workload].add(node: bins[bin].node)
        items[item].bin = bin
    }

    /// Powers a bin on or off in the rack accounting (idle draw).
    mutating func setOpen(_ bin: Int, _ open: Bool) {
        guard bins[bin].open != open else { return }
        let idle = drawW(bin, used: bins[bin].used)
        rackDraw[bins[bin].rack] += open ? idle : -idle
        bins[bin].open = open
    }

    // MARK: Undo

    struct Snapshot {
        let items: [Item]
        let bins: [Bin]
        let rackDraw: [Double]
        let spreads: [DomainSpread]
    }

    func snapshot() -> Snapshot { Snapshot(items: items, bins: bins, rackDraw: rackDraw, spreads: spreads) }

    mutating func restore(_ snapshot: Snapshot) {
        items = snapshot.items
        bins = snapshot.bins
        rackDraw = snapshot.rackDraw
        spreads = snapshot.spreads
    }

    /// Whether no rack holding one of `candidates` could exceed its cap whatever they hold.
    func capsCannotBind(_ candidates: [Int]) -> Bool {
        var worst = rackDraw
        for b in candidates {
            worst[bins[b].rack] += PowerModel.drawW(idleW: bins[b].idleW, maxW: bins[b].maxW, utilisation: 1) - drawW(b, used: bins[b].used)
        }
        return candidates.allSatisfy { RackCapRule.allows(projectedW: worst[bins[$0].rack], capW: rackCap[bins[$0].rack]) }
    }

    func openBins() -> Int { bins.indices.filter { bins[$0].open }.count }

    /// No fewer bins can hold the load: per key, the load over the largest capacity, and
    /// never fewer than the pinned bins.
    func lowerBound() -> Int {
        lowerBound(loadOn: bins.indices.filter { bins[$0].open },
                   largest: keys.indices.map { k in bins.map { $0.capacity[k] }.max() ?? 0 },
                   pinned: bins.filter { $0.open && $0.pinned }.count)
    }

    /// No fewer nodes can hold the load on `nodes`: per key, that load over the `largest`
    /// capacity any node that could take it has; and never fewer than the `pinned` ones.
    func lowerBound(loadOn nodes: [Int], largest: [Double], pinned: Int) -> Int {
        var bound = pinned
        for k in keys.indices where largest[k] > 0 {
            let load = nodes.reduce(0.0) { $0 + bins[$1].used[k] }
            bound = max(bound, Int((load / largest[k] - Tolerance.capacity).rounded(.up)))
        }
        return bound
    }

    /// Puts the improved assignment back into the model and the workload states.
    mutating func writeBack() {
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
