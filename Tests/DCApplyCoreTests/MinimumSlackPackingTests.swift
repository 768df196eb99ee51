@testable import DCApplyCore
import Testing

/// Minimum bin slack: each bin filled with the subset that leaves it the least room, in the
/// order given; every item placed once and no bin overfilled.
struct MinimumSlackPackingTests {
    /// Independent check: every item in a bin of `room`, none over it; the bins used.
    static func check(_ assignment: [Int], _ demand: [[Double]], room: [[Double]]) -> Set<Int> {
        var load = room.map { $0.map { _ in 0.0 } }
        for (item, b) in assignment.enumerated() {
            #expect(room.indices.contains(b), "item \(item) is in no bin")
            guard room.indices.contains(b) else { continue }
            for k in demand[item].indices { load[b][k] += demand[item][k] }
        }
        for b in room.indices { #expect(zip(load[b], room[b]).allSatisfy { $0 <= $1 + 1e-9 }, "bin \(b) holds \(load[b])") }
        return Set(assignment)
    }

    @Test func fillsBinsExactlyWhereDecreasingFirstFitOpensOneMore() {
        // First-fit decreasing: [49, 49], [26, 26, 25], [25]. Exact fills: 49 + 26 + 25 twice.
        let demand: [[Double]] = [[49], [49], [26], [26], [25], [25]]
        let room: [[Double]] = Array(repeating: [100], count: 6)
        let packing = MinimumSlackPacking.pack(demand, room: room, order: Array(0..<6), nodeLimit: 1_000)
        let used = packing.map { Self.check($0.assignment, demand, room: room) }
        #expect(used == [0, 1])
        #expect((packing?.nodes ?? 0) > 0)
    }

    @Test func followsTheOrderAndReportsWhatDoesNotFit() {
        let demand: [[Double]] = [[60, 10], [50, 50], [40, 40], [10, 60]]
        let room: [[Double]] = [[100, 100], [100, 100], [80, 80]]
        // The third bin first: its fullest fill of (80, 80) is [60, 10] + [10, 60] (size 1.4 of
        // the largest room, more than [50, 50] alone); then the first bin takes the other two.
        let packing = MinimumSlackPacking.pack(demand, room: room, order: [2, 0, 1], nodeLimit: 1_000)
        #expect(packing?.assignment == [2, 0, 0, 2])
        if let packing { #expect(Self.check(packing.assignment, demand, room: room) == [0, 2]) }
        // Two bins of 50 cannot hold 170 of the first resource.
        #expect(MinimumSlackPacking.pack(demand, room: [[50, 50], [50, 50]], order: [0, 1], nodeLimit: 1_000) == nil)
    }

    @Test func itemsThatTakeNothingGoIntoTheFirstBin() {
        let demand: [[Double]] = [[0, 0], [30, 30]]
        let packing = MinimumSlackPacking.pack(demand, room: [[100, 100], [100, 100]], order: [1, 0], nodeLimit: 10)
        #expect(packing?.assignment == [1, 1])
    }
}
