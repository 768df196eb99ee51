@testable import DCApplyCore
import Testing

/// The exact pairing: a maximum matching, checked against brute force, and the packing it gives.
struct PairPackingTests {
    /// The largest matching by trying every subset of edges (small graphs only).
    static func bruteForce(_ n: Int, _ edges: [(Int, Int)]) -> Int {
        var best = 0
        for mask in 0..<(1 << edges.count) {
            var used = Set<Int>(), ok = true, size = 0
            for (e, (a, b)) in edges.enumerated() where mask & (1 << e) != 0 {
                if used.contains(a) || used.contains(b) { ok = false; break }
                used.formUnion([a, b])
                size += 1
            }
            if ok { best = max(best, size) }
        }
        return best
    }

    @Test func blossomMatchingIsMaximumOnSmallGraphs() {
        var state: UInt64 = 42
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        for _ in 0..<200 {
            let n = 2 + next(8)
            var edges: [(Int, Int)] = []
            for a in 0..<n { for b in (a + 1)..<n where next(3) == 0 { edges.append((a, b)) } }
            guard edges.count <= 14 else { continue }
            var adjacent = Array(repeating: [Int](), count: n)
            for (a, b) in edges { adjacent[a].append(b); adjacent[b].append(a) }
            let mate = PairPacking.maximumMatching(adjacent)
            // A matching: symmetric, along edges.
            for v in 0..<n where mate[v] >= 0 {
                #expect(mate[mate[v]] == v)
                #expect(adjacent[v].contains(mate[v]))
            }
            #expect(mate.filter { $0 >= 0 }.count / 2 == Self.bruteForce(n, edges))
        }
    }

    @Test func augmentsPastAGreedyStart() {
        // A triangle 1-2-3 with tails 0-1, 3-4 and 2-5. The greedy start pairs 0-1 and 2-3 and
        // strands 4 and 5; the maximum pairs all six (0-1, 2-5, 3-4).
        let adjacent = [[1], [2, 3, 0], [1, 3, 5], [1, 2, 4], [3], [2]]
        let mate = PairPacking.maximumMatching(adjacent)
        #expect(mate == [1, 0, 5, 4, 3, 2])
    }

    @Test func packsByMatchingWhenNoThreeFitTogether() {
        // Capacity 10 in two resources; items over a third of a node in some resource, so no
        // three fit. The pairs that fit form a path 0-1-2-3: the optimum pairs 0-1 and 2-3.
        let demand: [[Double]] = [[6, 1], [4, 6], [5, 4], [5, 5]]
        let bins = PairPacking.optimal(demand, capacity: [10, 10])
        #expect(bins?.count == 2)
        for bin in bins ?? [] {
            for k in 0..<2 { #expect(bin.reduce(0.0) { $0 + demand[$1][k] } <= 10) }
        }
        // Three small ones fit together: not a matching problem.
        #expect(PairPacking.optimal([[3, 3], [3, 3], [3, 3]], capacity: [10, 10]) == nil)
    }
}
