import DCApplyCore
import Logging

/// The factories the executable hands to the ``Reconciler``.
public enum ActuatorFactories {
    /// exec and Slurm actuators.
    public static func standard() -> ActuatorFactory {
        combine([ExecPlugins.actuatorFactory(), SlurmActuators.factory()])
    }

    /// The first factory that makes something for the configuration.
    public static func combine(_ factories: [ActuatorFactory]) -> ActuatorFactory {
        return { configuration, site, store, logger in
            for factory in factories {
                if let made = try factory(configuration, site, store, logger) { return made }
            }
            return nil
        }
    }

    /// The first provider factory that makes a provider for the Site.
    public static func combine(_ factories: [ProviderFactory]) -> ProviderFactory {
        return { site, store, logger in
            for factory in factories {
                if let made = try factory(site, store, logger) { return made }
            }
            return nil
        }
    }
}
