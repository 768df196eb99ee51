import DCApplyCore
@testable import DCApplyRedfish
import DCApplyTestSupport
import Foundation
import Testing

/// `dcapply` end to end on a Site whose provider is the emulator: plan, inventory show, apply
/// powering nodes on and off as the EnergyPolicy asks, and no credential anywhere.
@Suite(.timeLimit(.minutes(5)))
struct RedfishCLITests {
    /// Runs the built executable (`DCAPPLY_BINARY` wins) in `folder`.
    static func dcapply(_ arguments: [String], in folder: URL, environment: [String: String]) throws -> (code: Int32, stdout: String, stderr: String) {
        let result = try DCApplyRunner.run(arguments, in: folder, environment: environment)
        return (result.exitCode, result.stdout, result.stderr)
    }

    @Test func planInventoryAndApplyPowerTheEmulatorsNodesAndShowNoCredential() async throws {
        try await RedfishServices.withEmulator(systems: 3) { emulator in
            let folder = try RedfishServices.scratch("dcapply-redfish-cli")
            defer { try? FileManager.default.removeItem(at: folder) }
            let manifests = folder.appendingPathComponent("site")
            try FileManager.default.createDirectory(at: manifests, withIntermediateDirectories: true)
            func write(_ name: String, _ text: String) throws {
                try text.write(to: manifests.appendingPathComponent(name), atomically: true, encoding: .utf8)
            }
            try write("site.yaml", """
                apiVersion: dcapply/v1
                kind: Site
                metadata: {name: emu}
                spec:
                  failureDomains: [rack]
                  provider:
                    redfish:
                      endpoints: ["\(emulator.endpoint)"]
                      usernameFrom: env:BMC_USER
                      passwordFrom: env:BMC_PASSWORD
                      caFile: \(RedfishServices.caFile)
                      labelsFrom: racks.labels
                ---
                apiVersion: dcapply/v1
                kind: EnergyPolicy
                metadata: {name: save}
                spec:
                  site: emu
                  rackPowerCapKW: 40
                  powerOffIdle: true
                  keepWarm: 0
                """)
            try write("racks.labels", (0..<3).map { "\(RedfishServices.uuid($0)): {name: emu-\($0), labels: {fabric: eth}}" }.joined(separator: "\n") + "\n")
            try write("tier.yaml", """
                apiVersion: dcapply/v1
                kind: StorageTier
                metadata: {name: scratch}
                spec:
                  site: emu
                  media: nvme
                  usableTiB: 6
                  protection: {replicas: 1}
                """)
            let environment = ["BMC_USER": emulator.username, "BMC_PASSWORD": emulator.password]
            let state = ["--state", "sqlite:" + folder.appendingPathComponent("state.db").path]
            var transcript = ""
            func run(_ arguments: [String]) throws -> (code: Int32, stdout: String, stderr: String) {
                let result = try Self.dcapply(arguments + state + ["-vv"], in: folder, environment: environment)
                transcript += result.stdout + result.stderr
                return result
            }

            let inventory = try run(["inventory", "show", manifests.path, "--output", "json"])
            #expect(inventory.code == 0, "\(inventory.stderr)")
            let document = try #require(try JSONSerialization.jsonObject(with: Data(inventory.stdout.utf8)) as? [String: Any])
            let nodes = try #require(document["nodes"] as? [[String: Any]])
            #expect(nodes.compactMap { $0["name"] as? String } == ["emu-0", "emu-1", "emu-2"])
            #expect((nodes[0]["labels"] as? [String: String]) == ["fabric": "eth", "rack": "WEB43", "row": "North"])
            #expect((nodes[0]["drives"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["nvme0", "sata0"])
            #expect(nodes[0]["powerState"] as? String == "off")

            let planJSON = try run(["plan", manifests.path, "--output", "json"])
            #expect(planJSON.code == 0, "\(planJSON.stderr)")
            let plan = try run(["plan", manifests.path])
            #expect(plan.code == 0, "\(plan.stderr)")
            #expect(plan.stdout.contains("3 nodes observed"))
            #expect(plan.stdout.contains("power on"), "\(plan.stdout)")

            let apply = try run(["apply", manifests.path, "--yes"])
            #expect(apply.code == 0, "\(apply.stdout)\(apply.stderr)")
            let site = try RedfishTestSupport.site("endpoints: [\"\(emulator.endpoint)\"]\nusernameFrom: env:U\npasswordFrom: env:P\ninsecureSkipVerify: true", in: folder, name: "emu")
            let provider = try RedfishTestSupport.provider(site, environment: ["U": emulator.username, "P": emulator.password])
            #expect(try await provider.observe(site: site).nodes.filter { $0.powerState == .on }.count == 1)

            // Nothing hosts anything any more: powerOffIdle turns the node off again. Removing
            // the only tier takes away every drive and powered node: issue 13's guard wants
            // --allow-destroy.
            try FileManager.default.removeItem(at: manifests.appendingPathComponent("tier.yaml"))
            let refused = try run(["apply", manifests.path, "--yes"])
            #expect(refused.code == 1 && refused.stderr.contains("error: refused: this plan takes away more than 50% of what is applied"), "\(refused.stderr)")
            let again = try run(["apply", manifests.path, "--yes", "--allow-destroy"])
            #expect(again.code == 0, "\(again.stdout)\(again.stderr)")
            #expect(try await provider.observe(site: site).nodes.allSatisfy { $0.powerState == .off })

            // Rehearsing a failure works on real hardware too: the health override overlays the BMC's.
            #expect(try run(["inventory", "set", "emu-1", "health=failed"]).code == 0)
            let rehearsed = try run(["inventory", "show", manifests.path, "--output", "json"])
            let rehearsedNodes = try #require(try JSONSerialization.jsonObject(with: Data(rehearsed.stdout.utf8)) as? [String: Any])["nodes"] as? [[String: Any]]
            #expect(rehearsedNodes?.map { $0["health"] as? String } == ["healthy", "failed", "healthy"])

            // No credential in any output, log line or state row.
            let database = try Data(contentsOf: folder.appendingPathComponent("state.db"))
            let wal = (try? Data(contentsOf: folder.appendingPathComponent("state.db-wal"))) ?? Data()
            for secret in [emulator.password, Data("\(emulator.username):\(emulator.password)".utf8).base64EncodedString()] {
                #expect(!transcript.contains(secret))
                #expect(database.range(of: Data(secret.utf8)) == nil)
                #expect(wal.range(of: Data(secret.utf8)) == nil)
            }
        }
    }
}
