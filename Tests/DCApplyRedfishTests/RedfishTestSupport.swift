import DCApplyCore
@testable import DCApplyRedfish
import Foundation
import Logging
import Testing

/// Sites and providers for the tests, made from manifests as an operator writes them.
enum RedfishTestSupport {
    static let quietLogger = Logger(label: "dcapply.redfish.test") { _ in SwiftLogNoOpLogHandler() }

    /// Short polls and timeouts: the emulator changes power state within 1–11 s.
    static var fastSettings: RedfishSettings {
        var settings = RedfishSettings()
        settings.pollInterval = 0.5
        settings.requestTimeout = 10
        settings.connectTimeout = 2
        settings.retries = 1
        settings.retryDelay = 0.1
        settings.gracefulShutdownTimeout = 20
        settings.powerTimeout = 20
        return settings
    }

    /// Parses a Site manifest written into `folder` and returns its Site.
    static func site(_ provider: String, in folder: URL, name: String = "lab") throws -> Site {
        let text = """
            apiVersion: dcapply/v1
            kind: Site
            metadata: {name: \(name)}
            spec:
              failureDomains: [rack]
              provider:
                redfish:
            \(provider.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
            """
        let path = folder.appendingPathComponent("site.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let (state, _, diagnostics) = ManifestParser().parse([SourceFile(path: path, text: text)])
        #expect(!diagnostics.hasErrors, "\(diagnostics)")
        return try #require(state.sites[name])
    }

    static func provider(_ site: Site, environment: [String: String] = [:], settings: RedfishSettings = fastSettings) throws -> RedfishProvider {
        guard case .redfish(let configuration) = site.provider else { throw RedfishServices.MissingVenv(description: "not a redfish site") }
        return RedfishProvider(configuration: configuration, settings: settings, logger: quietLogger, environment: environment)
    }
}
