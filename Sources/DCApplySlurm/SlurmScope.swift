/// Which Slurm objects one reconciliation may touch. `nil` sets mean every object of that kind.
public struct SlurmScope: Hashable, Sendable {
    public var partitions: Set<String>?
    public var reservations: Set<String>?
    /// Nodes whose hold (DOWN/DRAIN/RESUME) may change.
    public var holds: Set<String>?
    /// Nodes whose features may change.
    public var features: Set<String>?

    public init(partitions: Set<String>? = nil, reservations: Set<String>? = nil, holds: Set<String>? = nil, features: Set<String>? = nil) {
        self.partitions = partitions
        self.reservations = reservations
        self.holds = holds
        self.features = features
    }

    /// Everything.
    public static let all = SlurmScope()
    /// Nothing.
    public static let none = SlurmScope(partitions: [], reservations: [], holds: [], features: [])

    func allows(_ set: Set<String>?, _ name: String) -> Bool { set?.contains(name) ?? true }
}
