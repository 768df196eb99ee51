@testable import DCApplyCore
import Testing

/// The packing search alone: optimal where the optimum is known by construction, never
/// overfilling a bin (checked independently), and the same result for the same seed.
struct VectorPackingSearchTests {
    /// `bins` bins of (100, 100, 100), each cut into three items that fill it exactly in every
    /// resource; the items shuffled. The optimum is `bins`, and only exact fills reach it.
    static func exactFills(bins: Int, seed: UInt64) -> [[Double]] {
        var state = seed
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        var items: [[Double]] = []
        for _ in 0..<bins {
            var parts: [[Double]] = [[], [], []]
            for _ in 0..<3 {
                let a = 15 + next(40), b = 15 + next(40)
                parts[0].append(Double(a))
                parts[1].append(Double(b))
                parts[2].append(Double(100 - a - b))
            }
            items += parts
        }
        for i in stride(from: items.count - 1, to: 0, by: -1) { items.swapAt(i, next(i + 1)) }
        return items
    }

    /// One item per bin to start with: every bin open.
    static func search(_ items: [[Double]], seed: UInt64, work: Int = 5_000_000) -> VectorPackingSearch {
        VectorPackingSearch(dims: 3, demand: items, room: items.map { _ in [100, 100, 100] },
                            assignment: Array(items.indices), open: items.map { _ in true },
                            pinned: items.map { _ in false }, work: work, seed: seed)
    }

    /// Independent check: every item in an open bin, no bin over 100 in any resource.
    static func check(_ result: VectorPackingSearch, _ items: [[Double]]) {
        var load = Array(repeating: [0.0, 0, 0], count: items.count)
        for (item, bin) in result.bin.enumerated() {
            #expect(bin >= 0 && result.open[bin], "item \(item) is not in an open bin")
            guard bin >= 0 else { continue }
            for k in 0..<3 { load[bin][k] += items[item][k] }
        }
        for (bin, l) in load.enumerated() { #expect(l.allSatisfy { $0 <= 100 + 1e-9 }, "bin \(bin) holds \(l)") }
        #expect(result.openCount == Set(result.bin).count)
    }

    @Test(arguments: [(4, 1 as UInt64), (6, 2), (9, 3)])
    func reachesTheOptimumOfExactFills(bins: Int, seed: UInt64) {
        let items = Self.exactFills(bins: bins, seed: seed)
        var search = Self.search(items, seed: 1)
        search.run(floor: bins)
        Self.check(search, items)
        #expect(search.openCount == bins)
    }

    @Test func stopsOnceAtTheFloorAndNeverOverfillsABin() {
        // The floor is where the search may stop, not a target: one attempt can close up to
        // three bins, so it ends between the true optimum (10) and the floor.
        let items = Self.exactFills(bins: 10, seed: 7)
        var search = Self.search(items, seed: 3)
        search.run(floor: 12)
        Self.check(search, items)
        #expect(search.openCount <= 12)
        #expect(search.openCount >= 10)
        #expect(search.work > 0)  // it stopped at the floor, not for want of work
    }

    @Test func theSameSeedGivesTheSamePacking() {
        let items = Self.exactFills(bins: 12, seed: 11)
        var first = Self.search(items, seed: 5, work: 2_000_000)
        var second = Self.search(items, seed: 5, work: 2_000_000)
        first.run(floor: 12)
        second.run(floor: 12)
        #expect(first.bin == second.bin)
        #expect(first.open == second.open)
    }

    @Test func pinnedBinsStayOpenAndARunOutOfWorkKeepsTheLastCompletePacking() {
        let items = Self.exactFills(bins: 8, seed: 5)
        var pinned = items.map { _ in false }
        pinned[0] = true
        var search = VectorPackingSearch(dims: 3, demand: items, room: items.map { _ in [100, 100, 100] },
                                         assignment: Array(items.indices), open: items.map { _ in true },
                                         pinned: pinned, work: 5_000, seed: 1)
        search.run(floor: 8)
        Self.check(search, items)
        #expect(search.open[0])
        #expect(search.openCount < items.count)  // a little work still closes a few bins
    }
}

struct ConflictCliqueTests {
    @Test func countsReplicasThatCannotShareANode() {
        // Three more than half of r1 (they conflict pairwise); two more than half of r2 (they
        // conflict with each other, not with the first three); one small.
        let demands: [[Double]] = [[60, 10], [55, 10], [70, 10], [10, 60], [10, 51], [5, 5]]
        #expect(PackingImprover.conflictClique(demands, largest: [100, 100]) == 3)
        // Nothing conflicts: one node could hold any two.
        #expect(PackingImprover.conflictClique([[30, 30], [30, 30], [40, 40]], largest: [100, 100]) == 1)
        // The large one conflicts with both others, which fit together: two.
        #expect(PackingImprover.conflictClique([[51, 0], [0, 51], [60, 60]], largest: [100, 100]) == 2)
    }
}

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
