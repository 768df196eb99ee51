import DCApplyCore
import DCApplyHTML
import DCApplyTestSupport
import Foundation
import Testing

/// The plan page in headless Chromium, driven over WebDriver: what a person sees and clicks.
/// Skipped, with the reason, where Chromium is not installed.
@Suite("Plan page in headless Chromium", .serialized, .enabled(if: ChromeDriver.isAvailable, Comment(rawValue: ChromeDriver.unavailableReason)), .timeLimit(.minutes(5)))
struct PlanPageBrowserTests {
    /// The state class and the `data-change` of every cell as the browser sees them.
    static let readCells = """
        return Array.from(document.querySelectorAll("#map .node")).map(function (b) {
          return [b.id.slice(5), Array.from(b.classList).filter(function (c) { return c.indexOf("s-") === 0; }).join(" "),
                  Array.from(b.classList).filter(function (c) { return c.indexOf("chg-") === 0; }).join(" ").slice(4),
                  (b.querySelector(".sym") || { textContent: "" }).textContent];
        });
        """

    static func cells(_ browser: WebDriverSession) throws -> [String: (state: String, change: String, symbol: String)] {
        let rows = try browser.execute(readCells) as? [[String]] ?? []
        return Dictionary(rows.map { ($0[0], (state: $0[1], change: $0[2], symbol: $0[3])) }, uniquingKeysWith: { first, _ in first })
    }

    /// Opens the page from a temporary file, removed once the browser has loaded it.
    static func open(_ page: PlanPage, name: String, in driver: ChromeDriver) throws -> WebDriverSession {
        let file = try SiteFixture.write(page.html, name: name)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let browser = try driver.session()
        try browser.open(file.absoluteString)
        return browser
    }

    @Test("every node of the quickstart and of Manifests/ is on the map with its state class", .timeLimit(.minutes(5)))
    func everyNode() async throws {
        let driver = try ChromeDriver()
        defer { driver.stop() }
        for folder in ["Examples/quickstart", "Manifests"] {
            let fixture = try await SiteFixture.load(folder)
            let browser = try Self.open(PlanPage(plan: fixture.plan, site: fixture.site, applied: fixture.applied), name: "plan.html", in: driver)
            defer { browser.close() }
            let cells = try Self.cells(browser)
            #expect(cells.keys.sorted() == fixture.site.observed.nodes.keys.sorted(), "\(folder)")
            for name in fixture.site.observed.nodes.keys.sorted() {
                #expect(cells[name]?.state == fixture.expectedStateClass(name), "\(folder): \(name)")
            }
            if folder == "Manifests" {
                #expect(cells["h100-r10-n03"]?.state == "s-failed" && cells["h100-r10-n03"]?.symbol == "✕")
                #expect(cells["l40s-r16-n07"]?.state == "s-degraded" && cells["l40s-r16-n07"]?.symbol == "!")
            }
        }
    }

    @Test("clicking a node shows its replicas; focusing one with the keyboard shows its details", .timeLimit(.minutes(5)))
    func clickShowsReplicas() async throws {
        let fixture = try await SiteFixture.load("Examples/quickstart")
        let placed = fixture.plan.target.workloads["llm-train"]?.replicas.first { $0.index == 2 }
        let node = try #require(placed?.nodes.first)
        let driver = try ChromeDriver()
        defer { driver.stop() }
        let browser = try Self.open(PlanPage(plan: fixture.plan, site: fixture.site, applied: fixture.applied), name: "plan.html", in: driver)
        defer { browser.close() }
        #expect(try browser.text("#detail").hasPrefix("Click or focus a node"))
        try browser.click("#node-\(node)")
        let detail = try browser.text("#detail")
        #expect(detail.contains(node))
        #expect(try browser.text("#detail .d-replicas") == "llm-train #2")
        #expect(try browser.text("#detail .d-pool") == "train")
        // Keyboard: focus moves to the next cell with the arrow key and its details follow.
        _ = try browser.execute("document.getElementById('node-gpu-r01-n01').focus(); return true;")
        #expect(try browser.text("#detail h3") == "gpu-r01-n01")
        _ = try browser.execute("""
            document.activeElement.dispatchEvent(new KeyboardEvent("keydown", {key: "ArrowRight", bubbles: true})); return true;
            """)
        #expect(try browser.text("#detail h3") == "gpu-r01-n02")
    }

