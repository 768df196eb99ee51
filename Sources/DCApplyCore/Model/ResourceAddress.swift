/// The address of something dcapply manages or observes: `Workload/llama-70b-serve`,
/// `Node/gpu-r01-n01`, `Drive/gpu-r01-n01/nvme0`.
public struct ResourceAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var kind: String
    public var name: String

    public init(_ kind: String, _ name: String) {
        self.kind = kind
        self.name = name
    }

    public init(_ kind: Kind, _ name: String) {
        self.init(kind.rawValue, name)
    }

    public static func node(_ name: String) -> ResourceAddress { ResourceAddress("Node", name) }
    public static func drive(_ drive: DriveAddress) -> ResourceAddress { ResourceAddress("Drive", drive.description) }

    public var description: String { "\(kind)/\(name)" }

    public static func < (lhs: ResourceAddress, rhs: ResourceAddress) -> Bool {
        (lhs.kind, lhs.name) < (rhs.kind, rhs.name)
    }
}

/// The manifest kinds of the v1 contract.
public enum Kind: String, CaseIterable, Sendable, Hashable, Comparable {
    case site = "Site"
    case redundancyPolicy = "RedundancyPolicy"
    case hardwarePool = "HardwarePool"
    case workload = "Workload"
    case storageTier = "StorageTier"
    case accessPolicy = "AccessPolicy"
    case energyPolicy = "EnergyPolicy"

    public static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A drive, named by its node and the drive's id on that node: `gpu-r01-n01/nvme0`.
public struct DriveAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var node: String
    public var drive: String

    public init(node: String, drive: String) {
        self.node = node
        self.drive = drive
    }

    /// Parses `node/drive`.
    public init?(_ text: String) {
        guard let slash = text.firstIndex(of: "/") else { return nil }
        node = String(text[..<slash])
        drive = String(text[text.index(after: slash)...])
        if node.isEmpty || drive.isEmpty { return nil }
    }

    public var description: String { "\(node)/\(drive)" }

    public static func < (lhs: DriveAddress, rhs: DriveAddress) -> Bool {
        (lhs.node, lhs.drive) < (rhs.node, rhs.drive)
    }
}
