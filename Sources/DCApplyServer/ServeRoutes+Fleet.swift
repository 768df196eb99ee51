import DCApplyCore
import DCApplyGit
import Foundation
import Hummingbird

extension ServeRoutes {
    /// The routes of a serve running several sites: `/status` lists every site, `/readyz` is
    /// ready when every site finished a pass or stands by, `/metrics` labels each site's metrics
    /// `site="NAME"`, the page at `/` lists the sites, and the webhook wakes every site.
    public static func router(fleet: FleetState, webhook: WebhookSignature?) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("healthz") { _, _ in text("ok\n") }
        router.get("readyz") { _, _ in
            let (ready, body) = fleet.status.readiness
            return text(body, status: ready ? .ok : .serviceUnavailable)
        }
        router.get("metrics") { _, _ in
            text(fleet.metricsText, contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/") { _, _ in
            text(page(fleet.status), contentType: "text/html; charset=utf-8")
        }
        router.get("status") { _, _ in
            text(fleet.status.json + "\n", contentType: "application/json")
        }
        addWebhook(to: router, webhook: webhook) { fleet.trigger(.webhook) }
        return router
    }

    /// A plain page listing the sites and their Ready condition (the full status is `/status`).
    static func page(_ status: FleetStatus) -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        let rows = status.sites.map { site in
            let ready = site.condition("Ready")
            return "<tr><td>\(escape(site.site ?? ""))</td><td>\(escape(site.path))</td><td>\(site.leader.map { $0 ? "yes" : "no" } ?? "alone")</td>"
                + "<td>\(escape(site.lastAppliedRevision.map { String($0.prefix(12)) } ?? "none"))</td>"
                + "<td>\(escape(ready.map { "\($0.status) (\($0.reason)): \($0.message)" } ?? ""))</td></tr>"
        }
        let problems = status.problems.map { "<li>\(escape($0))</li>" }.joined()
        return Secrets.redact("""
            <!doctype html><html><head><meta charset="utf-8"><title>dcapply serve: \(status.sites.count) sites</title></head><body>
            <h1>dcapply serve</h1><p>\(escape(status.branch)) of \(escape(status.repository)), folders \(escape(status.paths.joined(separator: " ")))</p>
            <table><tr><th>Site</th><th>Folder</th><th>Leads</th><th>Applied</th><th>Ready</th></tr>\(rows.joined())</table>
            \(problems.isEmpty ? "" : "<h2>Not served</h2><ul>\(problems)</ul>")<p><a href="/status">/status</a> · <a href="/metrics">/metrics</a></p>
            </body></html>

            """)
    }
}
