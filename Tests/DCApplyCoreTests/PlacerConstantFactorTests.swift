@testable import DCApplyCore
import Testing

/// Issue 18, the placer's constant factors: the candidate index keeps the first empty node of
/// each class per group of equal power rank and capacity as nodes are taken, and
/// ``GangDemand`` answers exactly as ``GangRule`` does (docs/decisions.md 380–382).
struct PlacerConstantFactorTests {
    /// Two racks of three empty nodes in pool `p`: one class per rack, one group.
    static func model() -> PlacementModel {
        let site = TestSite(manifests: TestSite.manifests(PlacementTests.pool + "\n---\n" + PlacementTests.workload("w", replicas: 1, gpus: 2)),
                            inventory: TestSite.gpuInventory(racks: 2, perRack: 3))
        var model = PlacementModel(desired: site.desired, observed: site.observed)
        for node in model.nodes.indices { model.pool[node] = "p" }
        return model
    }

    static func heads(_ index: CandidateIndex, pool: Int) -> [Int] {
        index.emptyGroups(pool: pool).flatMap { index.groups[$0].heads }.sorted()
    }

    @Test func theFirstEmptyNodeOfAClassMovesOnAsItIsTaken() throws {
        let model = Self.model()
        #expect(model.nodes.map(\.name) == ["g-r01-n01", "g-r01-n02", "g-r01-n03", "g-r02-n01", "g-r02-n02", "g-r02-n03"])
        var index = CandidateIndex(model: model, reserved: [])
        let pool = try #require(index.poolID("p"))
        #expect(index.poolID("nope") == nil)
        #expect(index.emptyGroups(pool: pool).count == 1)
        #expect(Self.heads(index, pool: pool) == [0, 3])
        // A node after the first is taken: the first stays.
        index.markBusy(4, pool: "p", model: model, reserved: [])
        #expect(Self.heads(index, pool: pool) == [0, 3])
        // The first is taken: the next empty one of its class follows, passing over node 4.
        index.markBusy(3, pool: "p", model: model, reserved: [])
        #expect(Self.heads(index, pool: pool) == [0, 5])
        // A class with no empty node left leaves its group.
        for node in [0, 1, 2] { index.markBusy(node, pool: "p", model: model, reserved: []) }
        #expect(Self.heads(index, pool: pool) == [5])
        index.markBusy(5, pool: "p", model: model, reserved: [])
        #expect(Self.heads(index, pool: pool).isEmpty)
        // Every taken node is busy now, in one bucket (nothing used): offered to new replicas.
        var live: [Int] = [99]
        index.liveBuckets(pool: pool, model: model, into: &live)
        #expect(live.count == 1)
        #expect(live.first.map { index.buckets[$0].nodes } == [0, 1, 2, 3, 4, 5])
        #expect(index.freeNodes(pool: "p").sorted() == [0, 1, 2, 3, 4, 5])
    }

    @Test func busyNodesWithTooFewGPUsLeftAreDroppedOnce() throws {
        var model = Self.model()
        var index = CandidateIndex(model: model, reserved: [])
        let pool = try #require(index.poolID("p"))
        // Node 0 uses 7 of its 8 GPUs: the workload asks for 2, so it can take nothing more.
        model.setUsage(0, ["gpus": 7, "cpuCores": 8], on: true)
        index.markBusy(0, pool: "p", model: model, reserved: [])
        model.setUsage(3, ["gpus": 2, "cpuCores": 8], on: true)
        index.markBusy(3, pool: "p", model: model, reserved: [])
        var live: [Int] = []
        index.liveBuckets(pool: pool, model: model, into: &live)
        #expect(live.flatMap { index.buckets[$0].nodes } == [3])
        #expect(index.takeDropped() == [0])
        #expect(index.takeDropped().isEmpty)
        index.liveBuckets(pool: pool, model: model, into: &live)
        #expect(live.flatMap { index.buckets[$0].nodes } == [3])
        #expect(index.takeDropped().isEmpty)
        #expect(!index.freeNodes(pool: "p").contains(0))
    }

    @Test func gangDemandAnswersAsTheGangRule() throws {
        let site = GangDomainRuleTests.site()
        let model = PlacementModel(desired: site.desired, observed: site.observed)
        let gang = try #require(site.desired.workloads["g"])
        var wide = gang
        wide.colocate = nil
        var hungry = gang
        hungry.resources["cpuCores"] = 129
        var odd = gang
        odd.resources["fpgas"] = 1
        let all = Array(model.nodes.indices)
        var sets: [[Int]] = [[]]
        for node in all { sets += sets.map { $0 + [node] } }
        #expect(sets.count == 16)
        for workload in [gang, wide, hungry, odd] {
            let demand = GangDemand(workload, model: model)
            for nodes in sets {
                #expect(demand.colocated(nodes, model: model) == GangRule.colocated(nodes, colocate: workload.colocate, model: model), "\(nodes)")
                #expect(demand.covers(nodes, model: model) == GangRule.covers(nodes, workload, model: model), "\(nodes)")
            }
        }
        // Some sets pass and some fail each check, so the comparison above can tell them apart.
        let demand = GangDemand(gang, model: model)
        #expect(sets.filter { demand.colocated($0, model: model) }.count == 3)
        #expect(sets.filter { demand.covers($0, model: model) }.count == 11)
        #expect(sets.filter { GangDemand(hungry, model: model).covers($0, model: model) }.count == 5)
        #expect(!sets.contains { GangDemand(odd, model: model).covers($0, model: model) })
    }
}
