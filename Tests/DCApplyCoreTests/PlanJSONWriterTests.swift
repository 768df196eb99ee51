@testable import DCApplyCore
import Foundation
import Testing

/// The hand-written plan writer must produce exactly the bytes `JSONEncoder` produced for
/// ``PlanDocument`` (decision 390): every plan below is written both ways and compared.
@Suite struct PlanJSONWriterTests {
    /// What the plan's JSON was before the writer: `JSONEncoder` over the Codable document.
    private func encoderBytes(_ plan: Plan) -> [UInt8] { Array(PlanDocument.encode(PlanDocument(plan)).utf8) }

    private func expectSameBytes(_ plan: Plan, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let written = plan.jsonBytes
        let encoded = encoderBytes(plan)
        #expect(written == encoded, "writer:\n\(String(decoding: written ?? [], as: UTF8.self))\nencoder:\n\(String(decoding: encoded, as: UTF8.self))",
                sourceLocation: sourceLocation)
        #expect(plan.json == String(decoding: encoded, as: UTF8.self), sourceLocation: sourceLocation)
    }

    @Test func aPlacedSiteIsWrittenAsTheEncoderWritesIt() {
        let site = TestSite(manifests: TestSite.manifests("""
            apiVersion: dcapply/v1
            kind: HardwarePool
            metadata: {name: train}
            spec: {site: s1, size: {nodes: 6}}
            ---
            apiVersion: dcapply/v1
            kind: HardwarePool
            metadata: {name: spare}
            spec: {site: s1, size: {gpus: 12}}
            ---
            apiVersion: dcapply/v1
            kind: Workload
            metadata: {name: llama}
            spec: {pool: train, replicas: 5, resources: {gpus: 8, cpuCores: 8}}
            """, energy: "powerOffIdle: true"),
            inventory: TestSite.gpuInventory(racks: 3, perRack: 4))
        let plan = site.plan()
        #expect(!plan.changes.isEmpty)
        expectSameBytes(plan)
        // And the replan against that target: no changes, the "No changes" summary.
        expectSameBytes(site.plan(current: plan.target))
    }

    @Test func oddStringsNumbersAndKeysAreWrittenAsTheEncoderWritesThem() {
        let odd = "quote \" backslash \\ slash / tab \t newline \n return \r bell \u{07} unit \u{1F} del \u{7F} é 日本 🚀 \u{0C}\u{08}"
        let doubles: [Double] = [0.1, 1e-7, 1e21, -0.0, 0, 123_456_789.123, 1e16, Double.leastNonzeroMagnitude, 2.5, -3, 1.7e307, 0.30000000000000004]
        var target = TargetState()
        var draws: [String: Double] = [:]
        // Keys whose order differs between Swift's String < and UTF-8 bytes, and between numeric and plain order.
        let names = ["node-10", "node-9", "Zed", "alpha", "é", "z", "e\u{301}", "a/b", odd, ""]
        for (index, name) in names.enumerated() {
            target.nodes[name] = .init(pool: index % 3 == 0 ? nil : "pool-\(index)", powerState: index % 2 == 0 ? .on : .off)
            draws[name] = doubles[index % doubles.count] / 10
        }
        target.workloads = ["w-b": .init(replicas: [ReplicaPlacement(index: 1, nodes: ["node-9", odd]), ReplicaPlacement(index: 0, nodes: [])], unplaced: 2),
                            "w-a": .init(replicas: [], unplaced: 0)]
        target.storageTiers = ["fast": .init(drives: [DriveAddress(node: "node-9", drive: "nvme0")], rawTiB: 1.0 / 3.0, satisfied: true),
                               "empty": .init(drives: [], rawTiB: 0, satisfied: false)]
        target.grants = ["team": ["train", "infer"], "none": []]
        target.drained = ["node-10": .failed, "Zed": .powerOff]
        let changes = [
            Change(.assign, ResourceAddress("Node", "node-9"), from: nil, to: "NodePool/pool-1", reason: odd),
            Change(.move, ResourceAddress("Workload", "w-b"), from: "Node/a", to: "Node/b", replica: 1, fromNodes: ["a"], toNodes: ["b", "c"],
                   reason: "moved", subject: ResourceAddress("Workload", "other"), actuator: "slurm"),
            Change(.powerOff, ResourceAddress("Node", "é"), reason: ""),
        ]
        for (index, value) in doubles.enumerated() {
            var plan = Plan(revision: index % 2 == 0 ? nil : "abc\(odd)", changes: index % 3 == 0 ? [] : changes, target: target, targetDrawW: draws,
                            energy: EnergyEstimate(currentW: value, plannedW: -value, lowerBoundW: index % 2 == 0 ? nil : value * 3,
                                                   poweredNodes: index, poweredNodesLowerBound: index % 2 == 0 ? index : nil),
                            problems: index % 4 == 0 ? [] : [Problem(.error, ResourceAddress("Workload", "w-b"), odd), Problem(.warning, ResourceAddress("Site", "s1"), "w")],
                            manifestDigest: "sha256:\(index)", stateSerial: index * 7, nodeCount: names.count)
            plan.moves = Plan.Moves(count: index, required: index / 2)
            plan.observedDigest = index % 2 == 0 ? "" : "sha256:obs"
            plan.waves = index + 1
            expectSameBytes(plan)
        }
        // Every container empty.
        expectSameBytes(Plan(revision: nil, changes: [], target: .empty, targetDrawW: [:],
                             energy: EnergyEstimate(currentW: 0, plannedW: 0, lowerBoundW: nil, poweredNodes: 0, poweredNodesLowerBound: nil),
                             problems: [], manifestDigest: "", stateSerial: 0, nodeCount: 0))
    }

    @Test func aNumberJSONCannotHoldFallsBackToTheEncoder() {
        let plan = Plan(revision: nil, changes: [], target: .empty, targetDrawW: [:],
                        energy: EnergyEstimate(currentW: .nan, plannedW: .infinity, lowerBoundW: nil, poweredNodes: 0, poweredNodesLowerBound: nil),
                        problems: [], manifestDigest: "", stateSerial: 0, nodeCount: 0)
        #expect(plan.jsonBytes == nil)
        #expect(plan.json == PlanDocument.encode(PlanDocument(plan)))
    }

    @Test func aWrittenPlanReadsBackAsTheSamePlan() throws {
        let site = TestSite(manifests: TestSite.manifests("""
            apiVersion: dcapply/v1
            kind: HardwarePool
            metadata: {name: train}
            spec: {site: s1}
            ---
            apiVersion: dcapply/v1
            kind: Workload
            metadata: {name: llama}
            spec: {pool: train, replicas: 3, resources: {gpus: 8, cpuCores: 8}}
            """), inventory: TestSite.gpuInventory(racks: 2, perRack: 2))
        let plan = site.plan()
        let read = try Plan(json: plan.json, source: "saved.json")
        #expect(read.target == plan.target)
        #expect(read.json == plan.json)
    }
}
