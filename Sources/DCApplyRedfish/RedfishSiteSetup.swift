import AsyncHTTPClient
import DCApplyCore
import Foundation
import NIOCore
import NIOSSL

/// What every call of the provider needs first: the service origins, the credentials and an
/// HTTP client configured for TLS. Problems are diagnostics that never hold a secret.
struct RedfishSiteSetup {
    var endpoints: [String] = []
    var credentials: Credentials?
    var tls: TLSConfiguration?
    var diagnostics: [Diagnostic] = []

    init(site: Site, configuration: RedfishConfiguration, environment: [String: String]) {
        let name = site.metadata.name
        let at = configuration.source
        var declared = configuration.endpoints
        if let file = configuration.endpointsFile {
            if let data = FileManager.default.contents(atPath: file) {
                declared += String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty && !$0.hasPrefix("#") }
            } else {
                diagnostics.append(.error("Site \(name): endpointsFile \(file) cannot be read", at: at, field: "spec.provider.redfish.endpointsFile"))
            }
        }
        var seen = Set<String>()
        for (index, text) in declared.enumerated() {
            guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
                  ["http", "https"].contains(scheme), let host = components.host, !host.isEmpty else {
                diagnostics.append(.error("Site \(name): endpoint \(index + 1) is not an http:// or https:// URL", at: at, field: "spec.provider.redfish.endpoints"))
                continue
            }
            // A URL with user:password@ would carry a literal secret: refuse it without echoing it.
            if components.user != nil || components.password != nil {
                diagnostics.append(.error("Site \(name): endpoint \(index + 1) carries credentials in its URL; use usernameFrom and passwordFrom", at: at, field: "spec.provider.redfish.endpoints"))
                continue
            }
            let origin = RedfishConnection.origin(of: text)
            if seen.insert(origin).inserted { endpoints.append(origin) }
        }
        if declared.isEmpty && diagnostics.isEmpty {
            diagnostics.append(.error("Site \(name): no Redfish endpoints", at: at, field: "spec.provider.redfish.endpoints"))
        }
        switch (configuration.usernameFrom, configuration.passwordFrom) {
        case let (user?, password?):
            do {
                let resolved = Credentials(username: try SecretReference.resolve(user, environment: environment),
                                           password: try SecretReference.resolve(password, environment: environment))
                // Scrubbed from every output, log and state row, should any code path quote it.
                Secrets.register(resolved.password)
                Secrets.register(String(resolved.basicAuthorization.dropFirst("Basic ".count)))
                credentials = resolved
            } catch {
                diagnostics.append(.error("Site \(name): \(error)", at: at, field: "spec.provider.redfish"))
            }
        case (nil, nil):
            break
        default:
            diagnostics.append(.error("Site \(name): give both usernameFrom and passwordFrom, or neither", at: at, field: "spec.provider.redfish"))
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if configuration.insecureSkipVerify {
            tls.certificateVerification = .none
            diagnostics.append(.warning("Site \(name): insecureSkipVerify is set: the BMCs' TLS certificates are not verified", at: at, field: "spec.provider.redfish.insecureSkipVerify"))
        } else if let caFile = configuration.caFile {
            if FileManager.default.isReadableFile(atPath: caFile) {
                tls.trustRoots = .file(caFile)
            } else {
                diagnostics.append(.error("Site \(name): caFile \(caFile) cannot be read", at: at, field: "spec.provider.redfish.caFile"))
            }
        }
        self.tls = tls
        if credentials != nil, endpoints.contains(where: { $0.lowercased().hasPrefix("http://") }) {
            diagnostics.append(.warning("Site \(name): credentials are sent over plain HTTP to \(endpoints.filter { $0.lowercased().hasPrefix("http://") }.count) endpoint(s); use https", at: at, field: "spec.provider.redfish.endpoints"))
        }
    }

    /// A client for one call of the provider; the caller shuts it down.
    func makeClient(settings: RedfishSettings) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = tls
        configuration.timeout = .init(connect: .milliseconds(Int64(settings.connectTimeout * 1000)),
                                      read: .milliseconds(Int64(settings.requestTimeout * 1000)))
        configuration.redirectConfiguration = .follow(max: 3, allowCycles: false)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}
