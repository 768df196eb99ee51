/// Runs Slurm's client tools against one controller.
///
/// Contract: `scontrol` runs `scontrol` with the arguments and returns what it printed, with
/// any exit code; it throws only when the program cannot be started. `sinfo` likewise.
public protocol SlurmControl: Sendable {
    func scontrol(_ arguments: [String]) async throws -> SlurmCallResult
    func sinfo(_ arguments: [String]) async throws -> SlurmCallResult
}
