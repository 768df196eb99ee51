@testable import DCApplyCore
import Testing

/// Martello and Toth's L2 per resource: above the load bound where large items cannot share a
/// bin with middling ones, and never above the optimum (checked by brute force).
struct PackingLowerBoundTests {
    /// The fewest bins of `capacity` that hold `sizes`, by trying every assignment (small only).
    static func optimum(_ sizes: [Double], capacity: Double) -> Int {
        var best = sizes.count
        var loads: [Double] = []
        func place(_ i: Int) {
            if loads.count >= best { return }
            if i == sizes.count { best = loads.count; return }
            for b in loads.indices where loads[b] + sizes[i] <= capacity {
                loads[b] += sizes[i]
                place(i + 1)
                loads[b] -= sizes[i]
            }
            loads.append(sizes[i])
            place(i + 1)
            loads.removeLast()
        }
        place(0)
        return best
    }

    @Test func largeItemsThatCannotShareRaiseTheBoundAboveTheLoad() {
        // Load 330 of 100: four bins by volume. No 40 fits beside a 70, and two 40s share a bin:
        // three bins for the 70s and two for the 40s.
        let sizes: [Double] = [70, 70, 70, 40, 40, 40]
        #expect(PackingLowerBound.l2(sizes, capacity: 100) == 5)
        #expect(Self.optimum(sizes, capacity: 100) == 5)
        // An item of exactly half the capacity shares with another such, not with a larger one.
        #expect(PackingLowerBound.l2([51, 51, 51, 51, 50, 50], capacity: 100) == 5)
    }

    @Test func neverAboveTheOptimumAndNeverBelowTheLoadBound() {
        var state: UInt64 = 7
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        for _ in 0..<300 {
            let sizes = (0..<(2 + next(8))).map { _ in Double(1 + next(100)) }
            let bound = PackingLowerBound.l2(sizes, capacity: 100)
            let load = Int((sizes.reduce(0, +) / 100).rounded(.up))
            #expect(bound >= load, "\(sizes)")
            #expect(bound <= Self.optimum(sizes, capacity: 100), "\(sizes)")
        }
    }

    @Test func theVectorBoundIsTheLargestOverTheResources() {
        // Resource 1 alone needs 5 bins (as above); resource 2 alone 1.
        let demand: [[Double]] = [[70, 1], [70, 1], [70, 1], [40, 1], [40, 1], [40, 1]]
        #expect(PackingLowerBound.l2(demand, capacity: [100, 100]) == 5)
        #expect(PackingLowerBound.l2(demand.map { [$0[1], $0[0]] }, capacity: [100, 100]) == 5)
        // Nothing to pack: no bin.
        #expect(PackingLowerBound.l2([Double](), capacity: 100) == 0)
    }

}
