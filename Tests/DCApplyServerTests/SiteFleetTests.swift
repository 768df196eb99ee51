import DCApplyCore
import DCApplyGit
import DCApplyServer
import Foundation
import Testing

/// One serve, several sites: each folder a glob matches is a site named by its Site, with its
/// own status and metrics; folders come and go with commits; /status and /readyz cover all.
@Suite("SiteFleet")
struct SiteFleetTests {
    static func twoSites(_ harness: FleetHarness) throws -> String {
        harness.git.commit(try FleetHarness.files(folder: "east", site: "east").merging(try FleetHarness.files(folder: "west", site: "west")) { $1 },
                           message: "two sites")
    }

    @Test func eachFolderIsASiteWithItsOwnStatusAndMetrics() async throws {
        let harness = FleetHarness()
        let head = try Self.twoSites(harness)
        let fleet = harness.fleet(["sites/*"])
        let started = fleet.refresh().started
        #expect(started.map(\.name) == ["east", "west"])
        #expect(started.map(\.path) == ["sites/east", "sites/west"])
        #expect(fleet.state.status.readiness == (false, "not ready: 2 of 2 sites have not finished a pass\neast: first pass not finished\nwest: first pass not finished\n"))

        for site in started { #expect(await site.loop.pass(.start) == .apply(revision: head, isNew: true)) }
        let status = fleet.state.status
        #expect(status.sites.map(\.site) == ["east", "west"])
        #expect(status.sites.map(\.lastAppliedRevision) == [head, head])
        #expect(status.revision == head)
        #expect(status.problems.isEmpty)
        #expect(status.readiness == (true, "ready: 2 sites\neast: serving revision \(head.prefix(12))\nwest: serving revision \(head.prefix(12))\n"))
        #expect(status.json.contains(#""site" : "east""#))
        #expect(status.json.contains("\"paths\" : [\n    \"sites/*\"\n  ]"))
        // Each site's store holds its own apply; the metrics tell the sites apart.
        #expect(try harness.store("east").history().count == 1)
        #expect(try harness.store("west").load().revision == head)
        let metrics = fleet.state.metricsText
        #expect(metrics.contains(#"dcapply_reconcile_total{site="east",result="success"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"dcapply_reconcile_total{site="west",result="success"} 1"#))
        #expect(metrics.contains(#"dcapply_revision_info{site="west",revision="\#(head)"} 1"#))
    }

    @Test func aFolderAddedByACommitIsServedAndARemovedOneStopsWithItsStateKept() async throws {
        let harness = FleetHarness()
        let first = try Self.twoSites(harness)
        let fleet = harness.fleet(["sites/*"])
        for site in fleet.refresh().started { await site.loop.pass(.start) }

        harness.git.commit(changing: try FleetHarness.files(folder: "north", site: "north"), message: "a third site")
        let added = fleet.refresh()
        #expect(added.started.map(\.name) == ["north"])
        #expect(added.stopped.isEmpty)
        #expect(fleet.state.sites.map(\.name) == ["east", "north", "west"])

        let west = try #require(fleet.state.site("west"))
        var removal: [String: Data?] = [:]
        for path in try FleetHarness.files(folder: "west", site: "west").keys { removal[path] = .some(nil) }
        harness.git.commit(changing: removal, message: "west retired")
        let removed = fleet.refresh()
        #expect(removed.started.isEmpty)
        #expect(removed.stopped.map(\.name) == ["west"])
        #expect(west.state.isStopping, "its loop ends after the pass under way")
        #expect(fleet.state.status.sites.compactMap(\.site) == ["east", "north"])
        #expect(try harness.store("west").load().revision == first, "nothing of a site no longer served is deleted")
    }

    @Test func foldersWithoutOneSiteOrNamingTheSameSiteAreReportedNotServed() async throws {
        let harness = FleetHarness()
        var files = try FleetHarness.files(folder: "east", site: "east")
        files.merge(try FleetHarness.files(folder: "copy", site: "east")) { $1 }
        files["sites/empty/inventory.yaml"] = try FleetHarness.files(folder: "x", site: "x")["sites/x/inventory.yaml"]
        files["sites/west/site.yaml"] = try FleetHarness.files(folder: "west", site: "west")["sites/west/site.yaml"]
        harness.git.commit(files, message: "messy")
        let fleet = harness.fleet(["sites/*"])
        #expect(fleet.refresh().started.map(\.name) == ["west"])
        #expect(fleet.state.status.problems == [
            "sites/empty: declares no Site; not served",
            "sites/copy, sites/east all declare Site east; none is served until one names another Site",
        ])
    }

    @Test func aGlobMatchingNothingIsNotReady() throws {
        let harness = FleetHarness()
        _ = try Self.twoSites(harness)
        let fleet = harness.fleet(["regions/*"])
        #expect(fleet.refresh().started.isEmpty)
        #expect(fleet.state.status.readiness == (false, "not ready: no site to serve: no folder matching regions/* declares a Site\n"))
    }

    @Test(.timeLimit(.minutes(5)))
    func runServesEverySiteAtOnceAndAStopEndsThemAll() async throws {
        let harness = FleetHarness()
        let head = try Self.twoSites(harness)
        let fleet = harness.fleet(["sites/east", "sites/west"])
        let running = Task { try await fleet.run() }
        // The fleet and both sites' loops asleep until their next interval: every site passed once.
        let deadline = Date().addingTimeInterval(120)  // a loaded machine
        while harness.clock.sleeperCount < 3 && Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(harness.clock.sleeperCount == 3)
        #expect(fleet.state.status.sites.map(\.lastAppliedRevision) == [head, head])
        fleet.state.stop()
        try await running.value
        #expect(fleet.state.sites.allSatisfy { $0.state.isStopping })
    }

    @Test(.timeLimit(.minutes(5)))
    func aSlowApplyOnOneSiteDoesNotHoldAnotherSiteBack() async throws {
        let harness = FleetHarness()
        let head = try Self.twoSites(harness)
        // east's apply waits 60 s after its first action (a real sleep, ended by the cancellation below).
        let fleet = harness.fleet(["sites/*"], failpoints: ["east": try Failpoints(parsing: "apply.action=sleep:60000@1")])
        let running = Task { try await fleet.run() }
        var west: ServeStatus?
        let deadline = Date().addingTimeInterval(120)  // a loaded machine
        while Date() < deadline {
            west = fleet.state.site("west")?.state.status.withLock { $0 }
            if west?.reconcileCount == 1 { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        let east = try #require(fleet.state.site("east")).state.status.withLock { $0 }
        #expect(west?.lastAppliedRevision == head, "west applied")
        #expect(east.reconcileCount == 0, "while east's first pass still runs")
        #expect(east.condition("Reconciling")?.status == "True")
        fleet.state.stop()
        running.cancel()
        try await running.value
    }
}
