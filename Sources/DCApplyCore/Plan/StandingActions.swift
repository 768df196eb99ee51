/// The actions that keep an applied target in effect, as an actuator would report them when
/// nothing changed outside dcapply: one `assign` per pool member, one `place` per replica,
/// one `attachDrive` per drive, one `grant` per granted pool, one `drain` per drained node.
/// Pure; the exec actuator compares a plugin's `objects` with these.
public enum StandingActions {
    public static func of(_ target: TargetState, nodes: Set<String>? = nil) -> [Change] {
        func keep(_ node: String) -> Bool { nodes.map { $0.contains(node) } ?? true }
        var changes: [Change] = []
        for (name, node) in target.nodes.sorted(by: { $0.key < $1.key }) where keep(name) {
            if let pool = node.pool {
                changes.append(Change(.assign, .node(name), to: "HardwarePool/\(pool)", reason: "in effect", subject: ResourceAddress(.hardwarePool, pool)))
            }
        }
        for (name, state) in target.workloads.sorted(by: { $0.key < $1.key }) {
            let subject = ResourceAddress(.workload, name)
            for replica in state.replicas where replica.nodes.allSatisfy(keep) {
                changes.append(Change(.place, subject, to: replica.nodes.map { "Node/\($0)" }.joined(separator: ","), replica: replica.index,
                                      toNodes: replica.nodes, reason: "in effect", subject: subject))
            }
        }
        for (name, tier) in target.storageTiers.sorted(by: { $0.key < $1.key }) {
            for drive in tier.drives where keep(drive.node) {
                changes.append(Change(.attachDrive, .drive(drive), to: "StorageTier/\(name)", reason: "in effect", subject: ResourceAddress(.storageTier, name)))
            }
        }
        for (policy, pools) in target.grants.sorted(by: { $0.key < $1.key }) {
            for pool in pools {
                changes.append(Change(.grant, ResourceAddress(.accessPolicy, policy), to: "HardwarePool/\(pool)", reason: "in effect"))
            }
        }
        for (name, cause) in target.drained.sorted(by: { $0.key < $1.key }) where keep(name) {
            changes.append(Change(.drain, .node(name), to: cause.rawValue, reason: "in effect"))
        }
        return changes
    }

    /// The identity of an action for comparing what is in effect: action, resource, replica,
    /// from, to and node lists (the reason does not count).
    public static func key(_ change: Change) -> String {
        [change.action.rawValue, change.resource.description, change.replica.map(String.init) ?? "", change.from ?? "", change.to ?? "",
         (change.fromNodes ?? []).joined(separator: ","), (change.toNodes ?? []).joined(separator: ",")].joined(separator: "\t")
    }
}
