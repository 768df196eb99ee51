import DCApplyCore
import DCApplySlurm
import Foundation
import Logging
import Testing

/// The actuator's folding of waves into whole objects, against an in-memory Slurm.
struct SlurmActuatorTests {
    static let names = (1...4).map { "n\($0)" }

    static func context(applied: TargetState = TargetState(), target: TargetState, store: InMemoryStateStore) throws -> ActuatorContext {
        let manifest = """
            apiVersion: dcapply/v1
            kind: Site
            metadata: {name: lab}
            spec:
              failureDomains: [rack]
              provider: {local: {inventory: inventory.yaml}}
              actuators: [{slurm: {}}]
            """
        let parsed = ManifestParser().parse([SourceFile(path: "/lab/site.yaml", text: manifest)])
        let site = try #require(parsed.state.sites["lab"], "\(parsed.diagnostics)")
        var observed = ObservedState()
        for name in names {
            observed.nodes[name] = ObservedNode(name: name, site: "lab", labels: ["rack": "r1"], gpu: nil, capacity: [:], drives: [],
                                                power: PowerRating(idleW: 100, maxW: 1000), health: .healthy, powerState: .on)
        }
        return ActuatorContext(site: site, desired: parsed.state, observed: observed, applied: applied, target: target,
                               records: ActuatorRecords(store: store, site: "lab", actuator: "slurm"), logger: Logger(label: "test"))
    }

    static func assign(_ node: String) -> Change { Change(.assign, .node(node), to: "HardwarePool/gpu", reason: "test") }
    static func place(_ replica: Int, _ nodes: [String]) -> Change {
        Change(.place, ResourceAddress(.workload, "llm"), replica: replica, toNodes: nodes, reason: "test")
    }

    @Test func eachWaveWritesEachTouchedObjectOnceAndAResentWaveWritesNothing() async throws {
        let slurm = InMemorySlurm(nodes: Self.names)
        let actuator = SlurmActuator(settings: SlurmSettings(), control: slurm)
        let store = InMemoryStateStore()
        let context = try Self.context(target: TargetState(), store: store)

        let wave1 = Self.names.enumerated().map { ActuatorAction(id: "1.\($0.offset)", change: Self.assign($0.element)) }
        let results = try await actuator.apply(wave1, context: context)
        #expect(results.map(\.status) == Array(repeating: .done, count: 4))
        let wave2 = [ActuatorAction(id: "1.4", change: Self.place(0, ["n1"])), ActuatorAction(id: "1.5", change: Self.place(1, ["n2"]))]
        _ = try await actuator.apply(wave2, context: context)
        #expect(slurm.writes == ["create PartitionName=gpu Nodes=n[1-4] State=UP",
                                 "create ReservationName=llm Nodes=n[1-2] StartTime=now Duration=infinite Accounts=dcapply Flags=OVERLAP"])

        // A later wave moves one replica: the reservation is written whole, from its record.
        let move = Change(.move, ResourceAddress(.workload, "llm"), replica: 1, fromNodes: ["n2"], toNodes: ["n3"], reason: "test")
        _ = try await actuator.apply([ActuatorAction(id: "2.0", change: move)], context: context)
        #expect(slurm.reservation("llm") == ["n1", "n3"])
        #expect(slurm.writes.last == "update ReservationName=llm Nodes=n[1,3] Accounts=dcapply")

        // After a crash the executor may send done actions again: nothing is written.
        let before = slurm.writes.count
        _ = try await actuator.apply(wave1 + [ActuatorAction(id: "2.0", change: move)], context: context)
        #expect(slurm.writes.count == before)
    }

    @Test func drainsAndResumesInOneCallPerBatchAndNeverResumesAPersonsHold() async throws {
        let slurm = InMemorySlurm(nodes: Self.names)
        _ = try await slurm.scontrol(["update", "NodeName=n4", "State=DRAIN", "Reason=rma"])
        let actuator = SlurmActuator(settings: SlurmSettings(), control: slurm)
        let context = try Self.context(target: TargetState(), store: InMemoryStateStore())
        let drains = ["n1", "n2"].map { ActuatorAction(id: $0, change: Change(.drain, .node($0), to: "failed", reason: "test")) }
        _ = try await actuator.apply(drains, context: context)
        let resumes = ["n1", "n2", "n4"].map { ActuatorAction(id: "r" + $0, change: Change(.resume, .node($0), from: "failed", reason: "test")) }
        let results = try await actuator.apply(resumes, context: context)
        #expect(results.allSatisfy { $0.status == .done })
        #expect(Array(slurm.writes.dropFirst()) == ["update NodeName=n[1-2] State=DOWN Reason=dcapply: failed", "update NodeName=n[1-2] State=RESUME"])
    }
}
