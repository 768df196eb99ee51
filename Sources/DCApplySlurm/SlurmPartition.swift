/// A partition as `scontrol -o show partition` reports it.
public struct SlurmPartition: Hashable, Sendable {
    public var name: String
    public var nodes: Set<String>
    public var state: String

    public init(name: String, nodes: Set<String>, state: String = "UP") {
        self.name = name
        self.nodes = nodes
        self.state = state
    }
}
