import DCApplyCore
import Logging

/// The hook for `Site.spec.actuators[].slurm`: the Slurm actuator (issue 15, item 2) is made
/// here. Until it is linked in, a Site that lists one is refused with a clear message.
public enum SlurmActuators {
    public static func factory() -> ActuatorFactory {
        return { configuration, site, _, _ in
            guard case .slurm = configuration else { return nil }
            throw DCApplyError(.provider, "Site \(site.metadata.name): the Slurm actuator is not available in this build yet")
        }
    }
}
