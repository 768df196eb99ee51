import Foundation
import Testing

/// Issue 13: `serve` refuses a revision that takes away more than half of what is applied,
/// unless started with `--allow-destroy`; `/readyz` and the Ready condition say the same.
@Suite("serve and the blast-radius guard", .serialized)
struct ServeBlastRadiusTests {
    static func condition(_ status: [String: Any], _ type: String) -> [String: Any]? {
        (status["conditions"] as? [[String: Any]])?.first { $0["type"] as? String == type }
    }

    @Test func issue13ServeRefusesARevisionThatEmptiesTheSiteUnlessAllowed() async throws {
        let fixture = try GitFixture()
        try fixture.addQuickstart()
        let first = try fixture.commit("Quickstart site")
        try fixture.push()
        let daemon = try ServeDaemon(fixture: fixture, interval: "1s")
        try await daemon.waitUntilListening()
        try await daemon.waitFor("the first revision") { $0["lastAppliedRevision"] as? String == first }

        // The pool, workload and tier are left out of the next commit: a wrong edit, not a wish.
        let site = try String(contentsOf: fixture.work.appendingPathComponent("manifests/site.yaml"), encoding: .utf8)
        let kept = site.components(separatedBy: "\n---\n").filter {
            !$0.contains("kind: HardwarePool") && !$0.contains("kind: Workload") && !$0.contains("kind: StorageTier")
        }
        try fixture.write("manifests/site.yaml", kept.joined(separator: "\n---\n"))
        let emptied = try fixture.commit("Site only")
        try fixture.push()
        try await daemon.waitFor("the refusal") { $0["refusedRevision"] as? String == emptied }
        let status = try daemon.status()
        #expect(status["lastAppliedRevision"] as? String == first)
        let error = status["lastError"] as? String ?? ""
        #expect(error.contains("refused, staying on the last good revision: refused: this plan takes away more than 50% of what is applied: 4 of 4 pool members, 4 of 4 replicas, 2 of 2 drives, 0 of 6 powered nodes."), "\(error)")
        #expect(error.hasSuffix("Start serve with --allow-destroy to allow it."), "\(error)")
        #expect(Self.condition(status, "Ready")?["reason"] as? String == "DestroyRefused")
        let ready = try daemon.request("readyz")
        #expect(ready.status == 200, "the site still runs the last good revision")
        #expect(ready.body.hasPrefix("ready: serving revision \(first.prefix(12)); Ready=False (DestroyRefused): revision \(emptied.prefix(12)) refused"), "\(ready.body)")
        #expect(daemon.stop() == 0)

        let allowed = try ServeDaemon(fixture: fixture, interval: "1s", extra: ["--allow-destroy"])
        try await allowed.waitUntilListening()
        try await allowed.waitFor("the emptying revision, allowed") { $0["lastAppliedRevision"] as? String == emptied }
        #expect(try allowed.request("readyz").body == "ready\n")
        #expect(allowed.stop() == 0)
    }
}
