/// The improver on a replan: only the workloads with replicas new in this plan.
extension PortfolioPlacementSolver {
    /// Workloads of `states` with a replica that `current` does not hold on the same nodes, and
    /// how many such replicas they have in all.
    static func changedWorkloads(_ states: [String: TargetState.WorkloadState], current: TargetState) -> (names: Set<String>, replicas: Int) {
        var names = Set<String>()
        var count = 0
        for (name, state) in states {
            let before = current.workloads[name]?.replicas ?? []
            // Replicas are usually kept in the same order: compare position by position first.
            if before.count == state.replicas.count,
               zip(before, state.replicas).allSatisfy({ $0.index == $1.index && $0.nodes == $1.nodes }) {
                continue
            }
            var existing: [Int: [String]] = [:]
            existing.reserveCapacity(before.count)
            for replica in before { existing[replica.index] = replica.nodes }
            let new = state.replicas.filter { existing[$0.index] != $0.nodes }.count
            if new > 0 {
                names.insert(name)
                count += new
            }
        }
        return (names, count)
    }

    /// Runs the improver on a replan. It moves only single-node replicas new in this plan, so
    /// it is handed only the workloads that have some (the kernel model still holds every
    /// replica): the same items, bins and rules as with every workload, without building a
    /// spread per workload of the site. With no new replica it could move nothing and is not
    /// made (decision 401).
    static func improveReplan(_ model: PlacementModel, states: [String: TargetState.WorkloadState], current: TargetState,
                              nodes: Int, solveTime: Double?) -> (model: PlacementModel, states: [String: TargetState.WorkloadState]) {
        let changed = changedWorkloads(states, current: current)
        guard !changed.names.isEmpty else { return (model, states) }
        let seconds = solveTime ?? defaultSolveTime(nodes: nodes, newReplicas: changed.replicas)
        var moving = states.filter { changed.names.contains($0.key) }
        // The improver checks capacity on the resource keys of the workloads it is handed: one
        // workload without replicas for each key only others ask for keeps every key checked.
        var keys = Set<String>()
        for name in changed.names { keys.formUnion((model.desired.workloads[name]?.resources ?? [:]).keys) }
        for name in states.keys.sorted() where !changed.names.contains(name) {
            let resources = model.desired.workloads[name]?.resources ?? [:]
            guard resources.keys.contains(where: { !keys.contains($0) }) else { continue }
            keys.formUnion(resources.keys)
            moving[name] = TargetState.WorkloadState(replicas: [], unplaced: 0)
        }
        var improver = PackingImprover(model: model, states: moving, current: current,
                                       workBudget: Int(seconds * Double(workPerSecond)))
        let result = improver.run()
        var merged = states
        for (name, state) in result.states where changed.names.contains(name) { merged[name] = state }
        // The improver recounts each node's replicas from the states it was handed: count them
        // again over every workload, as after a run handed them all.
        var model = result.model
        var count = Array(repeating: 0, count: model.nodes.count)
        for state in merged.values {
            for replica in state.replicas { for node in replica.nodes { if let position = model.index[node] { count[position] += 1 } } }
        }
        model.replicaCount = count
        return (model, merged)
    }
}
