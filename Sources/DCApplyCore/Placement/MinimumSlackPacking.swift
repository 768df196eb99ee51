/// Minimum bin slack (Gupta and Ho, "A new heuristic algorithm for the one-dimensional
/// bin-packing problem", Production Planning & Control 10, 1999), for vectors: fill one bin at a
/// time with the subset of the items left that leaves it the least room (the largest total
/// normalised size that fits), found by a depth-first search over the items largest first,
/// bounded in nodes per bin.
///
/// A start for ``VectorPackingSearch``: where items fill a bin in few, well-matched groups
/// (Panigrahy classes 1, 7 and 9), it opens fewer bins than any decreasing-order fit, and the
/// search has fewer bins left to close. Pure and deterministic.
enum MinimumSlackPacking {
    /// The packing and the search nodes it took (the caller charges them to its budget).
    struct Result {
        /// Per item, its bin.
        let assignment: [Int]
        let nodes: Int
    }

    /// Packs every item of `demand` into the bins of `room`, filled in the order of `order`
    /// (bin positions; each bin once); nil when some item is left over once every bin is
    /// filled. `nodeLimit` bounds the search per bin.
    static func pack(_ demand: [[Double]], room: [[Double]], order: [Int], nodeLimit: Int) -> Result? {
        let dims = room.first?.count ?? 0
        var reference = [Double](repeating: 0, count: dims)
        for r in room { for k in 0..<dims { reference[k] = max(reference[k], r[k]) } }
        let size = demand.map { d in (0..<dims).reduce(0.0) { $0 + (reference[$1] > 0 ? d[$1] / reference[$1] : 0) } }
        var left = demand.indices.sorted { (size[$0], $1) > (size[$1], $0) }
        var assignment = [Int](repeating: -1, count: demand.count)
        // Items that take nothing go into the first bin: no search would ever pick them.
        if let first = order.first {
            for item in left where demand[item].allSatisfy({ $0 <= 0 }) { assignment[item] = first }
            left.removeAll { assignment[$0] >= 0 }
        }
        var nodes = 0
        var suffix: [Double] = []
        var chosen: [Int] = [], best: [Int] = []
        for b in order where !left.isEmpty {
            var free = room[b]
            suffix.removeAll(keepingCapacity: true)
            suffix.append(contentsOf: repeatElement(0, count: left.count + 1))
            for i in stride(from: left.count - 1, through: 0, by: -1) { suffix[i] = suffix[i + 1] + size[left[i]] }
            chosen.removeAll(keepingCapacity: true)
            best.removeAll(keepingCapacity: true)
            var bestTotal = 0.0, binNodes = 0
            func visit(_ i: Int, _ total: Double) {
                if total > bestTotal + Tolerance.capacity {
                    bestTotal = total
                    best = chosen
                }
                guard i < left.count, binNodes < nodeLimit, total + suffix[i] > bestTotal + Tolerance.capacity else { return }
                binNodes += 1
                let item = left[i]
                var fits = true
                for k in 0..<dims where demand[item][k] > free[k] + Tolerance.capacity { fits = false; break }
                if fits {
                    for k in 0..<dims { free[k] -= demand[item][k] }
                    chosen.append(item)
                    visit(i + 1, total + size[item])
                    chosen.removeLast()
                    for k in 0..<dims { free[k] += demand[item][k] }
                }
                visit(i + 1, total)
            }
            visit(0, 0)
            nodes += binNodes + left.count
            guard !best.isEmpty else { continue }
            for item in best { assignment[item] = b }
            left.removeAll { assignment[$0] >= 0 }
        }
        return left.isEmpty ? Result(assignment: assignment, nodes: nodes) : nil
    }
}
