import DCApplyTestSupport
import Foundation
import Testing

/// serve's page at `/` in headless Chromium: it follows the daemon without a reload. Skipped,
/// with the reason, where Chromium is not installed.
@Suite("serve's status page in headless Chromium", .serialized, .enabled(if: ChromeDriver.isAvailable, Comment(rawValue: ChromeDriver.unavailableReason)), .timeLimit(.minutes(5)))
struct ServePageBrowserTests {
    @Test("the page shows each newly applied revision and a refused one without a reload", .timeLimit(.minutes(5)))
    func followsTheDaemonWithoutReload() async throws {
        let fixture = try GitFixture()
        try fixture.addQuickstart()
        let first = try fixture.commit("Quickstart site")
        try fixture.push()
        let daemon = try ServeDaemon(fixture: fixture, interval: "1s")
        defer { daemon.stop() }
        try await daemon.waitUntilListening()
        try await daemon.waitFor("the first revision") { $0["lastAppliedRevision"] as? String == first }
        let page = try daemon.request("")
        #expect(page.status == 200)
        #expect(page.body.hasPrefix("<!DOCTYPE html>"))

        let driver = try ChromeDriver()
        defer { driver.stop() }
        let browser = try driver.session()
        defer { browser.close() }
        try browser.open("http://127.0.0.1:\(daemon.port)/")
        #expect(try browser.text("#last-applied") == first)
        #expect(try browser.execute("return document.querySelectorAll('#map .node').length;") as? Int == 6)
        #expect(try browser.text("#audit").hasPrefix("holds: "))
        // A reload would drop this marker.
        _ = try browser.execute("window.dcapplyMarker = 'same page'; return true;")

        try fixture.edit("manifests/site.yaml", replacing: "\n  replicas: 4\n", with: "\n  replicas: 2\n")
        let second = try fixture.commit("Two replicas")
        try fixture.push()
        try await daemon.waitFor("the second revision") { $0["lastAppliedRevision"] as? String == second }
        try browser.waitUntil("the page to show \(second.prefix(12))", timeout: 30,
                              "return document.getElementById('last-applied').textContent === '\(second)';")
        #expect(try browser.execute("return window.dcapplyMarker;") as? String == "same page")
        #expect(try browser.execute("return document.querySelectorAll('#history tbody tr').length;") as? Int == 2)
        #expect(try browser.text("#workloads").contains("2 of 2"))
        // Details still open on click after the swap.
        try browser.click("#node-gpu-r01-n01")
        #expect(try browser.text("#detail h3") == "gpu-r01-n01")

        try fixture.edit("manifests/site.yaml", replacing: "\n  replicas: 2\n", with: "\n  replicas: lots\n")
        let broken = try fixture.commit("Broken")
        try fixture.push()
        try await daemon.waitFor("the refusal") { $0["refusedRevision"] as? String == broken }
        try browser.waitUntil("the page to show the refusal", timeout: 30,
                              "var r = document.getElementById('refused'); return !!r && r.textContent.indexOf('\(broken)') >= 0;")
        #expect(try browser.text("#refused").contains("1 error in the manifests"))
        #expect(try browser.text("#last-applied") == second)
        #expect(try browser.text("#last-attempted") == broken)
        #expect(try browser.execute("return window.dcapplyMarker;") as? String == "same page")
    }
}
