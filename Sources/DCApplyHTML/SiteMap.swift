import DCApplyCore
import Foundation

/// The site map's view model: every Site as nested failure-domain blocks down to node cells,
/// each node's details, and the pools for the outline legend and filter. Pure: built from a
/// `MapInput`, the same input gives the same map.
public struct SiteMap: Sendable {
    public var sites: [DomainBlock]
    /// By `NodeCell.index`.
    public var details: [NodeDetail]
    public var pools: [PoolKey]
    public var nodeCount: Int

    /// A pool's name and its outline class (`p0`…`p7`).
    public struct PoolKey: Sendable, Hashable {
        public var name: String
        public var outline: String
    }

    /// Outline classes cycle through this many colours (and the pool's name is in every cell's
    /// accessible name and details, so colour is not the only signal).
    static let outlineCount = 8

    public init(_ input: MapInput) {
        let poolNames = Set(input.desired.pools.keys).union(input.target.nodes.values.compactMap(\.pool)).sorted()
        pools = poolNames.enumerated().map { PoolKey(name: $1, outline: "p\($0 % Self.outlineCount)") }
        let outline = Dictionary(uniqueKeysWithValues: pools.map { ($0.name, $0.outline) })
        let used = PowerModel.usage(of: input.target, desired: input.desired, observed: input.observed)
        let replicas = Self.replicasByNode(input.target, desired: input.desired)
        var builder = Builder(input: input, outline: outline, used: used, replicas: replicas)
        var blocks: [DomainBlock] = []
        let bySite = Dictionary(grouping: input.observed.sortedNodes, by: \.site)
        for siteName in Set(bySite.keys).union(input.desired.sites.keys).sorted() {
            let nodes = bySite[siteName] ?? []
            let site = input.desired.sites[siteName]
            blocks.append(builder.block(kind: "site", value: siteName, nodes: nodes, keys: (site?.failureDomains ?? [])[...],
                                        powerDomain: site?.powerDomain ?? "rack", policy: input.desired.energyPolicy(site: siteName)))
        }
        sites = blocks
        details = builder.details
        nodeCount = builder.details.count
    }

