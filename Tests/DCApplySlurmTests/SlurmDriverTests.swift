import DCApplyCore
import DCApplySlurm
import Foundation
import Logging
import Testing

/// The Slurm layer against a real slurmctld 22.05 (see SlurmController).
@Suite(.serialized, .timeLimit(.minutes(5)))
struct SlurmDriverTests {
    static let nodes = (1...8).map { "gpu-r01-n0\($0)" }

    static func driver(_ controller: SlurmController, store: InMemorySlurmOwnershipStore = InMemorySlurmOwnershipStore(),
                       calls: CallCounter = CallCounter(), drainTimeout: Swift.Duration = .seconds(2)) -> SlurmDriver {
        SlurmDriver(settings: SlurmSettings(conf: controller.conf, drainTimeout: drainTimeout, drainPollInterval: .milliseconds(200)),
                    control: SlurmCommandLine(conf: controller.conf, calls: calls), ownership: store, logger: Logger(label: "test"))
    }

    static let target = SlurmTarget(
        partitions: ["a": Set(nodes[0..<4]), "b": Set(nodes[4..<8])],
        reservations: ["llama": .init(nodes: [nodes[0], nodes[1]], accounts: ["ml"]), "gang": .init(nodes: Set(nodes[4..<6]), accounts: ["ml"])])

    @Test func hostlistsRoundTripWithScontrol() async throws {
        try await SlurmController.with(nodes: Self.nodes) { controller in
            let names = ["gpu-r01-n08", "gpu-r01-n01", "gpu-r01-n02", "gpu-r01-n03", "gpu-r01-n05", "login9", "login10"]
            let compressed = Hostlist.compress(names)
            let scontrolHostlist = try await controller.scontrol(["show", "hostlist", (try Hostlist.expand(compressed)).joined(separator: ",")])
            #expect(scontrolHostlist.output.trimmingCharacters(in: .whitespacesAndNewlines) == compressed)
            let scontrolNames = try await controller.scontrol(["show", "hostnames", compressed])
            #expect(scontrolNames.output.split(separator: "\n").map(String.init) == (try Hostlist.expand(compressed)))
        }
    }

    @Test func firstApplyCreatesExactlyThePlannedObjectsAndAgainChangesNothing() async throws {
        try await SlurmController.with(nodes: Self.nodes) { controller in
            let calls = CallCounter()
            let driver = Self.driver(controller, calls: calls)
            let report = try await driver.reconcile(to: Self.target)
            #expect(report.problems.isEmpty)
            #expect(try await controller.nodes("partition", "a") == Set(Self.nodes[0..<4]))
            #expect(try await controller.nodes("partition", "b") == Set(Self.nodes[4..<8]))
            #expect(try await controller.show("partition", "a")?["State"] == "UP")
            #expect(try await controller.nodes("reservation", "llama") == [Self.nodes[0], Self.nodes[1]])
            #expect(try await controller.show("reservation", "gang")?["Accounts"] == "ml")
            #expect(await calls.writes.count == 4)

            await calls.reset()
            let again = try await driver.reconcile(to: Self.target)
            #expect(again.commands.isEmpty && again.drift.isEmpty)
            #expect(await calls.writes.isEmpty)
        }
    }

    @Test func replicaMovesUpdateTheReservationAndAGoneWorkloadDeletesIt() async throws {
        try await SlurmController.with(nodes: Self.nodes) { controller in
            let driver = Self.driver(controller)
            try await driver.reconcile(to: Self.target)
            var moved = Self.target
            moved.reservations["llama"]?.nodes = [Self.nodes[0], Self.nodes[2]]
            moved.reservations["gang"] = nil
            let report = try await driver.reconcile(to: moved)
            #expect(report.commands == [.deleteReservation(name: "gang"), .updateReservation(name: "llama", nodes: [Self.nodes[0], Self.nodes[2]], accounts: ["ml"])])
            #expect(try await controller.nodes("reservation", "llama") == [Self.nodes[0], Self.nodes[2]])
            #expect(try await controller.show("reservation", "gang") == nil)
        }
    }

    @Test func aFailedNodeGoesDownWithDcapplysReasonAndHealingResumesIt() async throws {
        try await SlurmController.with(nodes: Self.nodes) { controller in
            let driver = Self.driver(controller)
            var broken = Self.target
            broken.holds = [Self.nodes[1]: .down(reason: SlurmNames.failedReason), Self.nodes[2]: .drain(reason: SlurmNames.degradedReason)]
            broken.reservations["llama"]?.nodes = [Self.nodes[0], Self.nodes[3]]
            try await driver.reconcile(to: broken)
            let failed = try #require(try await controller.show("node", Self.nodes[1]))
            #expect(failed["State"]?.hasPrefix("DOWN") == true)
            #expect(failed["Reason"] == "dcapply: failed")
            #expect(try await controller.show("node", Self.nodes[2])?["State"]?.contains("DRAIN") == true)
            #expect(try await controller.nodes("reservation", "llama") == [Self.nodes[0], Self.nodes[3]])

            let healed = try await driver.reconcile(to: Self.target)
            #expect(healed.commands.contains(.resume(nodes: [Self.nodes[1], Self.nodes[2]])))
            let back = try #require(try await controller.show("node", Self.nodes[1]))
            #expect(back["State"]?.hasPrefix("IDLE") == true && back["State"]?.contains("DRAIN") == false)
            #expect(try await driver.reconcile(to: Self.target).commands.isEmpty)
        }
    }

