/// Reads a local inventory file (nodes and templates) into observed nodes. Pure.
public struct InventoryParser {
    public var limits: InputLimits

    public init(limits: InputLimits = .standard) {
        self.limits = limits
    }

    public func parse(_ source: SourceFile, site: String) -> (nodes: [ObservedNode], diagnostics: [Diagnostic]) {
        let (documents, yamlDiagnostics) = YAMLDocuments.parse(source, limits: limits)
        var diagnostics = yamlDiagnostics
        // A syntax error leaves no document; a duplicate key leaves it whole, so keep checking.
        guard !(documents.isEmpty && yamlDiagnostics.hasErrors) else { return ([], diagnostics) }
        guard documents.count == 1, let document = documents.first else {
            let location = documents.dropFirst().first?.start ?? SourceLocation(file: source.path, line: 1, column: 1)
            return ([], diagnostics + [.error(documents.isEmpty ? "the inventory file is empty; expected apiVersion: \(ManifestSchemas.apiVersion), kind: Inventory, nodes: [...]" : "an inventory file holds one document", at: location)])
        }
        var validator = SchemaValidator(file: source.path, limits: limits)
        validator.validate(document.root, as: .object(ManifestSchemas.inventory), path: "")
        diagnostics += validator.diagnostics
        guard !validator.diagnostics.hasErrors else { return ([], diagnostics) }

        var nodes: [ObservedNode] = []
        nodes.reserveCapacity(document.root.field("nodes")?.elements.count ?? 0)
        // Where each accepted name was declared, for the duplicate message. While the names come
        // in increasing order (a generated inventory's do) a new name cannot repeat an earlier
        // one, so the map is built only at the first name out of order (decision 440).
        var seen: [String: SourceLocation] = [:]
        var increasing = true
        func add(_ node: ObservedNode, path: String, namePath: String, entry: YAMLNode) {
            var ids: Set<String> = []
            for drive in node.drives where !ids.insert(drive.id).inserted {
                diagnostics.append(.error("node \(quoted(node.name)) has two drives with id \(quoted(drive.id)); drive ids are unique on a node",
                                          at: (entry.field("drives") ?? entry).location(in: source.path), field: "\(path).drives"))
            }
            if node.power.maxW < node.power.idleW {
                diagnostics.append(.error("maxW (\(format(node.power.maxW))) is below idleW (\(format(node.power.idleW)))",
                                          at: (entry.field("power") ?? entry).location(in: source.path), field: "\(path).power"))
            }
            // Most values hold no `{`: the byte scan spares them Foundation's substring search.
            if let label = node.labels.first(where: { $0.value.utf8.contains(UInt8(ascii: "{")) && ($0.value.contains("{rack") || $0.value.contains("{index")) }) {
                diagnostics.append(.error("label \(quoted(label.key)) keeps the placeholder \(quoted(label.value)): the template lists no values for it",
                                          at: (entry.field("labels") ?? entry).location(in: source.path), field: "\(path).labels.\(label.key)"))
            }
            if increasing, let last = nodes.last, node.name <= last.name {
                increasing = false
                seen.reserveCapacity(nodes.count + 1)
                for earlier in nodes { seen[earlier.name] = earlier.source }
            }
            if !increasing {
                if let first = seen[node.name] {
                    diagnostics.append(.error("duplicate node \(quoted(node.name)): also declared at \(first)", at: node.source, field: namePath))
                    return
                }
                seen[node.name] = node.source
            }
            nodes.append(node)
        }
        for (index, entry) in (document.root.field("nodes")?.elements ?? []).enumerated() {
            let name = entry.field("name")?.text ?? ""
            add(makeNode(name: name, entry: entry, site: site, file: source.path, substitute: nil), path: "nodes[\(index)]", namePath: "nodes[\(index)].name", entry: entry)
        }
        for (index, template) in (document.root.field("templates")?.elements ?? []).enumerated() {
            let path = "templates[\(index)]"
            let pattern = template.field("namePattern")?.text ?? ""
            let racks: [TemplateValue] = template.field("racks").map { $0.elements.map { node in
                node.integer.map(TemplateValue.integer) ?? .text(node.text ?? "")
            } } ?? []
            if racks.isEmpty && pattern.contains("{rack") {
                diagnostics.append(.error("namePattern uses {rack} but the template lists no racks", at: location(template, source.path), field: "\(path).racks"))
                continue
            }
            if !pattern.contains("{index") {
                diagnostics.append(.error("namePattern must use {index} so the nodes of a rack get distinct names", at: location(template.field("namePattern") ?? template, source.path), field: "\(path).namePattern"))
                continue
            }
            let perRack = template.field("perRack")?.integer ?? 1
            let errorsBefore = diagnostics.count
            templateLoop: for rack in racks.isEmpty ? [nil] : racks.map(Optional.some) {
                for position in 1...max(perRack, 1) {
                    var values: [String: TemplateValue] = ["index": .integer(position)]
                    if let rack { values["rack"] = rack }
                    let substitute = { (text: String) in TemplatePattern.expand(text, values) }
                    let name = substitute(pattern)
                    guard Names.isDNSLabel(name) else {
                        diagnostics.append(.error("namePattern gives \(quoted(name)), which is not a DNS label", at: location(template.field("namePattern") ?? template, source.path), field: "\(path).namePattern"))
                        break templateLoop
                    }
                    add(makeNode(name: name, entry: template, site: site, file: source.path, substitute: substitute), path: path, namePath: "\(path).namePattern", entry: template)
                    if diagnostics.count > errorsBefore { break templateLoop }  // one report per template, not one per node
                }
            }
        }
        // Names are unique here (duplicates were refused), so a list that stayed in increasing
        // order (as a generated inventory usually is) is the sorted list: it is not sorted again.
        return (increasing ? nodes : nodes.sorted { $0.name < $1.name }, diagnostics)
    }

