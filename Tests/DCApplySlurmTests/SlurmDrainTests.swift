import DCApplyCore
import DCApplySlurm
import Foundation
import Logging
import Testing

/// A controller that always shows `gpu-n1` running a job: the fake-mode fixture runs no jobs
/// (no slurmd), so the wait before a power-off is exercised here.
final class BusySlurm: SlurmControl, @unchecked Sendable {
    private let lock = NSLock()
    private var writes: [[String]] = []

    var calls: [[String]] { lock.withLock { writes } }

    func scontrol(_ arguments: [String]) async throws -> SlurmCallResult {
        lock.withLock { writes.append(arguments) }
        return SlurmCallResult(exitCode: 0, output: "", error: "")
    }

    func sinfo(_ arguments: [String]) async throws -> SlurmCallResult {
        let json = """
            {"errors": [], "nodes": [{"name": "gpu-n1", "state": "allocated", "state_flags": \(calls.contains { $0.contains("State=DRAIN") } ? "[\"DRAIN\"]" : "[]"), "reason": ""},
                                     {"name": "gpu-n2", "state": "idle", "state_flags": [], "reason": ""}]}
            """
        return SlurmCallResult(exitCode: 0, output: json, error: "")
    }
}

struct SlurmDrainTests {
    @Test(.timeLimit(.minutes(5)))
    func aPowerOffWaitsForJobsAndFailsAsTransientAfterDrainTimeout() async throws {
        let slurm = BusySlurm()
        let driver = SlurmDriver(settings: SlurmSettings(drainTimeout: .milliseconds(300), drainPollInterval: .milliseconds(50)), control: slurm,
                                 ownership: InMemorySlurmOwnershipStore(), logger: Logger(label: "test"))
        let started = ContinuousClock.now
        var failure: ProviderError?
        do {
            try await driver.drainForPowerOff(["gpu-n1", "gpu-n2"])
        } catch let error as ProviderError {
            failure = error
        }
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        #expect(failure == ProviderError(.transient, "Slurm node gpu-n1 still runs jobs after drainTimeout (0.3 seconds); the power-off waits"))
        #expect(slurm.calls.first { $0.first == "update" } == ["update", "NodeName=gpu-n[1-2]", "State=DRAIN", "Reason=dcapply: power off"])
    }
}
