/// One workload's gang checks with their look-ups done once: ``GangRule/colocated(_:colocate:model:)``
/// and ``GangRule/covers(_:_:model:)`` give the same answers, but the `colocate` key's domain
/// ids and in-domain flags and the replica's dense demand are found here once per replica,
/// not by hashing label and resource names for every node of every set the gang search
/// tries (docs/decisions.md 382).
struct GangDemand {
    /// The `colocate` key, if any.
    let colocate: String?
    /// Per node: in a domain of the key (``GangRule/inDomain(_:colocate:model:)``); empty
    /// without the key.
    let inDomain: [Bool]
    /// Per node: its domain id under the key; nil when the model has none for it.
    let ids: [Int]?
    /// GPUs per replica.
    let gpus: Int
    /// The replica's other resources, by key name: dense position (nil: no node has it) and amount.
    let others: [(key: Int?, amount: Double)]

    /// The checks of `workload` on `model`; `inDomain` is the key's flags when already built.
    init(_ workload: Workload, model: PlacementModel, inDomain: [Bool]? = nil) {
        colocate = workload.colocate
        if let key = workload.colocate {
            self.inDomain = inDomain ?? model.nodes.indices.map { GangRule.inDomain($0, colocate: key, model: model) }
            ids = model.domainIDs[key]
        } else {
            self.inDomain = []
            ids = nil
        }
        gpus = workload.gpusPerReplica
        others = workload.resources.sorted { $0.key < $1.key }.filter { $0.key != "gpus" }
            .map { (key: model.resourceIndex[$0.key], amount: $0.value) }
    }

    /// ``GangRule/colocated(_:colocate:model:)``.
    func colocated(_ nodes: [Int], model: PlacementModel) -> Bool {
        guard let key = colocate else { return true }
        guard nodes.allSatisfy({ inDomain[$0] }), let first = nodes.first else { return false }
        guard let ids else { return GangRule.colocated(nodes, colocate: key, model: model) }
        let domain = ids[first]
        return nodes.allSatisfy { ids[$0] == domain }
    }

    /// ``GangRule/covers(_:_:model:)``: the same sums in the same order.
    func covers(_ nodes: [Int], model: PlacementModel) -> Bool {
        var total = 0
        for node in nodes { total += model.gpuCount[node] }
        guard total >= gpus else { return false }
        for (key, amount) in others {
            var sum = 0.0
            for node in nodes { sum += key.map { model.capacityDense[node][$0] } ?? 0 }
            if sum < amount - Tolerance.capacity { return false }
        }
        return true
    }
}
