/// An exact packing when no three items fit in one bin: then a packing is a matching (pairs
/// share a bin, the rest are alone), and the fewest bins is the item count less a maximum
/// matching of the pairs that fit together (Edmonds' blossom algorithm). This is common with
/// GPUs: replicas that take more than a third of a node. Pure and deterministic.
enum PairPacking {
    /// The bins (one or two items each) of an optimal packing into identical bins of
    /// `capacity`, or nil when some three items fit together (or there are too many items
    /// for this to be cheap).
    static func optimal(_ demand: [[Double]], capacity: [Double], limit: Int = 2_000) -> [[Int]]? {
        let n = demand.count
        guard n <= limit, n > 0 else { return nil }
        let dims = capacity.count
        func fits(_ items: [Int]) -> Bool {
            (0..<dims).allSatisfy { k in CapacityRule.fits(items.reduce(0.0) { $0 + demand[$1][k] }, capacity: capacity[k]) }
        }
        guard (0..<n).allSatisfy({ fits([$0]) }) else { return nil }
        var adjacent = Array(repeating: [Int](), count: n)
        var pairs: [(Int, Int)] = []
        for i in 0..<n {
            for j in (i + 1)..<max(n, i + 1) where fits([i, j]) {
                adjacent[i].append(j)
                adjacent[j].append(i)
                pairs.append((i, j))
            }
        }
        // Some three fit together: not a matching problem. Smallest items first finds one fast.
        let bySize = (0..<n).sorted { (demand[$0].reduce(0, +), $0) < (demand[$1].reduce(0, +), $1) }
        guard pairs.count * n <= 50_000_000 else { return nil }  // too costly to be sure
        for (i, j) in pairs {
            for l in bySize where l != i && l != j && fits([i, j, l]) { return nil }
        }
        let mate = maximumMatching(adjacent)
        var bins: [[Int]] = []
        for i in 0..<n {
            if mate[i] < 0 { bins.append([i]) } else if mate[i] > i { bins.append([i, mate[i]]) }
        }
        return bins
    }

    /// A maximum cardinality matching of a general graph (Edmonds), `mate[v]` or -1.
    static func maximumMatching(_ adjacent: [[Int]]) -> [Int] {
        var blossoms = Blossoms(adjacent)
        return blossoms.run()
    }

    /// Edmonds' algorithm, O(V³): augmenting paths by breadth-first search, odd cycles
    /// (blossoms) contracted to their base.
    private struct Blossoms {
        let adjacent: [[Int]]
        let n: Int
        var mate: [Int]
        var parent: [Int]
        var base: [Int]
        var used: [Bool]
        var blossom: [Bool]
        var seen: [Bool]
        var queue: [Int] = []

        init(_ adjacent: [[Int]]) {
            self.adjacent = adjacent
            n = adjacent.count
            mate = Array(repeating: -1, count: n)
            parent = Array(repeating: -1, count: n)
            base = Array(0..<n)
            used = Array(repeating: false, count: n)
            blossom = Array(repeating: false, count: n)
            seen = Array(repeating: false, count: n)
        }

        mutating func run() -> [Int] {
            // A greedy start: most vertices are matched before the first augmenting search.
            for v in 0..<n where mate[v] < 0 {
                if let u = adjacent[v].first(where: { mate[$0] < 0 }) { mate[v] = u; mate[u] = v }
            }
            for root in 0..<n where mate[root] < 0 {
                var v = findPath(root)
                while v >= 0 {
                    let pv = parent[v], next = mate[pv]
                    mate[v] = pv
                    mate[pv] = v
                    v = next
                }
            }
            return mate
        }

        private mutating func lca(_ a: Int, _ b: Int) -> Int {
            for i in 0..<n { seen[i] = false }
            var a = a, b = b
            while true {
                a = base[a]
                seen[a] = true
                if mate[a] < 0 { break }
                a = parent[mate[a]]
            }
            while true {
                b = base[b]
                if seen[b] { return b }
                b = parent[mate[b]]
            }
        }

        private mutating func markPath(_ v: Int, _ b: Int, _ child: Int) {
            var v = v, child = child
            while base[v] != b {
                blossom[base[v]] = true
                blossom[base[mate[v]]] = true
                parent[v] = child
                child = mate[v]
                v = parent[mate[v]]
            }
        }

        private mutating func findPath(_ root: Int) -> Int {
            for i in 0..<n { used[i] = false; parent[i] = -1; base[i] = i }
            used[root] = true
            queue.removeAll(keepingCapacity: true)
            queue.append(root)
            var head = 0
            while head < queue.count {
                let v = queue[head]
                head += 1
                for to in adjacent[v] {
                    if base[v] == base[to] || mate[v] == to { continue }
                    if to == root || (mate[to] >= 0 && parent[mate[to]] >= 0) {
                        let current = lca(v, to)
                        for i in 0..<n { blossom[i] = false }
                        markPath(v, current, to)
                        markPath(to, current, v)
                        for i in 0..<n where blossom[base[i]] {
                            base[i] = current
                            if !used[i] { used[i] = true; queue.append(i) }
                        }
                    } else if parent[to] < 0 {
                        parent[to] = v
                        if mate[to] < 0 { return to }
                        used[mate[to]] = true
                        queue.append(mate[to])
                    }
                }
            }
            return -1
        }
    }
}
