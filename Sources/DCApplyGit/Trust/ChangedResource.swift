import DCApplyCore

/// A resource one commit changes, and the resource whose `manage` right the change needs:
/// itself, or for a Site's local inventory file, the Site that reads it.
public struct ChangedResource: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// What the signer must be granted `manage` on.
    public var address: ResourceAddress
    /// The inventory file, when the change is to the hardware description a Site reads.
    public var inventoryPath: String?

    public init(_ address: ResourceAddress, inventoryPath: String? = nil) {
        self.address = address
        self.inventoryPath = inventoryPath
    }

    /// `HardwarePool/train`; an inventory change reads `Site/lab (inventory manifests/inventory.yaml)`.
    public var description: String {
        inventoryPath.map { "\(address) (inventory \($0))" } ?? address.description
    }

    /// `HardwarePool/train-h100` → its address; an unnamed kind gets an empty name.
    public init(parsing resource: String) {
        guard let slash = resource.firstIndex(of: "/") else {
            self.init(ResourceAddress(resource, ""))
            return
        }
        self.init(ResourceAddress(String(resource[..<slash]), String(resource[resource.index(after: slash)...])))
    }

    public static func < (lhs: ChangedResource, rhs: ChangedResource) -> Bool {
        (lhs.address, lhs.inventoryPath ?? "") < (rhs.address, rhs.inventoryPath ?? "")
    }

    /// The rule that grants `manage` on exactly this resource, as YAML.
    public var missingRule: String {
        "{kinds: [\(address.kind)], names: [\(address.name)], verbs: [manage]}"
    }
}
