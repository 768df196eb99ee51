import DCApplyCore
import DCApplyGit
import DCApplyServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The routes of a serve running several sites, in process: readiness over every site, the
/// fleet's status, labelled metrics, the page, and a webhook that wakes every site.
@Suite("ServeRoutes with several sites")
struct FleetRoutesTests {
    @Test func readinessStatusMetricsPageAndWebhookCoverEverySite() async throws {
        let harness = FleetHarness()
        let head = try SiteFleetTests.twoSites(harness)
        let fleet = harness.fleet(["sites/*"])
        let sites = fleet.refresh().started
        let app = Application(router: ServeRoutes.router(fleet: fleet.state, webhook: WebhookSignature(secret: "s3")))
        try await app.test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body) == "not ready: 2 of 2 sites have not finished a pass\neast: first pass not finished\nwest: first pass not finished\n")
            }
            for site in sites { await site.loop.pass(.start) }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "ready: 2 sites\neast: serving revision \(head.prefix(12))\nwest: serving revision \(head.prefix(12))\n")
            }
            try await client.execute(uri: "/status", method: .get) { response in
                #expect(response.headers[.contentType] == "application/json")
                let json = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                #expect((json?["sites"] as? [[String: Any]])?.compactMap { $0["site"] as? String } == ["east", "west"])
                #expect(json?["revision"] as? String == head)
                #expect(json?["path"] as? String == "sites/*", "the single-site field, for readers that know only it")
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(String(buffer: response.body).contains(#"dcapply_changes_applied_total{site="west"} 10"#))
            }
            try await client.execute(uri: "/", method: .get) { response in
                let page = String(buffer: response.body)
                #expect(page.contains("<tr><td>east</td><td>sites/east</td><td>alone</td><td>\(head.prefix(12))</td>"), "\(page)")
            }
            let signature = "sha256=" + WebhookSignature(secret: "s3").sign(Array("{}".utf8))
            try await client.execute(uri: "/hooks/git", method: .post, headers: ServeRoutesTests.headers("X-Hub-Signature-256", signature),
                                     body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .accepted)
            }
            #expect(sites.allSatisfy { $0.state.takeTrigger() == .webhook }, "every site fetches at once")
        }
    }
}
