@testable import DCApplyCore
import Testing

/// Issue 18: single-node replicas search busy nodes bucket by bucket, least slack first; a
/// bucket that cannot take the replica is passed over. The choice is the full scan's.
struct NodeSearchBucketTests {
    static func site(_ workloads: [String]) -> TestSite {
        TestSite(manifests: TestSite.manifests(([PlacementTests.pool] + workloads).joined(separator: "\n---\n")),
                 inventory: TestSite.gpuInventory(racks: 1, perRack: 2))
    }

    static func nodes(_ result: PlacementResult, _ workload: String) -> [String] {
        result.replicas(of: workload).sorted { $0.index < $1.index }.flatMap(\.nodes)
    }

    @Test func theFullestNodeThatFitsTakesTheNextReplica() {
        // 3 GPUs each on 8-GPU nodes: two fill g-r01-n01 to 6, which then cannot take a third.
        let result = Self.site([PlacementTests.workload("w", replicas: 4, gpus: 3)]).solve()
        #expect(Self.nodes(result, "w") == ["g-r01-n01", "g-r01-n01", "g-r01-n02", "g-r01-n02"])
    }

    @Test func leastSlackWinsAcrossBuckets() {
        // a (6 GPUs) takes g-r01-n01, c (4) cannot join it and takes g-r01-n02; b's first
        // replica fills n01 exactly (no slack), the second finds n01 full and goes to n02.
        let result = Self.site([
            PlacementTests.workload("a", replicas: 1, gpus: 6, extra: ", priority: 900"),
            PlacementTests.workload("c", replicas: 1, gpus: 4, extra: ", priority: 800"),
            PlacementTests.workload("b", replicas: 2, gpus: 2, extra: ", priority: 700"),
        ]).solve()
        #expect(Self.nodes(result, "a") == ["g-r01-n01"])
        #expect(Self.nodes(result, "c") == ["g-r01-n02"])
        #expect(Self.nodes(result, "b") == ["g-r01-n01", "g-r01-n02"])
    }
}
