/// Where one replica runs: one node, or several whole nodes for a gang.
public struct ReplicaPlacement: Hashable, Sendable {
    public var index: Int
    public var nodes: [String]

    public init(index: Int, nodes: [String]) {
        self.index = index
        self.nodes = nodes
    }
}

/// The assignment of nodes, replicas, drives and grants.
///
/// Both what a plan aims for (its `target`) and what the state store says was applied; the
/// same shape as the JSON plan's `target`.
public struct TargetState: Hashable, Sendable {
    public struct NodeState: Hashable, Sendable {
        public var pool: String?
        public var powerState: PowerState

        public init(pool: String?, powerState: PowerState) {
            self.pool = pool
            self.powerState = powerState
        }
    }

    public struct WorkloadState: Hashable, Sendable {
        /// Sorted by index.
        public var replicas: [ReplicaPlacement]
        public var unplaced: Int

        public init(replicas: [ReplicaPlacement], unplaced: Int) {
            self.replicas = replicas.sorted { $0.index < $1.index }
            self.unplaced = unplaced
        }
    }

    public struct TierState: Hashable, Sendable {
        /// Sorted.
        public var drives: [DriveAddress]
        public var rawTiB: Double
        public var satisfied: Bool

        public init(drives: [DriveAddress], rawTiB: Double, satisfied: Bool) {
            self.drives = drives.sorted()
            self.rawTiB = rawTiB
            self.satisfied = satisfied
        }
    }

    public var nodes: [String: NodeState]
    public var workloads: [String: WorkloadState]
    public var storageTiers: [String: TierState]
    /// Pools each access policy may `use`, by policy name.
    public var grants: [String: [String]]
    /// Nodes that actuators keep out of service, and why (only nodes of Sites with actuators).
    public var drained: [String: DrainCause]

    public init(nodes: [String: NodeState] = [:], workloads: [String: WorkloadState] = [:],
                storageTiers: [String: TierState] = [:], grants: [String: [String]] = [:], drained: [String: DrainCause] = [:]) {
        self.nodes = nodes
        self.workloads = workloads
        self.storageTiers = storageTiers
        self.grants = grants
        self.drained = drained
    }

    public static let empty = TargetState()

    public var isEmpty: Bool { nodes.isEmpty && workloads.isEmpty && storageTiers.isEmpty && grants.isEmpty && drained.isEmpty }
}
