/// Why dcapply takes a node out of service (`drain`'s `to`, `resume`'s `from`): an actuator
/// maps each to its own state (Slurm: failed → DOWN, degraded and powerOff → DRAIN).
public enum DrainCause: String, Hashable, Sendable, CaseIterable {
    case failed, degraded, powerOff
}
