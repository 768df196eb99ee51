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
    /// first; nil when even emptying the movable part is not enough. Called for every open bin
    /// of every closure step: it orders the bin's few replicas by insertion (the order by
    /// weight, then position, is strict, so any sort gives the same one) and reads the state
    /// in plain loops, without closures that would copy the improver (decision 430).
    func ejection(for item: Int, from bin: Int) -> [Int]? {
        let held = bins[bin].items
        // Nothing movable to take out: the original ended with an empty ejection, i.e. nil.
        guard !held.isEmpty else { return nil }
        var candidates: [Int] = []
        candidates.reserveCapacity(held.count)
        for other in held {
            let weight = items[other].weight
            var position = candidates.count
            while position > 0 {
                let previous = candidates[position - 1]
                guard (weight, other) < (items[previous].weight, previous) else { break }
                position -= 1
            }
            candidates.insert(other, at: position)
        }
        let capacity = bins[bin].capacity
        let demand = items[item].demand
        let keyCount = keys.count
        var used = bins[bin].used
        var ejected: [Int] = []
        for other in candidates {
            // Once the item fits, nothing more is taken out (`used` no longer changes).
            if Self.fitsAll(demand, used: used, capacity: capacity, keys: keyCount) { break }
            // Only replicas that make room on a short dimension.
            let otherDemand = items[other].demand
            var helps = false
            for k in 0..<keyCount where otherDemand[k] > 0 && !CapacityRule.fits(used[k] + demand[k], capacity: capacity[k]) {
                helps = true
                break
            }
            guard helps else { continue }
            ejected.append(other)
            for k in 0..<keyCount { used[k] -= otherDemand[k] }
        }
        guard Self.fitsAll(demand, used: used, capacity: capacity, keys: keyCount), !ejected.isEmpty else { return nil }
        // The ejected must weigh less than what goes in, or the search goes round in circles.
        var ejectedWeight = 0.0
        for other in ejected { ejectedWeight += items[other].weight }
        guard ejectedWeight < items[item].weight * 1.0001 || ejected.count == 1 else { return nil }
        guard model.pool[bins[bin].node] == workloadPools[items[item].workload] else { return nil }
        // Spread: the ejected replicas of the same workload leave this bin's domain.
        let w = items[item].workload
        if spreads[w].spreads {
            var sameWorkload = 0
            for other in ejected where items[other].workload == w { sameWorkload += 1 }
            if !spreads[w].allows(node: bins[bin].node, leaving: sameWorkload) { return nil }
        }
        // Power: the bin's draw with the ejections done and the item in.
        if rackCap[bins[bin].rack].isFinite {
            var removed = [Double](repeating: 0, count: keyCount)
            for other in ejected { for k in 0..<keyCount { removed[k] += items[other].demand[k] } }
            if !powerAllows(adding: demand, removing: removed, to: bin) { return nil }
        }
        return ejected
    }

    /// Whether `demand` fits on top of `used` within `capacity`, on each of the first `keys` keys.
    static func fitsAll(_ demand: [Double], used: [Double], capacity: [Double], keys: Int) -> Bool {
        for k in 0..<keys where !CapacityRule.fits(used[k] + demand[k], capacity: capacity[k]) { return false }
        return true
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