    private func location(_ node: YAMLNode, _ file: String) -> SourceLocation { node.location(in: file) }

    /// The node an inventory entry describes; `substitute` fills a template's placeholders in
    /// its labels (nil for a plain node).
    private func makeNode(name: String, entry: YAMLNode, site: String, file: String, substitute: ((String) -> String)?) -> ObservedNode {
        let fields = NodeFields(entry)
        var labels = fields.labels?.textMap ?? [:]
        if let substitute { labels = labels.mapValues(substitute) }
        let gpu = fields.gpus.map {
            GPUInfo(model: $0.field("model")?.text ?? "", count: $0.field("count")?.integer ?? 0, memoryGiB: $0.field("memoryGiB")?.number ?? 0)
        }
        var capacity = fields.capacity?.numberMap ?? [:]
        if capacity["gpus"] == nil, let gpu { capacity["gpus"] = Double(gpu.count) }
        let drives = (fields.drives?.elements ?? []).map {
            Drive(id: $0.field("id")?.text ?? "", media: Media(rawValue: $0.field("media")?.text ?? "") ?? .nvme,
                  capacityTiB: $0.field("capacityTiB")?.number ?? 0, selfEncrypting: $0.field("selfEncrypting")?.boolean ?? false)
        }
        let power = PowerRating(idleW: fields.power?.field("idleW")?.number ?? 0, maxW: fields.power?.field("maxW")?.number ?? 0)
        return ObservedNode(
            name: name, site: site, labels: labels, gpu: gpu, capacity: capacity, drives: drives, power: power,
            health: Health(rawValue: fields.health?.text ?? "") ?? .healthy,
            powerState: PowerState(rawValue: fields.powerState?.text ?? "") ?? .on,
            source: location(entry, file))
    }
}

/// The fields of an inventory entry `makeNode` reads, found in one walk over the entry's pairs
/// instead of one scan per field (decision 441). As ``YAMLNode/field(_:)``: a null value is
/// absent; keys are unique (the composer keeps the first of a repeated key).
private struct NodeFields {
    var labels: YAMLNode?
    var gpus: YAMLNode?
    var capacity: YAMLNode?
    var drives: YAMLNode?
    var power: YAMLNode?
    var health: YAMLNode?
    var powerState: YAMLNode?

    init(_ entry: YAMLNode) {
        guard case .mapping(let mapping) = entry else { return }
        for (key, value) in mapping.pairs {
            if case .scalar(let scalar) = value, scalar.isNull { continue }
            switch key.text {
            case "labels": labels = value
            case "gpus": gpus = value
            case "capacity": capacity = value
            case "drives": drives = value
            case "power": power = value
            case "health": health = value
            case "powerState": powerState = value
            default: break
            }
        }
    }
}

/// A value substituted into a template: integers can be zero-padded (`{rack:02}`).
enum TemplateValue {
    case integer(Int)
    case text(String)
}

enum TemplatePattern {
    /// Expands `{name}` and `{name:0N}` placeholders.
    static func expand(_ pattern: String, _ values: [String: TemplateValue]) -> String {
        var output = ""
        var index = pattern.startIndex
        while index < pattern.endIndex {
            if pattern[index] == "{", let close = pattern[index...].firstIndex(of: "}") {
                let inner = pattern[pattern.index(after: index)..<close]
                let parts = inner.split(separator: ":", maxSplits: 1)
                if let key = parts.first, let value = values[String(key)] {
                    switch value {
                    case .integer(let number):
                        let width = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
                        let digits = String(number)
                        output += String(repeating: "0", count: max(0, width - digits.count)) + digits
                    case .text(let text):
                        output += text
                    }
                    index = pattern.index(after: close)
                    continue
                }
            }
            output.append(pattern[index])
            index = pattern.index(after: index)
        }
        return output
    }
}
