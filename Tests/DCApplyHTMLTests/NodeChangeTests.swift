import DCApplyCore
@testable import DCApplyHTML
import Testing

@Suite("NodeChange: which cells a plan marks")
struct NodeChangeTests {
    @Test("place gains, evict loses, a move marks both ends, drives and nodes by name, grants none")
    func classifies() {
        let changes = [
            Change(.place, ResourceAddress("Workload", "w"), replica: 0, fromNodes: [], toNodes: ["a"], reason: ""),
            Change(.evict, ResourceAddress("Workload", "w"), replica: 1, fromNodes: ["b"], toNodes: [], reason: ""),
            Change(.move, ResourceAddress("Workload", "v"), replica: 0, fromNodes: ["c"], toNodes: ["d"], reason: ""),
            Change(.attachDrive, ResourceAddress("Drive", "e/nvme0"), reason: ""),
            Change(.powerOff, ResourceAddress.node("f"), reason: ""),
            Change(.drain, ResourceAddress.node("g"), reason: ""),
            Change(.grant, ResourceAddress("AccessPolicy", "ops"), reason: ""),
            // A node that gains one replica and loses another has its work moved.
            Change(.place, ResourceAddress("Workload", "x"), replica: 0, toNodes: ["h"], reason: ""),
            Change(.evict, ResourceAddress("Workload", "y"), replica: 0, fromNodes: ["h"], reason: ""),
        ]
        #expect(NodeChange.of(changes) == ["a": .gain, "b": .lose, "c": .move, "d": .move, "e": .gain, "f": .lose, "g": .other, "h": .move])
    }

    @Test("no changes mark no node")
    func empty() {
        #expect(NodeChange.of([]).isEmpty)
    }
}
