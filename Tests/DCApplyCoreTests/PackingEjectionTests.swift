@testable import DCApplyCore
import Testing

/// Decision 430: the improver's ejection orders a bin's replicas by insertion and reads the
/// state in plain loops; it must choose exactly what the sorted, closure-based form chose.
struct PackingEjectionTests {
    /// The form before decision 430, kept as the reference.
    static func reference(_ improver: PackingImprover, for item: Int, from bin: Int) -> [Int]? {
        let candidates = improver.bins[bin].items.sorted { (improver.items[$0].weight, $0) < (improver.items[$1].weight, $1) }
        var ejected: [Int] = []
        var used = improver.bins[bin].used
        let demand = improver.items[item].demand
        let keys = improver.keys.indices
        func roomy() -> Bool { keys.allSatisfy { CapacityRule.fits(used[$0] + demand[$0], capacity: improver.bins[bin].capacity[$0]) } }
        for other in candidates where !roomy() {
            let helps = keys.contains { !CapacityRule.fits(used[$0] + demand[$0], capacity: improver.bins[bin].capacity[$0]) && improver.items[other].demand[$0] > 0 }
            guard helps else { continue }
            ejected.append(other)
            for k in keys { used[k] -= improver.items[other].demand[k] }
        }
        guard roomy(), !ejected.isEmpty else { return nil }
        guard ejected.reduce(0, { $0 + improver.items[$1].weight }) < improver.items[item].weight * 1.0001 || ejected.count == 1 else { return nil }
        guard improver.model.pool[improver.bins[bin].node] == improver.workloadPools[improver.items[item].workload] else { return nil }
        let w = improver.items[item].workload
        if improver.spreads[w].spreads {
            let sameWorkload = ejected.filter { improver.items[$0].workload == w }.count
            if !improver.spreads[w].allows(node: improver.bins[bin].node, leaving: sameWorkload) { return nil }
        }
        if improver.rackCap[improver.bins[bin].rack].isFinite {
            var removed = [Double](repeating: 0, count: improver.keys.count)
            for other in ejected { for k in keys { removed[k] += improver.items[other].demand[k] } }
            if !improver.powerAllows(adding: demand, removing: removed, to: bin) { return nil }
        }
        return ejected
    }

    static let workloads = PlacementTests.workload("a", replicas: 5, gpus: 2)
        + "\n---\n" + PlacementTests.workload("b", replicas: 3, gpus: 3)
        + "\n---\n" + PlacementTests.workload("c", replicas: 2, gpus: 6)

    @Test(arguments: ["powerOffIdle: true", "rackPowerCapKW: 30, powerOffIdle: true"])
    func ejectionChoosesWhatTheSortedFormChose(energy: String) {
        let improver = PlacementKernelTests.improver(Self.workloads, energy: energy)
        #expect(improver.items.count == 10)
        var found = 0
        for item in improver.items.indices {
            for bin in improver.bins.indices where bin != improver.items[item].bin {
                let ejected = improver.ejection(for: item, from: bin)
                #expect(ejected == Self.reference(improver, for: item, from: bin), "item \(item) bin \(bin)")
                if let ejected {
                    found += 1
                    // Lightest first, ties by position.
                    let order = ejected.map { (improver.items[$0].weight, $0) }
                    #expect(zip(order, order.dropFirst()).allSatisfy { $0 < $1 })
                }
            }
        }
        // The comparison means something only if some swaps are possible.
        #expect(found > 0)
    }
}
