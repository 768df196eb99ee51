import DCApplyCore
import Logging

/// Factories for exec plugins as actuators (`Site.spec.actuators[].exec`) and as hardware
/// provider (`Site.spec.provider.exec`).
public enum ExecPlugins {
    /// The actuator for `actuators[].exec` items, nil for the others.
    /// - Parameter environment: variables added to dcapply's own for every plugin (tests).
    public static func actuatorFactory(environment: [String: String] = [:]) -> ActuatorFactory {
        return { configuration, _, _, logger in
            guard case .exec(let exec) = configuration else { return nil }
            return ExecActuator(configuration: exec, environment: environment, logger: logger)
        }
    }

    /// The provider for `provider.exec` Sites, nil for the others.
    public static func providerFactory(environment: [String: String] = [:], limits: InputLimits = .standard) -> ProviderFactory {
        return { site, store, logger in
            guard case .exec(let exec) = site.provider else { return nil }
            return ExecProvider(configuration: exec, environment: environment, overrides: store, limits: limits, logger: logger)
        }
    }
}
