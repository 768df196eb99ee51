import DCApplyCore
@testable import DCApplyHTML
import Foundation
import Testing

@Suite("StatusPage without a browser")
struct StatusPageTests {
    static func panel(refused: String? = nil, error: String? = nil) -> GitOpsPanel {
        GitOpsPanel(repository: "file:///srv/site.git", branch: "main", path: "manifests", lastApplied: "aaaaaaaaaaaaaaaa", lastAttempted: refused ?? "aaaaaaaaaaaaaaaa",
                    reconcileCount: 3, lastReconcile: "2026-12-04T10:00:00Z", drift: nil, refusedRevision: refused, lastError: error,
                    conditions: [.init(type: "Ready", status: refused == nil ? "True" : "False", reason: "R", message: "m", since: "t"),
                                 .init(type: "Stalled", status: refused == nil ? "False" : "True", reason: "S", message: "", since: "t"),
                                 .init(type: "Reconciling", status: "False", reason: "Succeeded", message: "", since: "t")],
                    history: [.init(id: 1, finished: "t", revision: "aaaaaaaaaaaa", actor: "ana (signed revision aaaaaaaaaaaa)", status: "completed", summary: "Plan: 1 to place.")],
                    audit: "holds: 1 entry chained", auditHolds: true)
    }

    @Test("before the first pass the page says so and draws no map")
    func noPassYet() {
        let html = StatusPage(gitops: Self.panel(), passKey: "k", site: nil, plan: nil, applied: nil, generatedAt: Date(timeIntervalSince1970: 0), pollSeconds: 2).html
        #expect(html.contains("<p id=\"no-map\">No revision has been read yet: the map appears after the first successful pass.</p>"))
        #expect(!html.contains("id=\"map\""))
        #expect(html.contains("data-poll=\"2\" data-pass=\"k\""))
        #expect(html.contains("Data as of <time id=\"data-time\" datetime=\"1970-01-01T00:00:00Z\">1970-01-01T00:00:00Z</time>"))
    }

    @Test("a refused revision is shown with its reason; conditions say good or bad by their symbol class")
    func refused() {
        let html = StatusPage(gitops: Self.panel(refused: "bbbbbbbbbbbbbbbb", error: "revision bbbbbbbbbbbb refused: 1 error in the manifests"),
                              passKey: "", site: nil, plan: nil, applied: nil, generatedAt: Date(), pollSeconds: 2).html
        #expect(html.contains("<div class=\"refused\" id=\"refused\" role=\"alert\"><strong>✕ Revision <span class=\"rev\">bbbbbbbbbbbbbbbb</span> refused.</strong> revision bbbbbbbbbbbb refused: 1 error in the manifests</div>"))
        #expect(!html.contains("id=\"last-error\""))  // the refusal carries the error
        #expect(html.contains("<tr><td>Ready</td><td class=\"bad\">False</td>"))
        #expect(html.contains("<tr><td>Stalled</td><td class=\"bad\">True</td>"))
        #expect(html.contains("<tr><td>Reconciling</td><td class=\"neutral\">False</td>"))
        #expect(html.contains("<td>ana (signed revision aaaaaaaaaaaa)</td>"))
    }

    @Test("an error that is not a refusal is shown as the last error; a good pass's conditions are ok")
    func lastError() {
        let html = StatusPage(gitops: Self.panel(error: "fetch failed: no route"), passKey: "", site: nil, plan: nil, applied: nil, generatedAt: Date(), pollSeconds: 2).html
        #expect(html.contains("<p id=\"last-error\" class=\"sev-error\">Last error: fetch failed: no route</p>"))
        #expect(html.contains("<tr><td>Ready</td><td class=\"ok\">True</td>"))
        #expect(html.contains("<tr><td>Stalled</td><td class=\"ok\">False</td>"))
    }

    @Test("with a pass, the map shows the applied target, not the plan's")
    func appliedTarget() async throws {
        let fixture = try await SiteFixture.load("Examples/quickstart")
        // Applied: nothing in any pool yet, one node off.
        var applied = StoredState(serial: 1)
        applied.target.nodes["gpu-r02-n03"] = .init(pool: nil, powerState: .off)
        let page = StatusPage(gitops: Self.panel(), passKey: "", site: fixture.site, plan: fixture.plan, applied: applied, generatedAt: Date(), pollSeconds: 2)
        let cells = SiteMapTests.cells(page.map.sites)
        #expect(cells.first { $0.name == "gpu-r02-n03" }?.classes.hasPrefix("s-off ") == true)
        #expect(cells.allSatisfy { $0.pool.isEmpty && !$0.changed })
        #expect(page.html.contains("<p>Applied <span class=\"rev\">aaaaaaaaaaaa</span></p>"))
    }
}