    /// `workload #index` per node, gangs marked, in workload then index order.
    static func replicasByNode(_ target: TargetState, desired: DesiredState) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for (name, state) in target.workloads.sorted(by: { $0.key < $1.key }) {
            for replica in state.replicas {
                let gang = replica.nodes.count > 1 ? " (gang of \(replica.nodes.count))" : ""
                for node in replica.nodes { result[node, default: []].append("\(name) #\(replica.index)\(gang)") }
            }
        }
        return result
    }

    /// Walks the failure domains, numbering nodes in map order.
    private struct Builder {
        let input: MapInput
        let outline: [String: String]
        let used: [String: ResourceMap]
        let replicas: [String: [String]]
        var details: [NodeDetail] = []

        init(input: MapInput, outline: [String: String], used: [String: ResourceMap], replicas: [String: [String]]) {
            self.input = input
            self.outline = outline
            self.used = used
            self.replicas = replicas
        }

        mutating func block(kind: String, value: String, nodes: [ObservedNode], keys: ArraySlice<String>, powerDomain: String,
                            policy: EnergyPolicy?) -> DomainBlock {
            var children: [DomainBlock] = []
            var cells: [NodeCell] = []
            if let key = keys.first {
                let groups = Dictionary(grouping: nodes) { $0.labels[key] ?? "" }
                for groupValue in groups.keys.sorted(by: MapFormat.naturalOrder) {
                    children.append(block(kind: key, value: groupValue, nodes: groups[groupValue] ?? [], keys: keys.dropFirst(),
                                          powerDomain: powerDomain, policy: policy))
                }
            } else {
                cells = nodes.map { cell(for: $0) }
            }
            let isPowerDomain = kind == powerDomain
            let bar = isPowerDomain ? self.bar(nodes: nodes, cap: policy?.capW(rack: value)) : .none
            var classes: [String] = []
            if bar.drawChanged { classes.append("draw-changed") }
            if bar.overCap { classes.append("over-cap") }
            let shown = value.isEmpty ? "(no \(kind) label)" : value
            return DomainBlock(kind: kind, value: value, title: kind == "site" ? "Site \(shown)" : "\(kind) \(shown)", children: children, cells: cells,
                               nodeCount: nodes.count, hasChildren: !children.isEmpty, hasCells: !cells.isEmpty, hasBar: isPowerDomain, bar: bar, classes: classes.joined(separator: " "))
        }

        func bar(nodes: [ObservedNode], cap: Double?) -> PowerBar {
            let draw = nodes.reduce(0) { $0 + (input.drawW[$1.name] ?? 0) }
            let full = nodes.reduce(0) { $0 + $1.power.maxW }
            let isPlan = !input.changes.isEmpty || !input.beforeW.isEmpty
            let before = nodes.reduce(0) { $0 + (input.beforeW[$1.name] ?? PowerModel.estimatedW($1, used: [:], on: $1.powerState == .on)) }
            let changed = isPlan && abs(before - draw) >= 0.5
            let maximum = cap ?? full
            let text = cap.map { "\(MapFormat.kW(draw)) of \(MapFormat.kW($0)) cap" } ?? "\(MapFormat.kW(draw)) (no cap; \(MapFormat.kW(full)) at full load)"
            return PowerBar(drawW: draw, maxW: max(maximum, 1), hasCap: cap != nil, text: text, overCap: cap.map { draw > $0 + 0.05 } ?? false,
                            drawChanged: changed, beforeText: changed ? "was \(MapFormat.kW(before))" : "", highW: maximum * 0.9)
        }

        mutating func cell(for node: ObservedNode) -> NodeCell {
            let index = details.count
            let state = input.target.nodes[node.name]
            let powerState = state?.powerState ?? node.powerState
            let pool = state?.pool ?? ""
            let (stateClass, symbol, words): (String, String, String) =
                switch (node.health, powerState) {
                case (.failed, _): ("s-failed", "✕", "failed")
                case (_, .off): ("s-off", "○", "powered off")
                case (.degraded, _): ("s-degraded", "!", "degraded")
                case (.healthy, .on): ("s-healthy", "", "healthy")
                }
            let draw = input.drawW[node.name] ?? 0
            let drawBucket = powerState == .off ? 0 : MapFormat.bucket(node.power.maxW > 0 ? draw / node.power.maxW : 0)
            let gpus = Double(node.gpuCount)
            let gpuBucket = gpus > 0 ? MapFormat.bucket((used[node.name]?["gpus"] ?? 0) / gpus) : 0
            var classes = [stateClass, "d\(drawBucket)", "g\(gpuBucket)"]
            if let poolOutline = outline[pool] { classes.append(poolOutline) }
            let change = input.changes[node.name]
            if let change { classes += ["chg", "chg-\(change.rawValue)"] }
            var label = "\(node.name), \(words)"
            if !pool.isEmpty { label += ", pool \(pool)" }
            if let change { label += ", \(change.words)" }
            details.append(detail(for: node, words: words, pool: pool, draw: draw, change: change))
            return NodeCell(index: index, name: node.name, classes: classes.joined(separator: " "), symbol: symbol, hasSymbol: !symbol.isEmpty,
                            stateWords: words, pool: pool, changed: change != nil, changeSymbol: change?.symbol ?? "", change: change?.rawValue ?? "",
                            label: label)
        }

        func detail(for node: ObservedNode, words: String, pool: String, draw: Double, change: NodeChange?) -> NodeDetail {
            let gpus = node.gpu.map { "\($0.count) × \($0.model) \(MapFormat.number($0.memoryGiB)) GiB" } ?? "none"
            let drives = node.drives.map { drive in
                "\(drive.id) \(drive.media.rawValue) \(MapFormat.number(drive.capacityTiB)) TiB\(drive.selfEncrypting ? " (self-encrypting)" : "")"
            }
            return NodeDetail(name: node.name, state: "\(words) (health \(node.health.rawValue), power \(node.powerState.rawValue))",
                              pool: pool.isEmpty ? "none" : pool, gpus: gpus,
                              drawW: draw, maxW: node.power.maxW,
                              replicas: replicas[node.name] ?? [], labels: node.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" },
                              drives: drives, source: node.source?.description ?? "provider", change: change?.words ?? "")
        }
    }
}
