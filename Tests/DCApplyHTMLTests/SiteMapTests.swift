import DCApplyCore
@testable import DCApplyHTML
import Foundation
import Testing

@Suite("SiteMap and PlanPage without a browser")
struct SiteMapTests {
    @Test("the quickstart map nests site → rack, one cell per node, the racks' caps as bars")
    func quickstartMap() async throws {
        let fixture = try await SiteFixture.load("Examples/quickstart")
        let map = SiteMap(MapInput(desired: fixture.site.desired, observed: fixture.site.observed, target: fixture.plan.target,
                                   drawW: fixture.plan.targetDrawW, changes: NodeChange.of(fixture.plan.changes)))
        #expect(map.sites.map(\.title) == ["Site lab"])
        let racks = map.sites[0].children
        #expect(racks.map(\.title) == ["rack r01", "rack r02"])
        #expect(racks.map { $0.cells.map(\.name) } == [["gpu-r01-n01", "gpu-r01-n02", "gpu-r01-n03"], ["gpu-r02-n01", "gpu-r02-n02", "gpu-r02-n03"]])
        #expect(racks.allSatisfy { $0.hasBar && $0.bar.hasCap && $0.bar.text.hasSuffix("of 40.0 kW cap") })
        #expect(map.details.map(\.name) == racks.flatMap { $0.cells.map(\.name) })
        let replicas = Set(map.details.flatMap(\.replicas))
        #expect(replicas == ["llm-train #0", "llm-train #1", "llm-train #2", "llm-train #3"])
    }

    @Test("Manifests/ nests room → row → rack, in natural order, and marks the failed and degraded nodes")
    func manifestsMap() async throws {
        let fixture = try await SiteFixture.load("Manifests")
        let map = SiteMap(MapInput(desired: fixture.site.desired, observed: fixture.site.observed, target: fixture.plan.target, drawW: fixture.plan.targetDrawW))
        #expect(map.sites[0].children.map(\.title) == ["room A", "room B"])
        #expect(map.sites[0].children[0].children.map(\.title) == ["row 1", "row 2", "row 3"])
        #expect(map.sites[0].children[0].children[0].children.map(\.value) == ["r01", "r02", "r03", "r04", "r05"])
        #expect(map.nodeCount == 119)
        let cells = Dictionary(uniqueKeysWithValues: Self.cells(map.sites).map { ($0.name, $0) })
        #expect(cells["h100-r10-n03"]?.symbol == "✕")
        #expect(cells["h100-r10-n03"]?.classes.hasPrefix("s-failed ") == true)
        #expect(cells["l40s-r16-n07"]?.symbol == "!")
        #expect(cells["l40s-r16-n07"]?.label.contains("degraded") == true)
    }

    @Test("names and reasons are escaped in the page, and the details JSON cannot close its script element")
    func escapes() async throws {
        var fixture = try await SiteFixture.load("Examples/quickstart")
        fixture = SiteFixture(reconciler: fixture.reconciler, site: fixture.site, plan: {
            var plan = fixture.plan
            plan.problems.append(Problem(.warning, ResourceAddress("Workload", "x"), "<script>alert(1)</script> & more"))
            return plan
        }())
        var site = fixture.site
        site.observed.nodes["gpu-r01-n01"]?.labels["note"] = "</script><b>"
        let html = PlanPage(plan: fixture.plan, site: site, applied: StoredState()).html
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"))
        #expect(!html.contains("<script>alert(1)"))
        #expect(html.contains(#"note=\u003c/script>\u003cb>"#))
        #expect(html.components(separatedBy: "</script>").count == 3)  // the data and the page script
    }

    @Test("a plan page is self-contained: no address outside the page")
    func selfContained() async throws {
        let fixture = try await SiteFixture.load("Examples/quickstart")
        let html = PlanPage(plan: fixture.plan, site: fixture.site, applied: fixture.applied).html
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("src="))
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<p id=\"summary\">Plan: 4 to assign, 2 to attach, 4 to place.</p>"))
    }

    static func cells(_ blocks: [DomainBlock]) -> [NodeCell] {
        blocks.flatMap { $0.cells + cells($0.children) }
    }
}
