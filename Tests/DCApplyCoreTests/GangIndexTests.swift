@testable import DCApplyCore
import Testing

/// Issue 18: the gang index offers, per domain and power rank, the free nodes in name order,
/// and keeps its counts as nodes are taken and reservations change.
struct GangIndexTests {
    /// Eight nodes: domain id `node % 3` (0, 1, 2), domains visited 2 then 0 (1 has no node in
    /// the index: 1, 4 and 7 are left out); power rank `node % 2 == 0 ? 0 : 2`; 6 reserved.
    static func index() -> GangIndex {
        GangIndex(nodes: [6, 0, 2, 3, 5, 8], nodeCount: 9, domain: { $0 % 3 }, order: [2, 1, 0],
                  rank: { $0 % 2 == 0 ? 0 : 2 }, unreserved: { $0 != 6 })
    }

    static func visit(_ index: GangIndex, slot: Int, skip: (Int) -> Bool = { _ in false }) -> [Int] {
        var seen: [Int] = []
        index.forEachFree(slot: slot, skip: skip) { seen.append($0); return false }
        return seen
    }

    @Test func slotsFollowTheVisitingOrderAndLeaveOutEmptyDomains() {
        let index = Self.index()
        #expect(index.slotCount == 2)
        // Slot 0 is domain 2 (nodes 2, 5, 8), slot 1 domain 0 (nodes 0, 3, 6).
        #expect(Self.visit(index, slot: 0) == [2, 8, 5])
        #expect(Self.visit(index, slot: 1) == [0, 6, 3])
    }

    @Test func countsPerRankWithAndWithoutReservations() {
        let index = Self.index()
        #expect(index.count(slot: 1, rank: 0, respectingReservations: false) == 2)
        #expect(index.count(slot: 1, rank: 0, respectingReservations: true) == 1)
        #expect(index.count(slot: 1, rank: 1, respectingReservations: false) == 0)
        #expect(index.count(slot: 1, rank: 2, respectingReservations: true) == 1)
        #expect(index.count(slot: 0, rank: 0, respectingReservations: true) == 2)
    }

    @Test func aTakenNodeIsNeitherCountedNorVisited() {
        var index = Self.index()
        index.remove(0, unreserved: true)
        index.remove(8, unreserved: true)
        index.remove(8, unreserved: true)  // twice: nothing more happens
        index.remove(1, unreserved: true)  // never in the index
        #expect(Self.visit(index, slot: 0) == [2, 5])
        #expect(Self.visit(index, slot: 1) == [6, 3])
        #expect(index.count(slot: 0, rank: 0, respectingReservations: false) == 1)
        #expect(index.count(slot: 1, rank: 0, respectingReservations: true) == 0)
        #expect(index.count(slot: 1, rank: 0, respectingReservations: false) == 1)
    }

    @Test func aReleasedReservationCountsAgain() {
        var index = Self.index()
        index.setUnreserved(6, true)
        #expect(index.count(slot: 1, rank: 0, respectingReservations: true) == 2)
        index.setUnreserved(6, false)
        index.remove(6, unreserved: false)
        #expect(index.count(slot: 1, rank: 0, respectingReservations: true) == 1)
        #expect(index.count(slot: 1, rank: 0, respectingReservations: false) == 1)
    }

    @Test func skippedNodesAreLeftOutOfTheVisit() {
        #expect(Self.visit(Self.index(), slot: 1, skip: { $0 == 6 }) == [0, 3])
    }
}
