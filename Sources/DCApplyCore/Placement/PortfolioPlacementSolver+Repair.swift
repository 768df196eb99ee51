/// The solver's call into ``DisplacementRepair``: after the solve of a replan, put back
/// replicas that were displaced without need (decisions 410–419).
extension PortfolioPlacementSolver {
    /// Work (node checks) the repair may spend: a fixed amount, so the plan does not depend
    /// on the machine. At most about a tenth of a second of `--solve-time`'s rate.
    static let repairWork = 100_000

    /// `solved` with needless displacement undone, or `solved` itself: on a first plan (the
    /// state holds no placement, nothing can be displaced), when nothing was put back, or when
    /// the next plan made from the repaired target would place more (applying it and planning
    /// again must change nothing).
    func repairDisplacement(_ solved: (model: PlacementModel, states: [String: TargetState.WorkloadState]), input: PlacementInput,
                            tiers: [String: TargetState.TierState]) -> (model: PlacementModel, states: [String: TargetState.WorkloadState]) {
        guard !input.current.workloads.isEmpty,
              DisplacementRepair.mayRestore(model: solved.model, states: solved.states, current: input.current) else { return solved }
        var repair = DisplacementRepair(model: solved.model, states: solved.states, current: input.current, workBudget: Self.repairWork)
        repair.run()
        guard repair.restored > 0 else { return solved }
        if repair.states.values.contains(where: { $0.unplaced > 0 }),
           nextPlanPlacesMore((repair.model, repair.states), input: input, tiers: tiers) {
            return solved
        }
        return (repair.model, repair.states)
    }

    /// Whether a plan made from `target`, applied with its power states reached, would place
    /// more at some priority: by its stable run (keep, then fill) or its priority run, as the
    /// solver's settle rounds simulate it.
    func nextPlanPlacesMore(_ target: (model: PlacementModel, states: [String: TargetState.WorkloadState]), input: PlacementInput,
                            tiers: [String: TargetState.TierState]) -> Bool {
        let (nextBase, current) = nextPlanStart(target, input: input, tiers: tiers)
        let placed = WorkloadPlacer.placedByPriority(target.states, desired: input.desired)
        for keepEverythingFirst in [true, false] {
            var next = WorkloadPlacer(model: nextBase, current: current, keepEverythingFirst: keepEverythingFirst, explainsUnplaced: false)
            var problems: [Problem] = []
            if Self.placesMore(next.run(problems: &problems).placedByPriority, than: placed) { return true }
        }
        return false
    }

    /// What the next plan starts from once `target` is applied and its power states reached:
    /// the model with pools and storage placed, and the state it keeps replicas from.
    func nextPlanStart(_ target: (model: PlacementModel, states: [String: TargetState.WorkloadState]), input: PlacementInput,
                       tiers: [String: TargetState.TierState]) -> (model: PlacementModel, current: TargetState) {
        var settled = target.model
        _ = settlePower(&settled)
        var current = TargetState(workloads: target.states, storageTiers: tiers)
        var observed = input.observed
        for (position, node) in settled.nodes.enumerated() {
            current.nodes[node.name] = .init(pool: settled.pool[position], powerState: settled.on[position] ? .on : .off)
            observed.nodes[node.name]?.powerState = settled.on[position] ? .on : .off
        }
        var nextBase = PlacementModel(desired: input.desired, observed: observed)
        _ = placePools(&nextBase, current: current)
        var ignored: [Problem] = []
        _ = placeStorage(&nextBase, current: current, problems: &ignored)
        return (nextBase, current)
    }
}
