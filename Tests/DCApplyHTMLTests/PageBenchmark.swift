import DCApplyCore
import DCApplyHTML
import Foundation
import Testing

/// Not a test: `Benchmarks/html_page.sh` runs it with `DCAPPLY_HTML_BENCH=DIR`, a sitegen site
/// with its plan saved as `DIR/plan.json`. It renders the plan page and serve's status page
/// (what `GET /` does on each request, once the state is loaded) three times each, writes them
/// to `DIR/plan.html` and `DIR/status.html`, and prints the times and sizes. Asserts nothing
/// about speed.
@Suite("HTML page benchmark", .enabled(if: ProcessInfo.processInfo.environment["DCAPPLY_HTML_BENCH"] != nil,
                                        "a benchmark: Benchmarks/html_page.sh runs it with DCAPPLY_HTML_BENCH=DIR"))
struct PageBenchmark {
    static func seconds(_ duration: Swift.Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    @Test("render the plan page and the status page of a large site", .timeLimit(.minutes(20)))
    func render() async throws {
        let folder = URL(fileURLWithPath: ProcessInfo.processInfo.environment["DCAPPLY_HTML_BENCH"] ?? ".")
        let reconciler = Reconciler(store: InMemoryStateStore(), logger: SiteFixture.logger)
        let site = try await reconciler.load([folder.path])
        let plan = try Plan(json: String(contentsOf: folder.appendingPathComponent("plan.json"), encoding: .utf8), source: "plan.json")
        // What serve holds after applying it: the target and the draws recorded with it.
        let applied = StoredState(target: plan.target, serial: 1, estimatedW: plan.targetDrawW)
        let panel = GitOpsPanel(repository: "file:///srv/site.git", branch: "main", path: "", lastApplied: "0123456789abcdef0123456789abcdef01234567",
                                lastAttempted: "0123456789abcdef0123456789abcdef01234567", reconcileCount: 1, lastReconcile: "2026-12-04T00:00:00Z",
                                drift: nil, refusedRevision: nil, lastError: nil, conditions: [], history: [], audit: "holds: 1 entry chained", auditHolds: true)
        let models: [(String, () -> any HTMLPageModel)] = [
            ("plan", { PlanPage(plan: plan, site: site, applied: StoredState()) }),
            ("status", { StatusPage(gitops: panel, passKey: "", site: site, plan: plan, applied: applied, generatedAt: Date(), pollSeconds: 2) }),
        ]
        for (name, make) in models {
            var times: [String] = []
            var html = ""
            for _ in 0..<3 {
                let clock = ContinuousClock()
                let start = clock.now
                let model = make()
                let built = clock.now
                html = model.html
                let end = clock.now
                times.append(String(format: "%.3f (model %.3f + template %.3f)", Self.seconds(end - start), Self.seconds(built - start), Self.seconds(end - built)))
            }
            try html.write(to: folder.appendingPathComponent("\(name).html"), atomically: true, encoding: .utf8)
            let line = "html-bench: \(name) page: \(site.observed.nodes.count) nodes, \(html.utf8.count) bytes, render s: "
                + times.joined(separator: " / ") + "\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}

/// Either page, for timing the model and the template apart.
protocol HTMLPageModel {
    var html: String { get }
}

extension PlanPage: HTMLPageModel {}
extension StatusPage: HTMLPageModel {}
