import DCApplyCore
import DCApplySlurm
import Logging

/// The hook for `Site.spec.actuators[].slurm`: the Slurm actuator of DCApplySlurm.
public enum SlurmActuators {
    /// The actuator for `actuators[].slurm` items, nil for the others.
    public static func factory() -> ActuatorFactory {
        return { configuration, _, _, _ in
            guard case .slurm(let slurm) = configuration else { return nil }
            return SlurmActuator(configuration: slurm)
        }
    }
}
