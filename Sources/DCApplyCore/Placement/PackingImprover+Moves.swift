/// The improver's moves: closing a node (best fit, else a swap that ejects lighter replicas,
/// under a tabu list) and re-packing in a given order. Every check is the state's (``fits``,
/// ``ejection``), which asks the kernel's rules.
extension PackingImprover {
    /// Empties `bin` and re-inserts its replicas elsewhere among open bins; false (and nothing
    /// changed) when the budget runs out first.
    mutating func close(_ bin: Int) -> Bool {
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
                : queue.indices.max { (items[queue[$0]].weight, queue[$1]) < (items[queue[$1]].weight, queue[$0]) } ?? 0
            let item = queue.remove(at: position)
            // Best fit among open bins: the least slack left.
            var best: (Double, Int)?
            for b in bins.indices where bins[b].open && b != bin && fits(item, b) {
                var slack = 0.0
                for k in keys.indices where bins[b].capacity[k] > 0 {
                    slack += (bins[b].capacity[k] - bins[b].used[k] - items[item].demand[k]) / bins[b].capacity[k]
                }
                if best.map({ (slack, b) < $0 }) ?? true { best = (slack, b) }
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
                if choice.map({ (cost, b) < ($0.cost, $0.bin) }) ?? true { choice = (cost, b, ejected) }
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
    func ejection(for item: Int, from bin: Int) -> [Int]? {
        let candidates = bins[bin].items.sorted { (items[$0].weight, $0) < (items[$1].weight, $1) }
        var ejected: [Int] = []
        var used = bins[bin].used
        let demand = items[item].demand
        func roomy() -> Bool { keys.indices.allSatisfy { CapacityRule.fits(used[$0] + demand[$0], capacity: bins[bin].capacity[$0]) } }
        for other in candidates where !roomy() {
            // Only replicas that make room on a short dimension.
            let helps = keys.indices.contains { !CapacityRule.fits(used[$0] + demand[$0], capacity: bins[bin].capacity[$0]) && items[other].demand[$0] > 0 }
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
        if spreads[w].spreads {
            let sameWorkload = ejected.filter { items[$0].workload == w }.count
            if !spreads[w].allows(node: bins[bin].node, leaving: sameWorkload) { return nil }
        }
        // Power: the bin's draw with the ejections done and the item in.
        if rackCap[bins[bin].rack].isFinite {
            var removed = [Double](repeating: 0, count: keys.count)
            for other in ejected { for k in keys.indices { removed[k] += items[other].demand[k] } }
            if !powerAllows(adding: demand, removing: removed, to: bin) { return nil }
        }
        return ejected
    }

    /// Re-packs every movable replica in `order`: into the open node where it leaves the least
    /// slack, else into a closed node (opened). Kept only if fewer nodes end up open.
    mutating func repack(order: [Int]) {
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
                if best.map({ key < $0 }) ?? true { best = key }
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
    mutating func binCentricRepack() {
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
                    if best.map({ (score, -item) > ($0.0, -$0.1) }) ?? true { best = (score, item) }
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
    func decreasing(by measure: ([Double], [Double]) -> Double) -> [Int] {
        let reference = keys.indices.map { k in bins.map { $0.capacity[k] }.max() ?? 1 }
        return items.indices.sorted { a, b in
            let sa = measure(items[a].demand, reference), sb = measure(items[b].demand, reference)
            return sa != sb ? sa > sb : a < b
        }
    }
}
