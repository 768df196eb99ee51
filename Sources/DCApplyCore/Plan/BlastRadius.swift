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

    /// Compares what the store says is applied with the plan's target. Counts are net, per
    /// pool, workload and tier: a failed node replaced by another, or a drive swapped for a
    /// healthy one, takes nothing away; a pool that shrinks from 4 to 1 takes 3.
    public init(applied: TargetState, target: TargetState) {
        func net(_ applied: [String: Int], _ target: [String: Int]) -> Count {
            Count(applied: applied.values.reduce(0, +), removed: applied.reduce(0) { $0 + max(0, $1.value - (target[$1.key] ?? 0)) })
        }
        func members(_ state: TargetState) -> [String: Int] {
            state.nodes.values.reduce(into: [:]) { counts, node in if let pool = node.pool { counts[pool, default: 0] += 1 } }
        }
        func powered(_ state: TargetState) -> [String: Int] { ["": state.nodes.values.filter { $0.powerState == .on }.count] }
        poolMembers = net(members(applied), members(target))
        replicas = net(applied.workloads.mapValues(\.replicas.count), target.workloads.mapValues(\.replicas.count))
        drives = net(applied.storageTiers.mapValues(\.drives.count), target.storageTiers.mapValues(\.drives.count))
        poweredNodes = net(powered(applied), powered(target))
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
