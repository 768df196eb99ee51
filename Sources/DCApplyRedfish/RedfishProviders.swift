import DCApplyCore
import Foundation
import Logging

/// The factory the executable hands to `Reconciler`: a `RedfishProvider` for `provider.redfish`
/// Sites, nil for the others. Providers made by one factory share what they learnt of where
/// each node lives; health overrides in the state store (`inventory set`) apply to their nodes.
public enum RedfishProviders {
    public static func factory(settings: RedfishSettings = RedfishSettings(),
                               environment: [String: String] = ProcessInfo.processInfo.environment) -> ProviderFactory {
        let directory = NodeDirectory()
        return { site, store, logger in
            guard case .redfish(let configuration) = site.provider else { return nil }
            return RedfishProvider(configuration: configuration, settings: settings, logger: logger, environment: environment,
                                   directory: directory, overrides: store)
        }
    }
}