    @Test("the plan after a node fails marks exactly the cells it changes, and the failed node", .timeLimit(.minutes(5)))
    func marksExactlyTheChangedCells() async throws {
        let store = InMemoryStateStore()
        let first = try await SiteFixture.load("Examples/quickstart", store: store)
        _ = try await first.reconciler.apply(first.plan, site: first.site)
        // gpu-r01-n01 holds a replica and is in the pool; it fails.
        var site = first.site
        site.observed.nodes["gpu-r01-n01"]?.health = .failed
        let plan = try first.reconciler.plan(site)
        let changed = SiteFixture.nodesNamed(by: plan.changes)
        #expect(changed.contains("gpu-r01-n01"))
        #expect(changed.count < site.observed.nodes.count)
        let driver = try ChromeDriver()
        defer { driver.stop() }
        let page = PlanPage(plan: plan, site: site, applied: try store.load())
        let browser = try Self.open(page, name: "plan.html", in: driver)
        defer { browser.close() }
        let cells = try Self.cells(browser)
        #expect(Set(cells.filter { !$0.value.change.isEmpty }.keys) == changed)
        #expect(cells["gpu-r01-n01"]?.state == "s-failed")
        #expect(cells["gpu-r01-n01"]?.symbol == "✕")
        #expect(cells["gpu-r01-n01"]?.change == "lose" || cells["gpu-r01-n01"]?.change == "move")
        // The change list has one row per change, the racks whose draw changes say so.
        #expect(try browser.execute("return document.querySelectorAll('table.changes tbody tr').length;") as? Int == plan.changes.count)
        let applied = try store.load().estimatedW
        let racks = Dictionary(grouping: site.observed.nodes.values) { $0.labels["rack"] ?? "" }
        let drawChanged = racks.filter { _, nodes in
            abs(nodes.reduce(0) { $0 + (applied[$1.name] ?? 0) } - nodes.reduce(0) { $0 + (plan.targetDrawW[$1.name] ?? 0) }) >= 0.5
        }.keys.sorted()
        let shown = try browser.execute("""
            return Array.from(document.querySelectorAll(".domain.draw-changed")).map(function (d) { return d.getAttribute("data-value"); }).sort();
            """) as? [String]
        #expect(shown == drawChanged)
    }

    @Test("the pool filter dims the cells of other pools; GPU-use colouring switches without a reload", .timeLimit(.minutes(5)))
    func filterAndColour() async throws {
        let fixture = try await SiteFixture.load("Manifests")
        let driver = try ChromeDriver()
        defer { driver.stop() }
        let browser = try Self.open(PlanPage(plan: fixture.plan, site: fixture.site, applied: fixture.applied), name: "plan.html", in: driver)
        defer { browser.close() }
        let pool = try #require(fixture.plan.target.nodes.values.compactMap(\.pool).min())
        let members = fixture.plan.target.nodes.filter { $0.value.pool == pool }.count
        let shown = try browser.execute("""
            var s = document.getElementById("pool-filter"); s.value = arguments[0]; s.dispatchEvent(new Event("change", {bubbles: true}));
            return document.querySelectorAll("#map .node:not(.dim)").length;
            """, [pool]) as? Int
        #expect(shown == members)
        try browser.click("#colour-gpu")
        let background = try browser.execute("""
            var b = document.querySelector("#map .node.s-healthy.g0.d1") || document.querySelector("#map .node.s-healthy.g0");
            return b ? getComputedStyle(b).backgroundColor : "";
            """) as? String
        #expect(background == "rgb(232, 238, 245)")  // --d0: idle by GPU use
    }
}
