import DCApplyCore
import Foundation
import Subprocess

/// The real tools through swift-subprocess, with `SLURM_CONF` set when `conf` is given.
///
/// There is no timeout of dcapply's own: Slurm's clients give up after the controller's
/// `MessageTimeout` (10 s by default) when it does not answer.
public struct SlurmCommandLine: SlurmControl {
    public var conf: String?
    /// Counts calls, for the benchmark and the tests.
    public let calls: CallCounter

    public init(conf: String?, calls: CallCounter = CallCounter()) {
        self.conf = conf
        self.calls = calls
    }

    public func scontrol(_ arguments: [String]) async throws -> SlurmCallResult {
        await calls.record(arguments)
        return try await run("scontrol", arguments)
    }

    public func sinfo(_ arguments: [String]) async throws -> SlurmCallResult {
        try await run("sinfo", arguments)
    }

    private func run(_ program: String, _ arguments: [String]) async throws -> SlurmCallResult {
        // Slurm's clients retry a missing slurm.conf for 60 s: say so at once instead.
        if let conf, !FileManager.default.fileExists(atPath: conf) {
            throw ProviderError(.terminal, "the Slurm configuration \(conf) does not exist (the slurm actuator's conf; is the controller set up?)")
        }
        var environment = Environment.inherit
        if let conf { environment = environment.updating(["SLURM_CONF": conf]) }
        do {
            let result = try await Subprocess.run(.name(program), arguments: Arguments(arguments), environment: environment,
                                                  output: .string(limit: 256 << 20), error: .string(limit: 1 << 20))
            let code: Int32
            switch result.terminationStatus {
            case .exited(let status): code = Int32(status)
            case .signaled(let signal): code = 128 + Int32(signal)
            }
            return SlurmCallResult(exitCode: code, output: result.standardOutput, error: result.standardError)
        } catch {
            throw ProviderError(.terminal, "cannot run \(program): \(error) (install slurm-client: scripts/install-deps)")
        }
    }
}
