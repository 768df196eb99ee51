import DCApplyGit
import Foundation
import Hummingbird

/// The daemon's HTTP surface: the status page, health, readiness, metrics, status and the git webhook.
public enum ServeRoutes {
    /// The routes over the daemon's shared state; without `webhook` POST /hooks/git answers 403.
    public static func router(state: ServeState, webhook: WebhookSignature?) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("healthz") { _, _ in text("ok\n") }
        // Ready to serve means a revision is applied (the site runs it, and the webhook must stay
        // reachable to push a fix); the Ready condition is about the last pass. When they differ
        // the body says so, so a probe and /status never contradict each other silently.
        router.get("readyz") { _, _ in
            let (ready, body) = readiness(state.status.withLock { $0 })
            return text(body, status: ready ? .ok : .serviceUnavailable)
        }
        router.get("metrics") { _, _ in
            text(state.metrics.text, contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/") { _, _ in  // the status page (DCApplyHTML); its script polls /status
            text(state.page.html(status: state.status.withLock { $0 }), contentType: "text/html; charset=utf-8")
        }
        router.get("status") { _, _ in
            text(state.status.withLock { $0.json } + "\n", contentType: "application/json")
        }
        addWebhook(to: router, webhook: webhook) { state.trigger(.webhook) }
        return router
    }

    /// What `/readyz` answers: whether a revision is applied (200, else 503) and the body, which
    /// names the Ready condition when the last pass did not succeed. A hot standby is ready; a
    /// controller that cannot ask who leads (the state store unreachable) is not, leader or not.
    public static func readiness(_ status: ServeStatus) -> (ready: Bool, body: String) {
        guard status.isReady else { return (false, "not ready: \(status.lastError ?? "no revision applied yet")\n") }
        if let condition = status.condition("Ready"), condition.status == "False", condition.reason == "LeadershipUnavailable" {
            return (false, "not ready: \(condition.message)\n")
        }
        if status.leader == false {
            return (true, "ready: standby; \(status.leadBy.map { "\($0) leads" } ?? "no controller leads yet")\n")
        }
        if let condition = status.condition("Ready"), condition.status == "False" {
            let revision = status.lastAppliedRevision.map { String($0.prefix(12)) } ?? "?"
            return (true, "ready: serving revision \(revision); Ready=False (\(condition.reason)): \(condition.message)\n")
        }
        return (true, "ready\n")
    }

    /// POST /hooks/git: checks the HMAC signature of the body and calls `wake`; 403 without
    /// `webhook`, 401 when the signature is missing or wrong. One route for one site and many.
    static func addWebhook(to router: Router<BasicRequestContext>, webhook: WebhookSignature?, wake: @escaping @Sendable () -> Void) {
        router.post("hooks/git") { request, _ in
            guard let webhook else {
                return text("the webhook is off: start dcapply serve with --webhook-secret-file\n", status: .forbidden)
            }
            var request = request
            let body = try await request.collectBody(upTo: 4 << 20)
            let bytes = body.getBytes(at: body.readerIndex, length: body.readableBytes) ?? []
            let header = WebhookSignature.headers.lazy.compactMap { name in
                request.headers.first { $0.name.canonicalName == name.lowercased() }?.value
            }.first
            guard webhook.isValid(header, body: bytes) else {
                return text("signature missing or wrong: send X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body>\n", status: .unauthorized)
            }
            wake()
            return text("fetch scheduled\n", status: .accepted)
        }
    }

    static func text(_ body: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
