import DCApplyCore
@testable import DCApplyRedfish
import Foundation
import Testing

/// The mapping from Redfish resources to nodes, without a service.
struct NodeMapperTests {
    @Test(arguments: [
        ("Dev-Render-2", "dev-render-2"), ("node_01 (A)", "node-01-a"), ("--x--", "x"),
        (String(repeating: "a", count: 70), String(repeating: "a", count: 63)),
    ])
    func namesBecomeDNSLabels(_ text: String, _ label: String) {
        #expect(NodeMapper.dnsLabel(text) == label)
    }

    @Test func nodeNameIsHostNameElseNamePlusId() {
        #expect(NodeMapper.defaultName(.object(["HostName": .string("gpu7.example.net"), "Name": .string("X"), "Id": .string("1")])) == "gpu7")
        #expect(NodeMapper.defaultName(.object(["Name": .string("node-01"), "Id": .string("27946B59")])) == "node-01-27946b59")
        #expect(NodeMapper.defaultName(.object(["Name": .string("1"), "Id": .string("1")])) == "1")
    }

    @Test(arguments: [
        ("SSD", "NVMe", Media.nvme), ("HDD", "NVMe", .nvme), ("SSD", "SATA", .ssd), ("HDD", "SAS", .hdd),
    ])
    func mediaComesFromProtocolThenMediaType(_ mediaType: String, _ proto: String, _ media: Media) {
        #expect(NodeMapper.media(.object(["MediaType": .string(mediaType), "Protocol": .string(proto)])) == media)
    }

    @Test func healthFollowsStatus() {
        #expect(NodeMapper.health(.object(["State": .string("Enabled"), "Health": .string("OK")])) == .healthy)
        #expect(NodeMapper.health(.object(["Health": .string("Warning")])) == .degraded)
        #expect(NodeMapper.health(.object(["Health": .string("Critical")])) == .failed)
        #expect(NodeMapper.health(.object(["State": .string("Absent")])) == .failed)
        #expect(NodeMapper.health(nil) == .healthy)
    }

    @Test func labelsFromMatchesTheDefaultNameWhenNoOtherKeyDoes() {
        let (file, _) = LabelsFile.parse("node-01-abc: {name: gpu-07, labels: {rack: r07}}\n", path: "racks.labels")
        let system = JSONValue.object(["Id": .string("ABC"), "Name": .string("node-01"), "PowerState": .string("On")])
        let node = NodeMapper.node(SystemInventory(endpoint: "https://10.0.0.9", path: "/redfish/v1/Systems/ABC", system: system, drives: []),
                                   site: "lab", labelsFile: file)
        #expect(node.name == "gpu-07")
        #expect(node.labels == ["rack": "r07"])
        #expect(node.powerState == .on)
        #expect(node.power == PowerRating(idleW: 150, maxW: 450))
    }

    @Test func labelsFileReportsBadEntriesAtTheirLines() {
        let (file, diagnostics) = LabelsFile.parse("""
            ABC123: {name: gpu-01, labels: {rack: r01, row: 2}}
            other: {name: Bad_Name}
            third: {colour: red}
            """, path: "racks.yaml")
        #expect(file.entries["ABC123"] == LabelsFile.Entry(name: "gpu-01", labels: ["rack": "r01", "row": "2"]))
        #expect(diagnostics.map(\.description) == [
            "racks.yaml:2:15: error: labelsFrom: other: name must be a DNS label",
            "racks.yaml:3:9: error: labelsFrom: third: unknown field colour; expected name, labels or power",
        ])
    }
}
