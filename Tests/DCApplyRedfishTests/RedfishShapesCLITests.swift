import DCApplyTestSupport
import Foundation
import Testing

/// Storage and system shapes that real BMCs produce, observed by the built binary (debug in
/// `swift test`, the release binary in `scripts/e2e-release`): every one is observed without a
/// crash, and data dcapply cannot use is a warning naming the system and the field (issue 12).
@Suite(.timeLimit(.minutes(5)))
struct RedfishShapesCLITests {
    /// `dcapply inventory show --output json` on a Site with one Redfish endpoint.
    static func inventory(endpoint: String, labels: String? = nil) throws -> (result: DCApplyResult, nodes: [[String: Any]]) {
        let folder = try RedfishServices.scratch("dcapply-shapes")
        defer { try? FileManager.default.removeItem(at: folder) }
        var site = """
            apiVersion: dcapply/v1
            kind: Site
            metadata: {name: lab}
            spec:
              failureDomains: [rack]
              provider:
                redfish:
                  endpoints: ["\(endpoint)"]
            """
        if let labels {
            try labels.write(to: folder.appendingPathComponent("systems.labels"), atomically: true, encoding: .utf8)
            site += "\n      labelsFrom: systems.labels"
        }
        try site.write(to: folder.appendingPathComponent("site.yaml"), atomically: true, encoding: .utf8)
        let result = try DCApplyRunner.run(["inventory", "show", folder.path, "--output", "json", "--state", "memory:"], in: folder)
        let inventory = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return (result, (inventory?["nodes"] as? [[String: Any]]) ?? [])
    }

    static func drives(_ node: [String: Any]) -> [String] {
        ((node["drives"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
    }

    static let layouts: [RedfishServices.StorageLayout] = [
        .init(subsystems: 1, drivesEach: 0), .init(subsystems: 1, drivesEach: 1), .init(subsystems: 1, drivesEach: 4),
        .init(subsystems: 1, drivesEach: 24), .init(subsystems: 3, drivesEach: 4),
    ]

    /// The release binary of issue 12 died with SIGILL here as soon as a System listed two drives.
    @Test(arguments: layouts)
    func emulatorSystemsWithAnyNumberOfDrivesAndStorageSubsystemsAreObserved(layout: RedfishServices.StorageLayout) async throws {
        try await RedfishServices.withEmulator(systems: 2, secure: false, storage: layout) { emulator in
            let (result, nodes) = try Self.inventory(endpoint: emulator.endpoint)
            #expect(result.exitCode == 0, "\(result.stderr)")
            #expect(!result.stderr.contains("crashed"))
            #expect(nodes.count == 2)
            for node in nodes {
                let ids = Self.drives(node)
                #expect(ids.count == layout.subsystems * layout.drivesEach, "\(node)")
                #expect(Set(ids).count == ids.count)
                // In the order the service lists them: subsystem by subsystem, drive by drive.
                #expect(ids == (1...layout.subsystems).flatMap { s in (0..<layout.drivesEach).map { "d\(s)-\($0)" } })
            }
        }
    }

    /// A Drives that is an object, drives without CapacityBytes or media type, a Storage member
    /// that answers 404: the good drive is used, the rest are warnings that say what is wrong.
    @Test func oddStorageShapesAreWarningsNamingTheSubsystemAndDriveNeverACrash() async throws {
        let python = try RedfishServices.program("python3")
        let port = RedfishServices.freePort()
        let script = RedfishServices.fixtures.appendingPathComponent("odd_redfish.py").path
        try await RedfishServices.serve(python, [script, "\(port)"], port: port, secure: false) {
            let (result, nodes) = try Self.inventory(endpoint: "http://127.0.0.1:\(port)")
            #expect(result.exitCode == 0, "\(result.stderr)")
            let node = try #require(nodes.first)
            #expect(node["name"] as? String == "odd-odd-1")
            #expect(Self.drives(node) == ["good"])
            for warning in [
                "Storage 1 Drive nosize: no CapacityBytes; the drive is not used for 1 system (odd-odd-1)",
                "Storage 1 Drive nomedia: neither Protocol NVMe nor MediaType SSD or HDD; the drive is not used for 1 system (odd-odd-1)",
                "Storage 2: Drives is not an array for 1 system (odd-odd-1)",
                "Storage member 3 not offered (HTTP 404) for 1 system (odd-odd-1)",
            ] {
                #expect(result.stderr.contains("warning: Site lab: http://127.0.0.1:\(port): \(warning); observed with what is known"), "\(result.stderr)")
            }
        }
    }

    /// DMTF's public mockups (BSD-3; Fixtures/redfish-mockup/LICENSE.md) served by sushy-static.
    /// Their Systems repeat UUIDs, serial numbers and host names, so each is named by its URL.
    @Test(arguments: [("public-tower", 1), ("public-compose-action", 8), ("public-composability", 5)])
    func dmtfMockupsAreObservedWithEverySystemNamedByItsURL(mockup: String, systems: Int) async throws {
        let index = RedfishServices.fixtures.appendingPathComponent("redfish-mockup/\(mockup)/Systems/index.json")
        let collection = try JSONSerialization.jsonObject(with: Data(contentsOf: index)) as? [String: Any]
        let members = ((collection?["Members"] as? [[String: String]]) ?? []).compactMap { $0["@odata.id"] }
        #expect(members.count == systems)
        try await RedfishServices.withMockup(mockup) { endpoint in
            let labels = members.map { path in
                "\(endpoint)\(path): {name: \(path.split(separator: "/").last?.lowercased() ?? "x"), labels: {rack: r01}}"
            }.joined(separator: "\n") + "\n"
            let (result, nodes) = try Self.inventory(endpoint: endpoint, labels: labels)
            #expect(result.exitCode == 0, "\(result.stderr)")
            #expect(!result.stderr.contains("error:"), "\(result.stderr)")
            #expect(Set(nodes.compactMap { $0["name"] as? String }) == Set(members.compactMap { $0.split(separator: "/").last?.lowercased() }))
        }
    }

    /// Without names, systems that share a host name are an error that says how to name them.
    @Test func systemsSharingAHostNameAreAnErrorThatAsksForALabelsEntry() async throws {
        try await RedfishServices.withMockup("public-composability") { endpoint in
            let (result, _) = try Self.inventory(endpoint: endpoint)
            #expect(result.exitCode == 1)
            #expect(result.stderr.contains("/redfish/v1/Systems/ComposedSystem and \(endpoint)/redfish/v1/Systems/ComposedSystem2 are both named composed-system; name them in labelsFrom"), "\(result.stderr)")
        }
    }
}
