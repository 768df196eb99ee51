import Foundation
import Testing
@testable import DCApplyCore

/// The local inventory file (shared/spec/inventory.md): nodes, templates, defaults, and the same
/// `file:line:column` errors as manifests.
@Suite struct InventoryParserTests {

    typealias Case = DiagnosticCase

    static func parse(_ text: String) -> (nodes: [ObservedNode], diagnostics: [Diagnostic]) {
        InventoryParser().parse(SourceFile(path: "inventory.yaml", text: text), site: "east-1")
    }

    static let header = "apiVersion: dcapply/v1\nkind: Inventory\n"

    static let example = """
        apiVersion: dcapply/v1
        kind: Inventory
        nodes:
          - name: gpu-r01-n01
            labels: {room: A, row: "1", rack: r01, leafSwitch: leaf-01, fabric: ib-ndr}
            gpus: {model: H100, count: 8, memoryGiB: 80}
            capacity: {cpuCores: 112, memoryGiB: 2048, nicGbps: 400}
            drives:
              - {id: nvme0, media: nvme, capacityTiB: 7.68, selfEncrypting: true}
              - {id: hdd0, media: hdd, capacityTiB: 20}
            power: {idleW: 1100, maxW: 10200}
            health: degraded
            powerState: off
          - name: gpu-r01-n02
            gpus: {model: A100, count: 8, memoryGiB: 40}
            capacity: {gpus: 4, cpuCores: 64}
        templates:
          - namePattern: "cpu-r{rack:02}-n{index:02}"
            racks: [1, 2]
            perRack: 3
            labels: {room: A, row: "2", rack: "r{rack:02}", slot: "s{index}"}
            capacity: {cpuCores: 64, memoryGiB: 512}
            power: {idleW: 150, maxW: 450}

        """

