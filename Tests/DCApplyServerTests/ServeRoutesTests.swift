import DCApplyGit
import DCApplyServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The HTTP routes in process (Hummingbird's router test framework: no socket, no process).
@Suite("ServeRoutes in process")
struct ServeRoutesTests {
    static func app(_ state: ServeState, secret: String?) -> some ApplicationProtocol {
        Application(router: ServeRoutes.router(state: state, webhook: secret.map { WebhookSignature(secret: $0) }))
    }

    static func headers(_ name: String, _ value: String) -> HTTPFields {
        [.init(name)!: value]
    }

    static func state() -> ServeState {
        ServeState(status: ServeStatus(repository: "memory", branch: "main", path: "manifests", selfHeal: true))
    }

    @Test func healthReadinessStatusAndMetrics() async throws {
        let state = Self.state()
        try await Self.app(state, secret: nil).test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "ok\n")
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body) == "not ready: no revision applied yet\n")
            }
            state.status.withLock { $0.lastAppliedRevision = "9f2c1e0d4a11aaaa" }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "ready\n")
            }
            try await client.execute(uri: "/status", method: .get) { response in
                #expect(response.headers[.contentType] == "application/json")
                let json = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
                #expect(json?["lastAppliedRevision"] as? String == "9f2c1e0d4a11aaaa")
            }
            state.metrics.recordRefused()
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                #expect(String(buffer: response.body).contains("\ndcapply_revisions_refused_total 1\n"))
            }
        }
    }

    @Test func theWebhookSchedulesAPassOnlyWithAGoodSignature() async throws {
        let state = Self.state()
        let body = #"{"ref":"refs/heads/main"}"#
        let good = WebhookSignature(secret: "s3cret").sign(Array(body.utf8))
        let bad = WebhookSignature(secret: "wrong").sign(Array(body.utf8))
        try await Self.app(state, secret: "s3cret").test(.router) { client in
            try await client.execute(uri: "/hooks/git", method: .post, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body) == "signature missing or wrong: send X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body>\n")
            }
            try await client.execute(uri: "/hooks/git", method: .post, headers: Self.headers("X-Hub-Signature-256", "sha256=" + bad), body: ByteBuffer(string: body)) { response in
                #expect(response.status == .unauthorized)
            }
            #expect(state.takeTrigger() == nil)
            try await client.execute(uri: "/hooks/git", method: .post, headers: Self.headers("X-Hub-Signature-256", "sha256=" + good), body: ByteBuffer(string: body)) { response in
                #expect(response.status == .accepted)
                #expect(String(buffer: response.body) == "fetch scheduled\n")
            }
            #expect(state.takeTrigger() == .webhook)
            // Gitea's header: the bare hex digest.
            try await client.execute(uri: "/hooks/git", method: .post, headers: Self.headers("X-Gitea-Signature", good), body: ByteBuffer(string: body)) { response in
                #expect(response.status == .accepted)
            }
            #expect(state.takeTrigger() == .webhook)
        }
    }

    @Test func withoutASecretTheWebhookIsOff() async throws {
        let state = Self.state()
        try await Self.app(state, secret: nil).test(.router) { client in
            try await client.execute(uri: "/hooks/git", method: .post, body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .forbidden)
                #expect(String(buffer: response.body) == "the webhook is off: start dcapply serve with --webhook-secret-file\n")
            }
        }
        #expect(state.takeTrigger() == nil)
    }
}
