import DCApplyCore
import Foundation
import Logging

/// What one reconciliation did.
public struct SlurmApplyReport: Sendable {
    public var commands: [SlurmCommand]
    public var problems: [String]
    public var drift: [SlurmDrift]
}

/// Reads a Slurm controller and takes it to a ``SlurmTarget`` with `scontrol`, handling
/// 22.05's quirks; records what it creates in a ``SlurmOwnershipStore`` before creating it.
public struct SlurmDriver: Sendable {
    public var settings: SlurmSettings
    public var control: any SlurmControl
    public var ownership: any SlurmOwnershipStore
    public var logger: Logger

    public init(settings: SlurmSettings, control: any SlurmControl, ownership: any SlurmOwnershipStore, logger: Logger) {
        self.settings = settings
        self.control = control
        self.ownership = ownership
        self.logger = logger
    }

    /// Nodes (`sinfo --json`), partitions and reservations (`scontrol -o show`): three calls.
    public func observe() async throws -> SlurmObservation {
        let sinfo = try await control.sinfo(["--json"])
        guard sinfo.exitCode == 0 else { throw Self.failure("sinfo --json", sinfo) }
        let nodes = try Self.reading { try SlurmObservation.nodes(sinfoJSON: Data(sinfo.output.utf8)) }
        let partitions = try await control.scontrol(["-o", "show", "partition"])
        guard partitions.exitCode == 0 || partitions.output.contains("No partitions") else { throw Self.failure("scontrol show partition", partitions) }
        let reservations = try await control.scontrol(["-o", "show", "reservation"])
        guard reservations.exitCode == 0 || reservations.output.contains("No reservations") else {
            throw Self.failure("scontrol show reservation", reservations)
        }
        return SlurmObservation(nodes: nodes, partitions: try Self.reading { try SlurmObservation.partitions(scontrolOutput: partitions.output) },
                                reservations: try Self.reading { try SlurmObservation.reservations(scontrolOutput: reservations.output) })
    }

    /// Observes, compares with `target` within `scope`, and runs the calls that close the gap.
    /// Objects in the way (same name, not dcapply's) are left alone and reported.
    @discardableResult
    public func reconcile(to target: SlurmTarget, scope: SlurmScope = .all) async throws -> SlurmApplyReport {
        let observed = try await observe()
        let plan = SlurmReconciliation(target: target, observed: observed, owned: try ownership.load(), scope: scope)
        for command in plan.commands { try await run(command) }
        return SlurmApplyReport(commands: plan.commands, problems: plan.problems, drift: plan.drift)
    }

    /// Runs one command, with ownership recorded around it and 22.05's quirks handled.
    public func run(_ command: SlurmCommand) async throws {
        switch command {
        case .createPartition(let name, let nodes):
            try ownership.recordPartition(name, nodes: nodes)
            let result = try await call(command)
            guard result.exitCode == 0 else {
                // 22.05 leaves an empty partition behind when the create fails (an unknown node).
                let left = try await control.scontrol(["-o", "show", "partition", name])
                if left.exitCode == 0, left.output.contains("PartitionName=\(name) ") {
                    _ = try await control.scontrol(["delete", "PartitionName=\(name)"])
                }
                try ownership.recordPartition(name, nodes: nil)
                throw Self.failure(command.commandLine, result)
            }
        case .updatePartition(let name, let nodes):
            try ownership.recordPartition(name, nodes: nodes)
            let result = try await call(command)
            guard result.exitCode == 0 else { throw Self.failure(command.commandLine, result) }
        case .deletePartition(let name):
            let result = try await call(command)
            guard result.exitCode == 0 || result.message.contains("Invalid partition name") else { throw Self.failure(command.commandLine, result) }
            try ownership.recordPartition(name, nodes: nil)
        case .createReservation(let name, let nodes, let accounts):
            try ownership.recordReservation(name, SlurmOwnership.Reservation(nodes: nodes, accounts: accounts))
            let result = try await call(command)
            guard result.exitCode == 0 else {
                try ownership.recordReservation(name, nil)
                throw Self.failure(command.commandLine, result)
            }
        case .updateReservation(let name, let nodes, let accounts):
            try ownership.recordReservation(name, SlurmOwnership.Reservation(nodes: nodes, accounts: accounts))
            let result = try await call(command)
            guard result.exitCode == 0 else { throw Self.failure(command.commandLine, result) }
        case .deleteReservation(let name):
            let result = try await call(command)
            guard result.exitCode == 0 || result.message.contains("reservation is invalid") else { throw Self.failure(command.commandLine, result) }
            try ownership.recordReservation(name, nil)
        case .resume:
            // The caller checked each node is held by dcapply; a node that came back meanwhile
            // answers "Invalid node state specified" (RESUME is not idempotent): that is success.
            let result = try await call(command)
            guard result.exitCode == 0 || result.message.contains("Invalid node state specified") else { throw Self.failure(command.commandLine, result) }
        case .extendReservation, .hold, .setFeatures:
            let result = try await call(command)
            guard result.exitCode == 0 else { throw Self.failure(command.commandLine, result) }
        }
    }

    /// Drains `nodes` for a power-off (unless a person already holds them), then waits until
    /// they run no job, for at most `drainTimeout`; past it, fails as transient so that the
    /// power-off waits.
    public func drainForPowerOff(_ nodes: Set<String>) async throws {
        guard !nodes.isEmpty else { return }
        let observed = try await observe()
        let toDrain = nodes.filter { name in
            guard let node = observed.nodes[name] else { return false }
            return !node.isHeld || (node.heldByDcapply && node.reason != SlurmNames.powerOffReason && !node.isDown)
        }
        let missing = nodes.filter { observed.nodes[$0] == nil }
        guard missing.isEmpty else {
            throw ProviderError(.terminal, "Slurm does not know node \(Hostlist.compress(missing))")
        }
        if !toDrain.isEmpty { try await run(.hold(nodes: Set(toDrain), .drain(reason: SlurmNames.powerOffReason))) }
        let deadline = ContinuousClock.now + settings.drainTimeout
        while true {
            let now = try await observe()
            let busy = nodes.filter { now.nodes[$0]?.isBusy ?? false }
            if busy.isEmpty { return }
            guard ContinuousClock.now < deadline else {
                throw ProviderError(.transient, "Slurm node \(Hostlist.compress(busy)) still runs jobs after drainTimeout (\(settings.drainTimeout)); the power-off waits")
            }
            try await Task.sleep(for: settings.drainPollInterval)
        }
    }

    private func call(_ command: SlurmCommand) async throws -> SlurmCallResult {
        logger.info("scontrol", metadata: ["slurm.command": "\(command.commandLine)"])
        return try await control.scontrol(command.arguments)
    }

    private static func reading<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw ProviderError(.terminal, "\(error)")
        }
    }

    /// A failed call: transient when the controller did not answer, terminal otherwise.
    static func failure(_ what: String, _ result: SlurmCallResult) -> ProviderError {
        let message = result.message
        let unreachable = ["Unable to contact slurm controller", "Socket timed out", "Connection refused", "Zero Bytes were transmitted"]
        let transient = unreachable.contains { message.localizedCaseInsensitiveContains($0) }
        return ProviderError(transient ? .transient : .terminal, "\(what) failed: \(message)")
    }
}
