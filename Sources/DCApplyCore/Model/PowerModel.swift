/// The contract's draw estimate for a node.
public enum PowerModel {
    /// `idleW + (maxW - idleW) * usedGpus / gpus` when on; nodes without GPUs go by the largest
    /// used fraction of their capacity; `0` when off.
    public static func estimatedW(_ node: ObservedNode, used: ResourceMap, on: Bool) -> Double {
        guard on else { return 0 }
        return drawW(idleW: node.power.idleW, maxW: node.power.maxW, utilisation: utilisation(node, used: used))
    }

    /// THE draw formula of the contract, for a node that is on: every estimate of dcapply
    /// (placement's dense states included) ends here.
    @inline(__always)
    static func drawW(idleW: Double, maxW: Double, utilisation: Double) -> Double {
        idleW + (maxW - idleW) * utilisation
    }

    /// The fraction of the node in use, between 0 and 1.
    public static func utilisation(_ node: ObservedNode, used: ResourceMap) -> Double {
        let gpus = node.capacity["gpus"] ?? 0
        return utilisation(gpu: gpus > 0 ? "gpus" : nil, keys: node.capacity.keys,
                           capacity: { node.capacity[$0] ?? 0 }, used: { used[$0] ?? 0 })
    }

    /// The contract's used fraction on any layout: with GPUs (`gpu` is their key, given only
    /// when the node has some), the GPU share; else the largest share of any key of `keys` with
    /// capacity; at most 1. Dense states pass positions and closures over their arrays.
    @inline(__always)
    static func utilisation<Keys: Sequence>(gpu: Keys.Element?, keys: Keys, capacity: (Keys.Element) -> Double,
                                            used: (Keys.Element) -> Double) -> Double {
        if let gpu { return min(1, used(gpu) / capacity(gpu)) }
        var fraction = 0.0
        for key in keys {
            let available = capacity(key)
            if available > 0 { fraction = max(fraction, used(key) / available) }
        }
        return min(1, fraction)
    }

    /// What each node uses under a target: the sum of its replicas' resources, whole nodes for
    /// gangs.
    public static func usage(of target: TargetState, desired: DesiredState, observed: ObservedState) -> [String: ResourceMap] {
        var used: [String: ResourceMap] = [:]
        for (name, state) in target.workloads.sorted(by: { $0.key < $1.key }) {
            guard let workload = desired.workloads[name] else { continue }
            for replica in state.replicas {
                if replica.nodes.count > 1 {
                    for node in replica.nodes { used[node] = observed.nodes[node]?.capacity ?? [:] }
                } else if let node = replica.nodes.first {
                    used[node, default: [:]].merge(workload.resources, uniquingKeysWith: +)  // in name order: sums stay bit-identical
                }
            }
        }
        return used
    }

    /// Estimated draw of every node under a target.
    public static func draws(of target: TargetState, desired: DesiredState, observed: ObservedState) -> [String: Double] {
        let used = usage(of: target, desired: desired, observed: observed)
        var draws: [String: Double] = [:]
        draws.reserveCapacity(observed.nodes.count)
        for (name, node) in observed.nodes {
            let on = (target.nodes[name]?.powerState ?? node.powerState) == .on
            draws[name] = estimatedW(node, used: used[name] ?? [:], on: on)
        }
        return draws
    }
}