    @Test func aNodeDrainedByAPersonIsNeverResumed() async throws {
        try await SlurmController.with(nodes: Self.nodes) { controller in
            _ = try await controller.scontrol(["update", "NodeName=\(Self.nodes[3])", "State=DRAIN", "Reason=rma ticket 4711"])
            let driver = Self.driver(controller)
            var failed = Self.target
            failed.holds = [Self.nodes[3]: .down(reason: SlurmNames.failedReason)]
            try await driver.reconcile(to: failed)
            try await driver.reconcile(to: Self.target)
            let node = try #require(try await controller.show("node", Self.nodes[3]))
            #expect(node["State"]?.contains("DRAIN") == true)
            #expect(node["Reason"] == "rma ticket 4711")
        }
    }

    @Test func aPartitionDeletedByHandIsDriftAndRecreated() async throws {
        try await SlurmController.with(nodes: Self.nodes) { controller in
            let driver = Self.driver(controller)
            try await driver.reconcile(to: Self.target)
            _ = try await controller.scontrol(["delete", "PartitionName=a"])
            _ = try await controller.scontrol(["update", "PartitionName=b", "Nodes=\(Self.nodes[7])"])
            let report = try await driver.reconcile(to: Self.target)
            #expect(report.drift.map(\.description) == ["partition a: deleted outside dcapply", "partition b: changed outside dcapply"])
            #expect(try await controller.nodes("partition", "a") == Set(Self.nodes[0..<4]))
            #expect(try await controller.nodes("partition", "b") == Set(Self.nodes[4..<8]))
        }
    }

    @Test func reconfigureDropsRuntimePartitionsWhichAreRecreatedAsDrift() async throws {
        try await SlurmController.with(nodes: Self.nodes) { controller in
            let driver = Self.driver(controller)
            try await driver.reconcile(to: Self.target)
            let reconfigured = try await controller.scontrol(["reconfigure"])
            #expect(reconfigured.exitCode == 0)
            #expect(try await controller.show("partition", "a") == nil)
            let report = try await driver.reconcile(to: Self.target)
            #expect(report.drift.map(\.description) == ["partition a: deleted outside dcapply", "partition b: deleted outside dcapply"])
            #expect(try await controller.nodes("partition", "a") == Set(Self.nodes[0..<4]))
            #expect(try await controller.nodes("reservation", "llama") == [Self.nodes[0], Self.nodes[1]])
        }
    }

    @Test func aSameNameReservationNotMadeByDcapplyIsAProblemAndUntouched() async throws {
        try await SlurmController.with(nodes: Self.nodes) { controller in
            let made = try await controller.scontrol(["create", "ReservationName=llama", "Nodes=\(Self.nodes[7])", "StartTime=now", "Duration=60", "Users=root"])
            #expect(made.exitCode == 0)
            let report = try await Self.driver(controller).reconcile(to: Self.target)
            #expect(report.problems.count == 1 && report.problems[0].hasPrefix("reservation llama exists in Slurm but dcapply did not create it"))
            #expect(try await controller.nodes("reservation", "llama") == [Self.nodes[7]])
            #expect(try await controller.show("reservation", "llama")?["Users"] == "root")
        }
    }

    @Test func aFailedCreateLeavesNoEmptyPartition() async throws {
        try await SlurmController.with(nodes: Self.nodes) { (controller: SlurmController) async throws in
            let store = InMemorySlurmOwnershipStore()
            let driver = Self.driver(controller, store: store)
            var failure: (any Error)?
            do {
                try await driver.reconcile(to: SlurmTarget(partitions: ["x": ["gpu-r09-n99"]]))
            } catch {
                failure = error
            }
            #expect("\(failure.map { "\($0)" } ?? "")".contains("Invalid node name specified"))
            #expect(try await controller.show("partition", "x") == nil)
            #expect(try store.load().partitions.isEmpty)
        }
    }

    @Test func powerOffDrainsFirstAndAnIdleNodeDoesNotWait() async throws {
        try await SlurmController.with(nodes: Self.nodes) { controller in
            let driver = Self.driver(controller)
            try await driver.drainForPowerOff([Self.nodes[6]])
            let node = try #require(try await controller.show("node", Self.nodes[6]))
            #expect(node["State"]?.contains("DRAIN") == true)
            #expect(node["Reason"] == "dcapply: power off")
        }
    }

    @Test func aPowerOffWaitsForARunningJobAndFailsAsTransientAfterDrainTimeout() async throws {
        try await SlurmController.with(nodes: Self.nodes) { (controller: SlurmController) async throws in
            try await controller.withSlurmd(node: Self.nodes[0]) {
                let submitted = try await controller.client("sbatch", ["-w", Self.nodes[0], "-o", "/dev/null", "--wrap", "sleep 300"])
                #expect(submitted.exitCode == 0, "\(submitted.error)")
                let job = try #require(submitted.output.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
                try await controller.waitFor(node: Self.nodes[0], timeout: .seconds(60)) { $0.isBusy }
                let driver = Self.driver(controller, drainTimeout: .seconds(2))
                var failure: ProviderError?
                do {
                    try await driver.drainForPowerOff([Self.nodes[0]])
                } catch let error as ProviderError {
                    failure = error
                }
                #expect(failure?.kind == .transient)
                #expect(failure?.message == "Slurm node \(Self.nodes[0]) still runs jobs after drainTimeout (2.0 seconds); the power-off waits")
                let node = try #require(try await controller.show("node", Self.nodes[0]))
                #expect(node["State"]?.contains("DRAIN") == true)
                #expect(node["Reason"] == "dcapply: power off")

                // Once the job is gone the drain completes at once.
                _ = try await controller.client("scancel", [job])
                try await controller.waitFor(node: Self.nodes[0], timeout: Swift.Duration.seconds(30)) { !$0.isBusy }
                try await driver.drainForPowerOff([Self.nodes[0]])
            }
        }
    }
}
