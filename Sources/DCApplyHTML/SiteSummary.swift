import DCApplyCore

/// The tables beside the map: pools, workloads, storage tiers and problems, from the manifests
/// and a target.
public struct SiteSummary: Sendable {
    public struct PoolRow: Sendable, Hashable {
        public var name: String
        public var outline: String
        public var nodes: Int
        public var gpus: Int
    }

    public struct WorkloadRow: Sendable, Hashable {
        public var name: String
        public var pool: String
        public var placed: Int
        public var wanted: Int
        /// Unplaced replicas and why (the plan's problem for the workload), or empty.
        public var unplaced: Int
        public var reason: String
        public var complete: Bool
    }

    public struct TierRow: Sendable, Hashable {
        public var name: String
        public var media: String
        public var protection: String
        public var rawTiB: String
        public var usableTiB: String
        public var satisfied: Bool
    }

    public struct ProblemRow: Sendable, Hashable {
        public var severity: String
        public var isError: Bool
        public var resource: String
        public var message: String
    }

    public var pools: [PoolRow]
    public var workloads: [WorkloadRow]
    public var tiers: [TierRow]
    public var problems: [ProblemRow]
    public var hasProblems: Bool

    public init(desired: DesiredState, observed: ObservedState, target: TargetState, problems: [Problem], outlines: [SiteMap.PoolKey]) {
        let outline = Dictionary(uniqueKeysWithValues: outlines.map { ($0.name, $0.outline) })
        var members: [String: [String]] = [:]
        for (node, state) in target.nodes { if let pool = state.pool { members[pool, default: []].append(node) } }
        pools = Set(desired.pools.keys).union(members.keys).sorted().map { name in
            let nodes = members[name] ?? []
            return PoolRow(name: name, outline: outline[name] ?? "", nodes: nodes.count,
                           gpus: nodes.reduce(0) { $0 + (observed.nodes[$1]?.gpuCount ?? 0) })
        }
        let reasons = Dictionary(problems.filter { $0.resource.kind == "Workload" }.map { ($0.resource.name, $0.message) }) { first, _ in first }
        workloads = desired.workloads.values.sorted { $0.metadata.name < $1.metadata.name }.map { workload in
            let state = target.workloads[workload.metadata.name]
            let placed = state?.replicas.count ?? 0
            let unplaced = state?.unplaced ?? max(0, workload.replicas - placed)
            return WorkloadRow(name: workload.metadata.name, pool: workload.pool, placed: placed, wanted: workload.replicas, unplaced: unplaced,
                               reason: unplaced > 0 ? reasons[workload.metadata.name] ?? "no room" : "", complete: unplaced == 0)
        }
        tiers = desired.storageTiers.values.sorted { $0.metadata.name < $1.metadata.name }.map { tier in
            let state = target.storageTiers[tier.metadata.name]
            return TierRow(name: tier.metadata.name, media: tier.media.rawValue, protection: tier.protection.description,
                           rawTiB: MapFormat.number(state?.rawTiB ?? 0), usableTiB: MapFormat.number(tier.usableTiB), satisfied: state?.satisfied ?? false)
        }
        self.problems = problems.sorted().map {
            ProblemRow(severity: $0.severity.rawValue, isError: $0.severity == .error, resource: $0.resource.description, message: $0.message)
        }
        hasProblems = !problems.isEmpty
    }
}
