/// Node health as the provider reports it.
public enum Health: String, Hashable, Sendable, CaseIterable {
    /// Takes new work.
    case healthy
    /// Keeps what it has, takes nothing new.
    case degraded
    /// Holds nothing.
    case failed
}

public enum PowerState: String, Hashable, Sendable, CaseIterable {
    case on, off
}

/// The GPUs of a node.
public struct GPUInfo: Hashable, Sendable {
    public var model: String
    public var count: Int
    public var memoryGiB: Double

    public init(model: String, count: Int, memoryGiB: Double) {
        self.model = model
        self.count = count
        self.memoryGiB = memoryGiB
    }
}

/// A drive on a node.
public struct Drive: Hashable, Sendable {
    public var id: String
    public var media: Media
    public var capacityTiB: Double
    public var selfEncrypting: Bool

    public init(id: String, media: Media, capacityTiB: Double, selfEncrypting: Bool) {
        self.id = id
        self.media = media
        self.capacityTiB = capacityTiB
        self.selfEncrypting = selfEncrypting
    }
}

/// A node's power rating, for the draw estimate.
public struct PowerRating: Hashable, Sendable {
    public var idleW: Double
    public var maxW: Double

    public init(idleW: Double, maxW: Double) {
        self.idleW = idleW
        self.maxW = maxW
    }
}

/// One machine as the provider observes it.
public struct ObservedNode: Hashable, Sendable {
    public var name: String
    public var site: String
    public var labels: [String: String]
    public var gpu: GPUInfo?
    /// Per resource key, `gpus` included (from `gpu.count` when not given).
    public var capacity: ResourceMap
    public var drives: [Drive]
    public var power: PowerRating
    public var health: Health
    public var powerState: PowerState
    /// Where the node is described, when it comes from a file.
    public var source: SourceLocation?

    public init(name: String, site: String, labels: [String: String], gpu: GPUInfo?, capacity: ResourceMap,
                drives: [Drive], power: PowerRating, health: Health, powerState: PowerState, source: SourceLocation? = nil) {
        self.name = name
        self.site = site
        self.labels = labels
        self.gpu = gpu
        self.capacity = capacity
        self.drives = drives
        self.power = power
        self.health = health
        self.powerState = powerState
        self.source = source
    }

    public var gpuCount: Int { Int(capacity["gpus"] ?? Double(gpu?.count ?? 0)) }
}

/// What the providers report: every node of every site, by name.
public struct ObservedState: Hashable, Sendable {
    public var nodes: [String: ObservedNode]

    public init(nodes: [String: ObservedNode] = [:]) {
        self.nodes = nodes
    }

    public var sortedNodes: [ObservedNode] { nodes.values.sorted { $0.name < $1.name } }
}

extension ObservedState {
    /// SHA-256 of everything observed that placement reads, in a canonical order: two
    /// observations with the same digest plan alike.
    public var digest: String {
        // One string, reserved, appended piece by piece (interpolating each line made a string
        // per line); nodes ordered by name through their keys, not by copying every node.
        var text = ""
        text.reserveCapacity(nodes.count * 256)
        for (_, key) in nodes.map({ ($0.value.name, $0.key) }).sorted(by: { $0.0 < $1.0 }) {
            guard let node = nodes[key] else { continue }
            text.append(node.name)
            text.append("\t")
            text.append(node.site)
            text.append("\t")
            text.append(node.health.rawValue)
            text.append("\t")
            text.append(node.powerState.rawValue)
            text.append("\t")
            text.append(node.power.idleW.description)
            text.append("\t")
            text.append(node.power.maxW.description)
            text.append("\n")
            for (key, value) in node.labels.sorted(by: { $0.key < $1.key }) {
                text.append("  label\t")
                text.append(key)
                text.append("\t")
                text.append(value)
                text.append("\n")
            }
            for (key, value) in node.capacity.sorted(by: { $0.key < $1.key }) {
                text.append("  capacity\t")
                text.append(key)
                text.append("\t")
                text.append(value.description)
                text.append("\n")
            }
            if let gpu = node.gpu { text += "  gpu\t\(gpu.model)\t\(gpu.count)\t\(gpu.memoryGiB)\n" }
            for drive in node.drives.sorted(by: { $0.id < $1.id }) {
                text += "  drive\t\(drive.id)\t\(drive.media.rawValue)\t\(drive.capacityTiB)\t\(drive.selfEncrypting)\n"
            }
        }
        return Digest.sha256(text)
    }
}
