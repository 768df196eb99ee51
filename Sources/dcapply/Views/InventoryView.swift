import DCApplyCore
import Foundation

/// Observed nodes as a table, or as JSON in the inventory's shape.
enum InventoryView {
    static func text(_ observed: ObservedState, applied: TargetState) -> String {
        var rows = [["NAME", "SITE", "HEALTH", "POWER", "GPUS", "POOL", "LABELS"]]
        for node in observed.sortedNodes {
            let gpus = node.gpu.map { "\($0.count)x \($0.model)" } ?? "-"
            let labels = node.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            rows.append([node.name, node.site, node.health.rawValue, node.powerState.rawValue, gpus, applied.nodes[node.name]?.pool ?? "-", labels])
        }
        return Table.render(rows)
    }

    static func json(_ observed: ObservedState) -> String {
        let nodes: [[String: Any]] = observed.sortedNodes.map { node in
            var entry: [String: Any] = [
                "name": node.name, "site": node.site, "labels": node.labels, "capacity": node.capacity,
                "power": ["idleW": node.power.idleW, "maxW": node.power.maxW],
                "health": node.health.rawValue, "powerState": node.powerState.rawValue,
                "drives": node.drives.map { ["id": $0.id, "media": $0.media.rawValue, "capacityTiB": $0.capacityTiB, "selfEncrypting": $0.selfEncrypting] as [String: Any] },
            ]
            if let gpu = node.gpu { entry["gpus"] = ["model": gpu.model, "count": gpu.count, "memoryGiB": gpu.memoryGiB] as [String: Any] }
            return entry
        }
        let document: [String: Any] = ["apiVersion": ManifestSchemas.apiVersion, "kind": "Inventory", "nodes": nodes]
        guard let data = try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Left-aligned columns.
enum Table {
    static func render(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        var widths = Array(repeating: 0, count: first.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
