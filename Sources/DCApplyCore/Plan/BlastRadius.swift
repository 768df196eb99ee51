/// How much of what is applied a plan takes away: pool members, replicas, drives and powered
/// nodes, each counted once. Apply and serve refuse a plan that takes away more than a
/// threshold (half, by default) unless the operator allows it: a manifest folder named wrongly
/// must not empty a site. Pure: compares two `TargetState`s.
public struct BlastRadius: Hashable, Sendable {
    /// One kind of thing: how many are applied, and how many of them the plan takes away.
    public struct Count: Hashable, Sendable {
        public var applied: Int
        public var removed: Int
    }

    public var poolMembers: Count
    public var replicas: Count
    public var drives: Count
    public var poweredNodes: Count

    /// Compares what the store says is applied with the plan's target.
    public init(applied: TargetState, target: TargetState) {
        let members = applied.nodes.filter { $0.value.pool != nil }
        poolMembers = Count(applied: members.count, removed: members.keys.filter { target.nodes[$0]?.pool == nil }.count)
        let powered = applied.nodes.filter { $0.value.powerState == .on }
        poweredNodes = Count(applied: powered.count, removed: powered.keys.filter { target.nodes[$0]?.powerState != .on }.count)
        var replicaCount = Count(applied: 0, removed: 0)
        for (name, workload) in applied.workloads {
            let kept = Set(target.workloads[name]?.replicas.map(\.index) ?? [])
            replicaCount.applied += workload.replicas.count
            replicaCount.removed += workload.replicas.filter { !kept.contains($0.index) }.count
        }
        replicas = replicaCount
        var driveCount = Count(applied: 0, removed: 0)
        for (name, tier) in applied.storageTiers {
            let kept = Set(target.storageTiers[name]?.drives ?? [])
            driveCount.applied += tier.drives.count
            driveCount.removed += tier.drives.filter { !kept.contains($0) }.count
        }
        drives = driveCount
    }

    /// The four counts, named for people.
    public var counts: [(count: Count, noun: String)] {
        [(poolMembers, "pool members"), (replicas, "replicas"), (drives, "drives"), (poweredNodes, "powered nodes")]
    }

    /// True when the plan takes away more than `threshold` (0.5 for half) of any one kind of
    /// thing applied. Each kind is judged alone, so many powered nodes outside any pool cannot
    /// hide the loss of every pool member. Nothing applied: never.
    public func exceeds(_ threshold: Double) -> Bool {
        counts.contains { $0.count.removed > 0 && Double($0.count.removed) > threshold * Double($0.count.applied) }
    }

    /// `4 of 4 pool members, 4 of 4 replicas, 2 of 2 drives, 0 of 6 powered nodes`
    public var description: String {
        counts.map { "\($0.count.removed) of \($0.count.applied) \($0.noun)" }.joined(separator: ", ")
    }

    /// Manifests that something applied serves and that are gone from `desired`, such as
    /// `HardwarePool/train`: the likely cause of a large removal.
    public static func missingManifests(applied: TargetState, desired: DesiredState) -> [ResourceAddress] {
        let pools = Set(applied.nodes.values.compactMap(\.pool)).subtracting(desired.pools.keys).map { ResourceAddress("HardwarePool", $0) }
        let workloads = applied.workloads.keys.filter { desired.workloads[$0] == nil }.map { ResourceAddress("Workload", $0) }
        let tiers = applied.storageTiers.keys.filter { desired.storageTiers[$0] == nil }.map { ResourceAddress("StorageTier", $0) }
        return (pools + workloads + tiers).sorted()
    }

    /// The refusal for people, naming the counts, the likely cause and the way past it.
    public static func refusal(_ radius: BlastRadius, threshold: Double, missing: [ResourceAddress], flag: String) -> String {
        let limit = Int((threshold * 100).rounded())
        var text = "refused: this plan takes away more than \(limit)% of what is applied: \(radius.description)."
        if !missing.isEmpty {
            let shown = missing.prefix(5).map(\.description).joined(separator: ", ") + (missing.count > 5 ? " and \(missing.count - 5) more" : "")
            text += " \(shown) \(missing.count == 1 ? "is" : "are") no longer in the manifests: wrong path, or a file missing?"
        }
        return text + " \(flag)"
    }
}
