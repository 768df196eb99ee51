/// Gangs: a replica asking for more GPUs than any one node has takes several whole nodes
/// (`ceil(gpus / gpusPerNode)`), all in one domain of the `colocate` key when it is set
/// (`manifests.md`, Workload). Whole and free is checked by the placer, which knows what is
/// reserved; the arithmetic of the gang is here.
enum GangRule {
    /// Nodes per replica: 1 unless the replica asks for more GPUs than a node has.
    static func size(gpusPerReplica: Int, gpusPerNode: Int) -> Int {
        gpusPerNode > 0 && gpusPerReplica > gpusPerNode ? (gpusPerReplica + gpusPerNode - 1) / gpusPerNode : 1
    }

    /// Whether `node` is in some domain of `colocate`: it has the label, not empty (always,
    /// without the key). A node without it is in no domain, so no gang may use it.
    static func inDomain(_ node: Int, colocate: String?, model: PlacementModel) -> Bool {
        guard let key = colocate else { return true }
        return !(model.nodes[node].labels[key] ?? "").isEmpty
    }

    /// Whether `nodes` share one domain of `colocate` (always, without the key): each is in a
    /// domain (``inDomain(_:colocate:model:)``) and it is the same one.
    static func colocated(_ nodes: [Int], colocate: String?, model: PlacementModel) -> Bool {
        guard let key = colocate else { return true }
        guard nodes.allSatisfy({ inDomain($0, colocate: key, model: model) }), let first = nodes.first else { return false }
        // Nodes in a domain share an id exactly when they share the label value.
        guard let ids = model.domainIDs[key] else { return Set(nodes.map { model.nodes[$0].labels[key] ?? "" }).count == 1 }
        return nodes.allSatisfy { ids[$0] == ids[first] }
    }

    /// Whether `nodes`, taken whole, give the replica its GPUs and every other resource.
    static func covers(_ nodes: [Int], _ workload: Workload, model: PlacementModel) -> Bool {
        // The dense mirrors: the same numbers, without copying nodes or hashing per node.
        let gpus = nodes.reduce(0) { $0 + model.gpuCount[$1] }
        guard gpus >= workload.gpusPerReplica else { return false }
        for (resource, amount) in workload.resources.sorted(by: { $0.key < $1.key }) where resource != "gpus" {
            let k = model.resourceIndex[resource]
            if nodes.reduce(0.0, { sum, node in sum + (k.map { model.capacityDense[node][$0] } ?? 0) }) < amount - Tolerance.capacity { return false }
        }
        return true
    }
}