    @Test func nodesAndTemplatesExpand() throws {
        let (nodes, diagnostics) = Self.parse(Self.example)
        #expect(diagnostics.map(\.description) == [])
        #expect(nodes.map(\.name) == [
            "cpu-r01-n01", "cpu-r01-n02", "cpu-r01-n03", "cpu-r02-n01", "cpu-r02-n02", "cpu-r02-n03",
            "gpu-r01-n01", "gpu-r01-n02",
        ])
        #expect(nodes.allSatisfy { $0.site == "east-1" })

        let templated = try #require(nodes.first { $0.name == "cpu-r02-n03" })
        #expect(templated.labels == ["room": "A", "row": "2", "rack": "r02", "slot": "s3"])
        #expect(templated.capacity == ["cpuCores": 64, "memoryGiB": 512])
        #expect(templated.gpu == nil)
        #expect(templated.gpuCount == 0)
        #expect(templated.power == PowerRating(idleW: 150, maxW: 450))
        #expect(templated.drives == [])
        #expect(templated.health == .healthy, "health defaults to healthy")
        #expect(templated.powerState == .on, "powerState defaults to on")
        #expect(templated.source?.description == "inventory.yaml:18:5")
        #expect(nodes.filter { $0.name.hasPrefix("cpu-r01-") }.allSatisfy { $0.labels["rack"] == "r01" })
        #expect(nodes.first { $0.name == "cpu-r01-n01" }?.labels["slot"] == "s1")
    }

    @Test func explicitNodeFields() throws {
        let (nodes, _) = Self.parse(Self.example)
        let node = try #require(nodes.first { $0.name == "gpu-r01-n01" })
        #expect(node.labels == ["room": "A", "row": "1", "rack": "r01", "leafSwitch": "leaf-01", "fabric": "ib-ndr"])
        #expect(node.gpu == GPUInfo(model: "H100", count: 8, memoryGiB: 80))
        #expect(node.capacity == ["gpus": 8, "cpuCores": 112, "memoryGiB": 2048, "nicGbps": 400], "gpus.count becomes capacity gpus")
        #expect(node.gpuCount == 8)
        #expect(node.drives == [
            Drive(id: "nvme0", media: .nvme, capacityTiB: 7.68, selfEncrypting: true),
            Drive(id: "hdd0", media: .hdd, capacityTiB: 20, selfEncrypting: false),
        ])
        #expect(node.power == PowerRating(idleW: 1100, maxW: 10200))
        #expect(node.health == .degraded)
        #expect(node.powerState == .off)
        #expect(node.source?.description == "inventory.yaml:4:5")

        let limited = try #require(nodes.first { $0.name == "gpu-r01-n02" })
        #expect(limited.capacity == ["gpus": 4, "cpuCores": 64], "an explicit capacity gpus wins over gpus.count")
        #expect(limited.gpu?.count == 8)
        #expect(limited.gpuCount == 4)
        #expect(limited.labels == [:])
        #expect(limited.power == PowerRating(idleW: 0, maxW: 0))
    }

    @Test func templateWithStringRacksAndWithoutRacks() {
        let text = Self.header + """
            templates:
              - namePattern: "stor-{rack}-{index}"
                racks: [b7, c1]
                perRack: 2
                labels: {rack: "{rack}"}
                health: failed
                powerState: off
              - namePattern: "edge{index:03}"
                perRack: 2
                gpus: {model: L4, count: 1}

            """
        let (nodes, diagnostics) = Self.parse(text)
        #expect(diagnostics.map(\.description) == [])
        #expect(nodes.map(\.name) == ["edge001", "edge002", "stor-b7-1", "stor-b7-2", "stor-c1-1", "stor-c1-2"])
        #expect(nodes.first { $0.name == "stor-c1-2" }?.labels == ["rack": "c1"])
        #expect(nodes.filter { $0.name.hasPrefix("stor-") }.allSatisfy { $0.health == .failed && $0.powerState == .off })
        #expect(nodes.first { $0.name == "edge002" }?.capacity == ["gpus": 1])
    }

    /// Names are checked for repeats through a map only once they stop increasing (decision
    /// 440): a repeat before and after that point is still found, and the list comes out sorted.
    @Test func duplicatesAreFoundAroundTheFirstNameOutOfOrder() {
        let text = Self.header + "nodes:\n  - name: b\n  - name: d\n  - name: c\n  - name: b\n  - name: a\n  - name: c\n  - name: e\n"
        let (nodes, diagnostics) = Self.parse(text)
        #expect(diagnostics.map(\.description) == [
            #"inventory.yaml:7:5: error: nodes[3].name: duplicate node "b": also declared at inventory.yaml:4:5"#,
            #"inventory.yaml:9:5: error: nodes[5].name: duplicate node "c": also declared at inventory.yaml:6:5"#,
        ])
        #expect(nodes.map(\.name) == ["a", "b", "c", "d", "e"])
        #expect(nodes.first { $0.name == "c" }?.source?.line == 6)
    }

    @Test func metadataIsOptionalAndAnEmptyNodeListIsFine() {
        let (nodes, diagnostics) = Self.parse(Self.header + "metadata: {name: east-1-hw}\nnodes: []\n")
        #expect(diagnostics.isEmpty)
        #expect(nodes.isEmpty)
    }

    static let errorCases: [Case] = [
        Case("duplicate node names",
             header + "nodes:\n  - name: a\n  - name: b\n  - name: a\n",
             [#"inventory.yaml:6:5: error: nodes[2].name: duplicate node "a": also declared at inventory.yaml:4:5"#]),
        Case("a template repeats an explicit node's name",
             header + "nodes:\n  - name: cpu-2\ntemplates:\n  - {namePattern: \"cpu-{index}\", perRack: 3}\n",
             [#"inventory.yaml:6:5: error: templates[0].namePattern: duplicate node "cpu-2": also declared at inventory.yaml:4:5"#]),
        Case("template without {index}",
             header + "templates:\n  - namePattern: \"cpu-r{rack:02}\"\n    racks: [1, 2]\n    perRack: 2\n",
             ["inventory.yaml:4:18: error: templates[0].namePattern: namePattern must use {index} so the nodes of a rack get distinct names"]),
        Case("template uses {rack} but lists no racks",
             header + "templates:\n  - namePattern: \"cpu-r{rack:02}-{index}\"\n    perRack: 2\n",
             ["inventory.yaml:4:5: error: templates[0].racks: namePattern uses {rack} but the template lists no racks"]),
        Case("template gives a name that is not a DNS label",
             header + "templates:\n  - namePattern: \"cpu-{rack}-{index}\"\n    racks: [r01, B7]\n    perRack: 1\n",
             [#"inventory.yaml:4:18: error: templates[0].namePattern: namePattern gives "cpu-B7-1", which is not a DNS label"#]),
        Case("template without perRack",
             header + "templates:\n  - namePattern: \"n{index}\"\n",
             ["inventory.yaml:4:5: error: templates[0].perRack: required field is missing (nodes per rack; {index} counts from 1)"]),
        Case("perRack 0",
             header + "templates:\n  - {namePattern: \"n{index}\", perRack: 0}\n",
             ["inventory.yaml:4:40: error: templates[0].perRack: must be at least 1, got 0"]),
        Case("bad health and powerState values",
             header + "nodes:\n  - name: a\n    health: broken\n  - name: b\n    health: Failed\n    powerState: true\n",
             [#"inventory.yaml:5:13: error: nodes[0].health: expected one of healthy, degraded, failed, got "broken""#,
              #"inventory.yaml:7:13: error: nodes[1].health: expected one of healthy, degraded, failed, got "Failed"; did you mean "failed"?"#,
              #"inventory.yaml:8:17: error: nodes[1].powerState: expected one of on, off, got "true""#]),
        Case("missing apiVersion",
             "kind: Inventory\nnodes:\n  - name: a\n",
             ["inventory.yaml:1:1: error: apiVersion: required field is missing (always dcapply/v1)"]),
        Case("misspelt kind",
             "apiVersion: dcapply/v1\nkind: Inventroy\nnodes: []\n",
             [#"inventory.yaml:2:7: error: kind: expected one of Inventory, got "Inventroy"; did you mean "Inventory"?"#]),
        Case("two documents",
             header + "nodes:\n  - name: a\n---\n" + header + "nodes:\n  - name: b\n",
             ["inventory.yaml:6:1: error: an inventory file holds one document"]),
        Case("empty file",
             "",
             ["inventory.yaml:1:1: error: the inventory file is empty; expected apiVersion: dcapply/v1, kind: Inventory, nodes: [...]"]),
        Case("bad node name, fractional GPU count, unknown field",
             header + "nodes:\n  - name: GPU_1\n  - {name: x, gpus: {model: H100, count: 2.5}}\n  - {name: y, healt: failed}\n",
             [#"inventory.yaml:4:11: error: nodes[0].name: expected a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters, got "GPU_1""#,
              #"inventory.yaml:5:42: error: nodes[1].gpus.count: expected a non-negative integer, got "2.5""#,
              #"inventory.yaml:6:15: error: nodes[2].healt: unknown field "healt"; did you mean "health"?"#]),
        Case("drive with a bad media and no capacity",
             header + "nodes:\n  - name: a\n    drives:\n      - {id: d0, media: flash}\n",
             [#"inventory.yaml:6:25: error: nodes[0].drives[0].media: expected one of nvme, ssd, hdd, got "flash""#,
              "inventory.yaml:6:9: error: nodes[0].drives[0].capacityTiB: required field is missing (raw capacity)"]),
        Case("capacity with a bad key",
             header + "nodes:\n  - {name: a, capacity: {nic-gbps: 100}}\n",
             [#"inventory.yaml:4:26: error: nodes[0].capacity.nic-gbps: key "nic-gbps" is not valid: expected a resource key made of [a-zA-Z][a-zA-Z0-9]*"#]),
        Case("power without maxW",
             header + "nodes:\n  - {name: a, power: {idleW: 100}}\n",
             ["inventory.yaml:4:22: error: nodes[0].power.maxW: required field is missing (draw when on and fully used)"]),
        Case("malformed YAML",
             header + "nodes: [\n",
             ["inventory.yaml:4:1: error: YAML syntax: did not find expected node content while parsing a flow node"]),
        Case("tab indentation",
             header + "nodes:\n\t- name: a\n",
             ["inventory.yaml:4:1: error: YAML syntax: found character that cannot start any token while scanning for the next token"]),
        Case("absurd nesting",
             header + "nodes: " + String(repeating: "[", count: 10_000),
             ["inventory.yaml:3:207: error: nesting is deeper than 200 levels; no input file needs this"]),
        Case("nesting past 200 levels",
             header + "nodes: " + String(repeating: "[", count: 300),
             ["inventory.yaml:3:207: error: nesting is deeper than 200 levels; no input file needs this"]),
        Case("duplicate key in a node",
             header + "nodes:\n  - name: a\n    name: b\n",
             [#"inventory.yaml:5:5: error: nodes[0].name: duplicate key "name"; first at line 4, column 5"#]),
        // Mappings of 16 keys and more find a repeated key through an index (decision 392):
        // the first, the 16th and the 20th key repeated after 20 distinct ones.
        Case("duplicate keys in a mapping of 20 labels",
             header + "nodes:\n  - name: a\n    labels:\n" + (1...20).map { "      k\($0): v\n" }.joined()
                + "      k1: again\n      k16: again\n      k20: again\n",
             [#"inventory.yaml:26:7: error: nodes[0].labels.k1: duplicate key "k1"; first at line 6, column 7"#,
              #"inventory.yaml:27:7: error: nodes[0].labels.k16: duplicate key "k16"; first at line 21, column 7"#,
              #"inventory.yaml:28:7: error: nodes[0].labels.k20: duplicate key "k20"; first at line 25, column 7"#]),
        Case("a duplicate key as the 16th key of a mapping",
             header + "nodes:\n  - name: a\n    labels:\n" + (1...15).map { "      k\($0): v\n" }.joined() + "      k15: again\n",
             [#"inventory.yaml:21:7: error: nodes[0].labels.k15: duplicate key "k15"; first at line 20, column 7"#]),
    ]

    @Test(arguments: errorCases)
    func errors(_ c: Case) {
        let (_, diagnostics) = Self.parse(c.text)
        #expect(diagnostics.map(\.description) == c.expected)
    }

    @Test func invalidFileYieldsNoNodes() {
        let (nodes, diagnostics) = Self.parse(Self.header + "nodes:\n  - name: a\n  - name: b\n    health: broken\n")
        #expect(diagnostics.hasErrors)
        #expect(nodes.isEmpty)
    }

    @Test func duplicatesKeepTheFirstNode() {
        let (nodes, diagnostics) = Self.parse(Self.header + "nodes:\n  - {name: a, health: failed}\n  - {name: a}\n")
        #expect(diagnostics.count == 1)
        #expect(nodes.map(\.name) == ["a"])
        #expect(nodes.first?.health == .failed)
    }
}
