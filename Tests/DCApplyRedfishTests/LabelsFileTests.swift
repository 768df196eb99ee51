@testable import DCApplyRedfish
import DCApplyCore
import Foundation
import Testing

/// The labels file goes through the manifest reader's hardened composer: its limits hold, and
/// every problem is reported at `file:line:column`.
@Suite struct LabelsFileTests {
    static func messages(_ text: String, limits: InputLimits = .standard) -> [String] {
        LabelsFile.parse(text, path: "racks.yaml", limits: limits).1.map(\.description)
    }

    @Test func nestingDeeperThanTheLimitIsRefusedWhereItGoesTooDeep() {
        let text = "AAA: {labels: " + String(repeating: "[", count: 300) + String(repeating: "]", count: 300) + "}\n"
        #expect(Self.messages(text) == ["racks.yaml:1:213: error: labelsFrom: nesting is deeper than 200 levels; no input file needs this"])
    }

    @Test func anAliasBombIsRefusedAtTheAliasThatBreaksTheBudget() {
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for level in 1...8 {
            lines.append("a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]")
        }
        let (file, diagnostics) = LabelsFile.parse(lines.joined(separator: "\n") + "\n", path: "racks.yaml")
        #expect(file.entries.isEmpty)
        #expect(diagnostics.map(\.description) == [
            "racks.yaml:7:10: error: labelsFrom: aliases expand this document past 2000000 values; no input file needs this",
        ])
    }

    @Test func aHugeFileIsRefusedBeforeItIsParsed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("labels-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("racks.yaml").path
        try Data(("AAA: {name: \"" + String(repeating: "x", count: 2 << 20) + "\"}\n").utf8).write(to: URL(fileURLWithPath: path))
        var limits = InputLimits()
        limits.maxFileBytes = 1 << 20
        let (file, diagnostics) = LabelsFile.read(path: path, limits: limits)
        #expect(file.entries.isEmpty)
        #expect(diagnostics.map(\.description) == ["\(path):1:1: error: labelsFrom: file is 2 MiB; input files are limited to 1 MiB"])
    }

    @Test func aHugeScalarWithinTheFileLimitIsReadButIsNotADNSLabel() {
        let (file, diagnostics) = LabelsFile.parse("AAA: {name: " + String(repeating: "x", count: 100_000) + "}\n", path: "racks.yaml")
        #expect(file.entries["AAA"] == LabelsFile.Entry())
        #expect(diagnostics.map(\.description) == ["racks.yaml:1:13: error: labelsFrom: AAA: name must be a DNS label"])
    }

    @Test func bytesThatAreNotUTF8AreReportedAtTheirPosition() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("labels-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("racks.yaml").path
        try Data("AAA: {name: gpu-01}\nBBB: {name: \u{FF}}\n".utf8.map { $0 == 0xC3 ? 0xFF : $0 }).write(to: URL(fileURLWithPath: path))
        let (_, diagnostics) = LabelsFile.read(path: path)
        #expect(diagnostics.map(\.description) == ["\(path):2:13: error: labelsFrom: not UTF-8 text: invalid byte 0xFF at offset 32 (is this a binary file?)"])
    }

    @Test func syntaxErrorsDuplicateKeysAndOddShapesAreReportedAtTheirLines() {
        #expect(Self.messages("AAA: {name: gpu-01\nBBB: x\n") == [
            "racks.yaml:2:4: error: labelsFrom: YAML syntax: did not find expected ',' or '}' while parsing a flow mapping",
        ])
        #expect(Self.messages("AAA: {name: gpu-01}\nAAA: {name: gpu-02}\n") == [
            "racks.yaml:2:1: error: AAA: labelsFrom: duplicate key \"AAA\"; first at line 1, column 1",
        ])
        #expect(Self.messages("? [a, b]\n: {name: gpu-01}\n") == [
            "racks.yaml:1:3: error: labelsFrom: mapping keys must be strings, got a list",
        ])
        #expect(Self.messages("AAA: {name: gpu-01}\n---\nBBB: {name: gpu-02}\n") == [
            "racks.yaml:3:1: error: labelsFrom: a labels file holds one document",
        ])
        #expect(Self.messages("- AAA\n- BBB\n") == [
            "racks.yaml:1:1: error: labelsFrom: expected a map of UUID, serial number or endpoint URL to {name, labels}",
        ])
    }

    @Test func badLabelsAndPowerAreReportedAtTheirValues() {
        let (file, diagnostics) = LabelsFile.parse("""
            AAA: {labels: [rack, r01]}
            BBB: {labels: {"bad key!": x, rack: {nested: map}, row: "2"}}
            CCC: {power: {idleW: .inf, maxW: 900}}
            DDD: {power: {idleW: 500, maxW: 100}}
            EEE: plain
            FFF: {name: gpu-06, power: {idleW: 100, maxW: 900}}
            """, path: "racks.yaml")
        #expect(diagnostics.map(\.description) == [
            "racks.yaml:1:15: error: labelsFrom: AAA: labels must be a map",
            "racks.yaml:2:16: error: labelsFrom: BBB: labels must map label keys to strings",
            "racks.yaml:2:31: error: labelsFrom: BBB: labels must map label keys to strings",
            "racks.yaml:3:14: error: labelsFrom: CCC: power must be {idleW, maxW} with 0 <= idleW <= maxW",
            "racks.yaml:4:14: error: labelsFrom: DDD: power must be {idleW, maxW} with 0 <= idleW <= maxW",
            "racks.yaml:5:6: error: labelsFrom: each entry maps a key to {name, labels}",
        ])
        #expect(file.entries["BBB"] == LabelsFile.Entry(labels: ["row": "2"]))
        #expect(file.entries["FFF"] == LabelsFile.Entry(name: "gpu-06", power: PowerRating(idleW: 100, maxW: 900)))
    }
}
