import DCApplyCore
import Foundation
import Testing

/// `provider.redfish` as the manifest parser reads it.
struct RedfishManifestTests {
    static func parse(_ redfish: String, path: String = "/srv/site/east/site.yaml") -> (Site?, [Diagnostic]) {
        let text = """
            apiVersion: dcapply/v1
            kind: Site
            metadata: {name: east}
            spec:
              failureDomains: [rack]
              provider:
                redfish:
            \(redfish.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
            """
        let (state, _, diagnostics) = ManifestParser().parse([SourceFile(path: path, text: text)])
        return (state.sites["east"], diagnostics)
    }

    @Test func relativePathsResolveAgainstTheManifestsFolder() throws {
        let (site, diagnostics) = Self.parse("""
            endpointsFile: bmcs.txt
            usernameFrom: env:BMC_USER
            passwordFrom: file:secrets/bmc
            caFile: ../ca.pem
            labelsFrom: /etc/dcapply/racks.labels
            """)
        #expect(diagnostics.isEmpty)
        guard case .redfish(let configuration) = try #require(site).provider else { Issue.record("not redfish"); return }
        #expect(configuration.endpointsFile == "/srv/site/east/bmcs.txt")
        #expect(configuration.usernameFrom == "env:BMC_USER")
        #expect(configuration.passwordFrom == "file:/srv/site/east/secrets/bmc")
        #expect(configuration.caFile == "/srv/site/ca.pem")
        #expect(configuration.labelsFrom == "/etc/dcapply/racks.labels")
        #expect(configuration.concurrency == 32)
    }

    @Test func aLiteralPasswordIsRefusedWithoutBeingRepeated() {
        let (_, diagnostics) = Self.parse("""
            endpoints: ["https://10.0.0.1"]
            usernameFrom: env:BMC_USER
            passwordFrom: hunter2-not-a-reference
            """)
        #expect(diagnostics.map(\.description) == [
            "/srv/site/east/site.yaml:10:21: error: spec.provider.redfish.passwordFrom: expected a reference env:NAME or file:PATH (never a literal secret), got a literal value (not shown)",
        ])
    }
}
