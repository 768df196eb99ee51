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
