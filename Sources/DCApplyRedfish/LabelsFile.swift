import DCApplyCore
import Foundation

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

    /// Reads and checks the file; problems are diagnostics at the file's lines. The file goes
    /// through the same reader as manifests: its size, UTF-8, nesting depth and alias expansion
    /// are bounded by `limits`.
    static func read(path: String, limits: InputLimits = .standard) -> (LabelsFile, [Diagnostic]) {
        switch SourceReader.read(URL(fileURLWithPath: path), displayPath: path, limits: limits) {
        case .failure(let diagnostic):
            var diagnostic = diagnostic
            diagnostic.message = "labelsFrom: \(diagnostic.message)"
            return (LabelsFile(), [diagnostic])
        case .success(let source):
            return parse(source.text, path: path, limits: limits)
        }
    }

    /// Checks `text`, composed by the hardened YAML reader shared with manifests
    /// (``YAMLDocuments``); every problem is a diagnostic at `path:line:column`.
    static func parse(_ text: String, path: String, limits: InputLimits = .standard) -> (LabelsFile, [Diagnostic]) {
        func at(_ node: YAMLNode) -> SourceLocation { SourceLocation(file: path, line: node.line, column: node.column) }
        func at(_ scalar: YAMLScalar) -> SourceLocation { SourceLocation(file: path, line: scalar.line, column: scalar.column) }
        let (documents, yamlDiagnostics) = YAMLDocuments.parse(SourceFile(path: path, text: text), limits: limits)
        var diagnostics = yamlDiagnostics.map { diagnostic in
            var diagnostic = diagnostic
            diagnostic.message = "labelsFrom: \(diagnostic.message)"
            return diagnostic
        }
        // A syntax error or a broken limit leaves no document to read.
        guard let document = documents.first else { return (LabelsFile(), diagnostics) }
        if let second = documents.dropFirst().first {
            diagnostics.append(.error("labelsFrom: a labels file holds one document", at: second.start))
            return (LabelsFile(), diagnostics)
        }
        guard case .mapping(let mapping) = document.root else {
            diagnostics.append(.error("labelsFrom: expected a map of UUID, serial number or endpoint URL to {name, labels}", at: at(document.root)))
            return (LabelsFile(), diagnostics)
        }
        var file = LabelsFile()
        for (keyScalar, value) in mapping.pairs {
            let key = keyScalar.text
            guard case .mapping(let fields) = value else {
                diagnostics.append(.error("labelsFrom: each entry maps a key to {name, labels}", at: at(value)))
                continue
            }
            var entry = Entry()
            for (field, fieldValue) in fields.pairs {
                switch field.text {
                case "name":
                    guard let name = fieldValue.scalar?.text, Names.isDNSLabel(name) else {
                        diagnostics.append(.error("labelsFrom: \(key): name must be a DNS label", at: at(fieldValue)))
                        continue
                    }
                    entry.name = name
                case "labels":
                    guard case .mapping(let labels) = fieldValue else {
                        diagnostics.append(.error("labelsFrom: \(key): labels must be a map", at: at(fieldValue)))
                        continue
                    }
                    for (label, labelValue) in labels.pairs {
                        guard Names.isLabelKey(label.text), let text = labelValue.scalar?.text else {
                            diagnostics.append(.error("labelsFrom: \(key): labels must map label keys to strings", at: at(label)))
                            continue
                        }
                        entry.labels[label.text] = text
                    }
                case "power":
                    guard let idle = number(fieldValue, "idleW"), let max = number(fieldValue, "maxW"), idle >= 0, max >= idle else {
                        diagnostics.append(.error("labelsFrom: \(key): power must be {idleW, maxW} with 0 <= idleW <= maxW", at: at(fieldValue)))
                        continue
                    }
                    entry.power = PowerRating(idleW: idle, maxW: max)
                default:
                    diagnostics.append(.error("labelsFrom: \(key): unknown field \(field.text); expected name, labels or power", at: at(field)))
                }
            }
            file.entries[key] = entry
        }
        return (file, diagnostics)
    }

    /// A finite number in the field `name` of a mapping.
    private static func number(_ node: YAMLNode, _ name: String) -> Double? {
        guard case .mapping(let mapping) = node,
              let value = mapping.pairs.first(where: { $0.key.text == name })?.value.scalar,
              let number = Double(value.text), number.isFinite else { return nil }
        return number
    }
}
