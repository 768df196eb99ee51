/// Lower bounds on the bins a vector packing needs, so that a search can stop as soon as it
/// reaches one (and spend nothing proving what it cannot improve).
///
/// Each resource alone is a one-dimensional bin packing whose optimum is at most the vector
/// one; Martello and Toth's L2 bound of it ("Lower bounds and reduction procedures for the bin
/// packing problem", Discrete Applied Mathematics 28, 1990) is stronger than the load over the
/// capacity where large items cannot share a bin with middling ones. Pure.
enum PackingLowerBound {
    /// The largest L2 bound over the resources, for bins that all have room `capacity`.
    static func l2(_ demand: [[Double]], capacity: [Double]) -> Int {
        var bound = 0
        for k in capacity.indices where capacity[k] > 0 {
            bound = max(bound, l2(demand.map { $0[k] }, capacity: capacity[k]))
        }
        return bound
    }

    /// Martello and Toth's L2 for one resource: for every threshold α ≤ C/2, the items larger
    /// than C − α each need a bin of their own; those in (C/2, C − α] too, with some room left
    /// beside them; the items in [α, C/2] need what is left of their total after that room.
    static func l2(_ sizes: [Double], capacity: Double) -> Int {
        let eps = Tolerance.capacity
        let sorted = sizes.filter { $0 > eps }.sorted()
        guard !sorted.isEmpty else { return 0 }
        var prefix = [0.0]
        prefix.reserveCapacity(sorted.count + 1)
        for s in sorted { prefix.append(prefix[prefix.count - 1] + s) }
        /// How many sizes are at most `x` (with the tolerance).
        func countAtMost(_ x: Double) -> Int {
            var low = 0, high = sorted.count
            while low < high {
                let mid = (low + high) / 2
                if sorted[mid] <= x + eps { low = mid + 1 } else { high = mid }
            }
            return low
        }
        /// How many sizes are below `x` (with the tolerance).
        func countBelow(_ x: Double) -> Int {
            var low = 0, high = sorted.count
            while low < high {
                let mid = (low + high) / 2
                if sorted[mid] < x - eps { low = mid + 1 } else { high = mid }
            }
            return low
        }
        let half = capacity / 2
        let upToHalf = countAtMost(half)
        var thresholds = [0.0]
        var previous = -1.0
        for s in sorted[..<upToHalf] where s != previous {
            thresholds.append(s)
            previous = s
        }
        var best = Int((prefix[sorted.count] / capacity - eps).rounded(.up))
        for alpha in thresholds {
            let large = countAtMost(capacity - alpha)       // sizes ≤ C − α
            let j1 = sorted.count - large                      // > C − α
            let j2 = large - upToHalf                          // (C/2, C − α]
            let j2Size = prefix[large] - prefix[upToHalf]
            let from = countBelow(alpha)
            let j3Size = prefix[upToHalf] - prefix[from]       // [α, C/2]
            let spill = j3Size - (Double(j2) * capacity - j2Size)
            let extra = spill > eps ? Int((spill / capacity - eps).rounded(.up)) : 0
            best = max(best, j1 + j2 + extra)
        }
        return best
    }
}
