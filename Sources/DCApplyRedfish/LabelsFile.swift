import DCApplyCore
import Foundation
import Yams

/// The `labelsFrom` file: a YAML map whose keys are a System's UUID, its SerialNumber, its
/// endpoint URL or its default node name, each to `{name: NODE, labels: {...}, power: {idleW, maxW}}` (every field
/// optional). It names nodes and labels them where the BMCs don't say.
struct LabelsFile: Sendable {
    struct Entry: Sendable, Equatable {
        var name: String?
        var labels: [String: String] = [:]
        var power: PowerRating?
    }

    var entries: [String: Entry] = [:]

    /// The entry for a system: by UUID, then SerialNumber, then the System's URL, then the
    /// endpoint, then the node name it would have by default. UUIDs match case-insensitively.
    func entry(uuid: String?, serialNumber: String?, systemURL: String, endpoint: String, defaultName: String) -> Entry? {
        // The most specific key first: cloned BMC images repeat UUIDs and serial numbers (DMTF's
        // composability mockups do), and only the System's URL then tells the systems apart.
        if let found = entries[systemURL] { return found }
        if let uuid, let found = entries[uuid] ?? entries[uuid.lowercased()] ?? entries[uuid.uppercased()] { return found }
        if let serialNumber, let found = entries[serialNumber] { return found }
        return entries[endpoint] ?? entries[endpoint + "/"] ?? entries[defaultName]
    }

    /// Reads and checks the file; problems are diagnostics at the file's lines.
    static func read(path: String) -> (LabelsFile, [Diagnostic]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            return (LabelsFile(), [.error("labelsFrom: cannot read \(path)")])
        }
        return parse(String(decoding: data, as: UTF8.self), path: path)
    }

    static func parse(_ text: String, path: String) -> (LabelsFile, [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        func at(_ node: Node) -> SourceLocation? {
            node.mark.map { SourceLocation(file: path, line: $0.line, column: $0.column) }
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            return (LabelsFile(), [.error("labelsFrom: \(path) is not YAML: \(error)")])
        }
        guard let root else { return (LabelsFile(), []) }
        guard let mapping = root.mapping else {
            return (LabelsFile(), [.error("labelsFrom: expected a map of UUID, serial number or endpoint URL to {name, labels}", at: at(root))])
        }
        var file = LabelsFile()
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string, let fields = value.mapping else {
                diagnostics.append(.error("labelsFrom: each entry maps a key to {name, labels}", at: at(value)))
                continue
            }
            var entry = Entry()
            for (fieldNode, fieldValue) in fields {
                switch fieldNode.scalar?.string {
                case "name":
                    guard let name = fieldValue.scalar?.string, Names.isDNSLabel(name) else {
                        diagnostics.append(.error("labelsFrom: \(key): name must be a DNS label", at: at(fieldValue)))
                        continue
                    }
                    entry.name = name
                case "labels":
                    guard let labels = fieldValue.mapping else {
                        diagnostics.append(.error("labelsFrom: \(key): labels must be a map", at: at(fieldValue)))
                        continue
                    }
                    for (labelKey, labelValue) in labels {
                        guard let label = labelKey.scalar?.string, Names.isLabelKey(label), let text = labelValue.scalar?.string else {
                            diagnostics.append(.error("labelsFrom: \(key): labels must map label keys to strings", at: at(labelKey)))
                            continue
                        }
                        entry.labels[label] = text
                    }
                case "power":
                    guard let idle = fieldValue.mapping?["idleW"]?.scalar.flatMap({ Double($0.string) }),
                          let max = fieldValue.mapping?["maxW"]?.scalar.flatMap({ Double($0.string) }), idle >= 0, max >= idle else {
                        diagnostics.append(.error("labelsFrom: \(key): power must be {idleW, maxW} with 0 <= idleW <= maxW", at: at(fieldValue)))
                        continue
                    }
                    entry.power = PowerRating(idleW: idle, maxW: max)
                default:
                    diagnostics.append(.error("labelsFrom: \(key): unknown field \(fieldNode.scalar?.string ?? "?"); expected name, labels or power", at: at(fieldNode)))
                }
            }
            file.entries[key] = entry
        }
        return (file, diagnostics)
    }
}
