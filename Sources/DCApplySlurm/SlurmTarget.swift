import DCApplyCore

/// What dcapply wants one Slurm controller to show: its partitions, reservations, the nodes
/// it holds out of service and the features it writes. A pure function of the plan's target
/// and the observed hardware.
public struct SlurmTarget: Hashable, Sendable {
    /// How dcapply holds a node out of service.
    public enum Hold: Hashable, Sendable {
        case down(reason: String)
        case drain(reason: String)

        public var reason: String {
            switch self {
            case .down(let reason), .drain(let reason): reason
            }
        }
    }

    public struct Reservation: Hashable, Sendable {
        public var nodes: Set<String>
        /// The workload's tenant, as the reservation's only account.
        public var accounts: [String]

        public init(nodes: Set<String>, accounts: [String]) {
            self.nodes = nodes
            self.accounts = accounts
        }
    }

    /// By partition name (prefix included).
    public var partitions: [String: Set<String>]
    /// By reservation name (prefix included).
    public var reservations: [String: Reservation]
    /// Nodes dcapply holds, by node name. A node absent here is released when dcapply held it.
    public var holds: [String: Hold]
    /// The `key:value` features dcapply writes, by node name (nodes of the site only).
    public var features: [String: Set<String>]
    /// The label keys mirrored into features (to remove stale values).
    public var featureKeys: [String]

    public init(partitions: [String: Set<String>] = [:], reservations: [String: Reservation] = [:], holds: [String: Hold] = [:],
                features: [String: Set<String>] = [:], featureKeys: [String] = []) {
        self.partitions = partitions
        self.reservations = reservations
        self.holds = holds
        self.features = features
        self.featureKeys = featureKeys
    }

    /// The target for one site.
    ///
    /// - Pools with members become partitions, workloads with placed replicas reservations
    ///   (every node of every replica, gang nodes included).
    /// - The target's drained nodes: `failed` ones are held DOWN, `degraded` ones DRAINed,
    ///   nodes to be powered off DRAINed, and DOWN once the target has them off.
    /// - `defaultAccount` stands in for a workload without a tenant (Slurm needs one of
    ///   Users= or Accounts=).
    public static func make(target: TargetState, observed: [ObservedNode], workloads: [String: Workload], settings: SlurmSettings,
                            defaultAccount: String = "dcapply") -> SlurmTarget {
        let siteNodes = Set(observed.map(\.name))
        var partitions: [String: Set<String>] = [:]
        for (node, state) in target.nodes where siteNodes.contains(node) {
            guard let pool = state.pool else { continue }
            partitions[settings.prefix + pool, default: []].insert(node)
        }
        var reservations: [String: Reservation] = [:]
        for (name, workload) in target.workloads {
            let nodes = Set(workload.replicas.flatMap(\.nodes)).intersection(siteNodes)
            guard !nodes.isEmpty else { continue }
            let tenant = workloads[name]?.tenant ?? defaultAccount
            reservations[settings.prefix + name] = Reservation(nodes: nodes, accounts: [tenant])
        }
        var holds: [String: Hold] = [:]
        var features: [String: Set<String>] = [:]
        for node in observed {
            switch target.drained[node.name] {
            case .failed?: holds[node.name] = .down(reason: SlurmNames.failedReason)
            case .degraded?: holds[node.name] = .drain(reason: SlurmNames.degradedReason)
            case .powerOff?:
                // Drained before the power-off; DOWN once off (POWER_DOWN would clear a DRAIN).
                holds[node.name] = target.nodes[node.name]?.powerState == .off ? .down(reason: SlurmNames.powerOffReason) : .drain(reason: SlurmNames.powerOffReason)
            case nil: break
            }
            if !settings.features.isEmpty {
                features[node.name] = Set(settings.features.compactMap { key in node.labels[key].map { "\(key):\($0)" } })
            }
        }
        return SlurmTarget(partitions: partitions, reservations: reservations, holds: holds, features: features, featureKeys: settings.features)
    }
}
