import DCApplyCore
import Foundation
import Subprocess

/// What one `scontrol` or `sinfo` call printed.
public struct SlurmCallResult: Hashable, Sendable {
    public var exitCode: Int32
    public var output: String
    public var error: String

    public init(exitCode: Int32, output: String, error: String) {
        self.exitCode = exitCode
        self.output = output
        self.error = error
    }

    /// The first non-empty line of stderr, else of stdout: Slurm prints some errors on stdout.
    public var message: String {
        for text in [error, output] {
            if let line = text.split(whereSeparator: \.isNewline).first(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                return String(line)
            }
        }
        return "exit \(exitCode)"
    }
}

/// Runs Slurm's client tools against one controller.
///
/// Contract: `scontrol` runs `scontrol` with the arguments and returns what it printed, with
/// any exit code; it throws only when the program cannot be started. `sinfo` likewise.
public protocol SlurmControl: Sendable {
    func scontrol(_ arguments: [String]) async throws -> SlurmCallResult
    func sinfo(_ arguments: [String]) async throws -> SlurmCallResult
}

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

/// Counts `scontrol` calls and keeps their arguments.
public actor CallCounter {
    public private(set) var calls: [[String]] = []

    public init() {}

    public func record(_ arguments: [String]) {
        calls.append(arguments)
    }

    public var count: Int { calls.count }

    /// Calls that change something (`create`, `update`, `delete`).
    public var writes: [[String]] { calls.filter { ["create", "update", "delete"].contains($0.first ?? "") } }

    public func reset() { calls = [] }
}
