/// The placement solver: a portfolio of strategies over one kernel.
///
/// Keeps what still satisfies the constraints, then fills gaps greedily (pools, storage tiers,
/// then workloads by priority, ``WorkloadPlacer``), then improves energy (``PackingImprover``:
/// re-packing, exact pairing, node closing under a tabu list, the neighbourhood search), then
/// settles power. Every strategy asks the kernel (``PlacementModel`` and the rules beside it,
/// ``PlacementRules``) for every hard rule, and is handed only problems it can honour.
public struct PortfolioPlacementSolver: PlacementSolver {
    /// Work units (node checks) per second of `--solve-time`: a fixed rate, so that the same
    /// input and budget give the same plan on any machine. About one second of work on the
    /// reference machine (docs/performance.md).
    public static let workPerSecond = 1_000_000

    /// Seconds of improvement search; nil: the default, which grows with the site's size.
    public var solveTime: Double?

    /// Make the priority run even when the stable run places everything (its result cannot
    /// win then): for tests that check the shortcut changes no plan.
    var comparesBothCandidates = false

    public init(solveTime: Double? = nil) {
        self.solveTime = solveTime
    }

    /// Half a second for a small site, growing with the node count, at most 3.2 seconds (a
    /// whole plan of a 10,000-node site stays within 5 s on the reference machine).
    public static func defaultSolveTime(nodes: Int) -> Double { min(3.2, 0.5 + Double(nodes) / 150) }

    /// The default for a state that holds a placement: half a second plus one second per 150
    /// replicas new in this plan (the only ones the improver may move), never more than
    /// ``defaultSolveTime(nodes:)``.
    public static func defaultSolveTime(nodes: Int, newReplicas: Int) -> Double {
        min(defaultSolveTime(nodes: nodes), 0.5 + Double(newReplicas) / 150)
    }

    /// Replicas of `states` that `current` does not hold on the same nodes.
    static func newReplicas(_ states: [String: TargetState.WorkloadState], current: TargetState) -> Int {
        var count = 0
        for (name, state) in states {
            var existing: [Int: [String]] = [:]
            for replica in current.workloads[name]?.replicas ?? [] { existing[replica.index] = replica.nodes }
            count += state.replicas.filter { existing[$0.index] != $0.nodes }.count
        }
        return count
    }

    public func solve(_ input: PlacementInput) -> PlacementResult {
        solveOnce(input)
    }

    private func solveOnce(_ input: PlacementInput) -> PlacementResult {
        var base = PlacementModel(desired: input.desired, observed: input.observed)
        var problems: [Problem] = []
        problems += placePools(&base, current: input.current)
        let tiers = placeStorage(&base, current: input.current, problems: &problems)

        // Two ways to place workloads: by priority, displacing lower-priority replicas when
        // nothing else fits; or keeping every valid replica first. The first wins only if it
        // places strictly more at a higher priority: fewest moves comes right after.
        // No run words why replicas stay unplaced: most runs are thrown away. The one whose
        // result is kept (`reported`) runs again with the reasons at the end; a run is a pure
        // function of its model and current state, so it places the same (decision 230).
        // When the stable run places every replica of every workload (a small change to a
        // state that holds a placement, where demand fits), no run places more: the stable one
        // wins, and the priority run is not made (decision 310).
        var workloadProblems: [Problem] = []
        var chosen: WorkloadPlacer
        var reported: (model: PlacementModel, current: TargetState, keepEverythingFirst: Bool, states: [String: TargetState.WorkloadState])
        if input.current.workloads.isEmpty {
            var preempting = WorkloadPlacer(model: base, current: input.current, explainsUnplaced: false)
            chosen = preempting.run(problems: &workloadProblems)
            reported = (base, input.current, false, chosen.states)
        } else {
            var stable = WorkloadPlacer(model: base, current: input.current, keepEverythingFirst: true, explainsUnplaced: false)
            var stableProblems: [Problem] = []
            let kept = stable.run(problems: &stableProblems)
            chosen = kept
            workloadProblems = stableProblems
            reported = (base, input.current, true, kept.states)
            if comparesBothCandidates || !Self.placesEverything(kept.states, desired: input.desired) {
                var preempting = WorkloadPlacer(model: base, current: input.current, explainsUnplaced: false)
                var preemptingProblems: [Problem] = []
                let displacing = preempting.run(problems: &preemptingProblems)
                if Self.placesMore(displacing.placedByPriority, than: kept.placedByPriority) {
                    chosen = displacing
                    workloadProblems = preemptingProblems
                    reported = (base, input.current, false, displacing.states)
                }
            }
        }

        // The improver moves only replicas new in this plan: on a replan, its default budget
        // grows with them, not with the site (decision 313), and it sees only the workloads
        // that have some; with none, it has nothing to move and is not made (decision 401).
        var improved: (model: PlacementModel, states: [String: TargetState.WorkloadState])
        if input.current.workloads.isEmpty {
            let seconds = solveTime ?? Self.defaultSolveTime(nodes: input.observed.nodes.count)
            var improver = PackingImprover(model: chosen.model, states: chosen.states, current: input.current,
                                           workBudget: Int(seconds * Double(Self.workPerSecond)))
            improved = improver.run()
        } else {
            improved = Self.improveReplan(chosen.model, states: chosen.states, current: input.current,
                                          nodes: input.observed.nodes.count, solveTime: solveTime)
        }
        // The improver may have freed room: place what is still missing, keeping the rest.
        if improved.states.values.contains(where: { $0.unplaced > 0 }) {
            let retryCurrent = TargetState(workloads: improved.states)
            var retry = WorkloadPlacer(model: base, current: retryCurrent, keepEverythingFirst: true, explainsUnplaced: false)
            var retryProblems: [Problem] = []
            let again = retry.run(problems: &retryProblems)
            if Self.placesMore(again.placedByPriority, than: chosen.placedByPriority) {
                improved = (again.model, again.states)
                workloadProblems = retryProblems
                reported = (base, retryCurrent, true, again.states)
            }
        }
        // Applying this plan and planning again must change nothing. A plan made from this
        // target would place by priority, displacing lower-priority replicas where nothing
        // else fits; do that here until it places nothing more, so the next plan has nothing
        // left to find.
        var rounds = 0
        while rounds < 50, improved.states.values.contains(where: { $0.unplaced > 0 }) {
            rounds += 1
            // Exactly what the next plan sees: this target applied, power states reached.
            let (nextBase, current) = nextPlanStart((improved.model, improved.states), input: input, tiers: tiers)
            var again = WorkloadPlacer(model: nextBase, current: current, explainsUnplaced: false)
            var againProblems: [Problem] = []
            let next = again.run(problems: &againProblems)
            guard Self.placesMore(next.placedByPriority, than: WorkloadPlacer.placedByPriority(improved.states, desired: input.desired)) else { break }
            improved = (next.model, next.states)
            workloadProblems = againProblems
            reported = (nextBase, current, false, next.states)
        }
        // Put back replicas a replan displaced without need (decisions 410–419).
        improved = repairDisplacement(improved, input: input, tiers: tiers)
        // Only a run that left replicas unplaced has reasons to word.
        if reported.states.values.contains(where: { $0.unplaced > 0 }) {
            var explaining = WorkloadPlacer(model: reported.model, current: reported.current, keepEverythingFirst: reported.keepEverythingFirst)
            workloadProblems = []
            _ = explaining.run(problems: &workloadProblems)
        }
        var model = improved.model
        problems += workloadProblems
        problems += settlePower(&model)

        var target = TargetState(grants: input.desired.useGrants)
        for (position, node) in model.nodes.enumerated() {
            target.nodes[node.name] = .init(pool: model.pool[position], powerState: model.on[position] ? .on : .off)
        }
        target.workloads = improved.states
        target.storageTiers = tiers
        let bound = EnergyBound(model: model, states: improved.states)
        return PlacementResult(target: target, problems: problems, lowerBoundW: bound.watts, lowerBoundNodes: bound.nodes)
    }

    /// Whether `states` holds every replica of every workload of `desired`: then no placement
    /// places more at any priority.
    static func placesEverything(_ states: [String: TargetState.WorkloadState], desired: DesiredState) -> Bool {
        desired.workloads.allSatisfy { name, workload in
            guard let state = states[name] else { return workload.replicas == 0 }
            return state.unplaced == 0 && state.replicas.count == workload.replicas
        }
    }

    /// Whether `a` places more than `b` at the highest priority where they differ.
    static func placesMore(_ a: [(priority: Int, placed: Int)], than b: [(priority: Int, placed: Int)]) -> Bool {
        let priorities = Set(a.map(\.priority)).union(b.map(\.priority)).sorted(by: >)
        for priority in priorities {
            let countA = a.first { $0.priority == priority }?.placed ?? 0
            let countB = b.first { $0.priority == priority }?.placed ?? 0
            if countA != countB { return countA > countB }
        }
        return false
    }

    // MARK: Storage

    func placeStorage(_ model: inout PlacementModel, current: TargetState, problems: inout [Problem]) -> [String: TargetState.TierState] {
        var taken = Set<DriveAddress>()
        var states: [String: TargetState.TierState] = [:]
        let tiers = model.desired.storageTiers.values.sorted { $0.metadata.name < $1.metadata.name }
        for tier in tiers { taken.formUnion(current.storageTiers[tier.metadata.name]?.drives ?? []) }
        for tier in tiers {
            let name = tier.metadata.name
            let mine = Set(current.storageTiers[name]?.drives ?? [])
            taken.subtract(mine)
            var placer = TierPlacer(tier: tier, model: model)
            let state = placer.place(keeping: mine, unavailable: taken, problems: &problems)
            model = placer.model
            taken.formUnion(state.drives)
            states[name] = state
        }
        return states
    }

    // MARK: Power

    func settlePower(_ model: inout PlacementModel) -> [Problem] {
        var problems: [Problem] = []
        for position in model.nodes.indices where model.hosts(position) && !model.on[position] {
            model.powerOn(position)  // already accounted for by the placers' power checks
        }
        let sites = Set(model.nodes.map(\.site)).sorted()
        for site in sites {
            guard let policy = model.desired.energyPolicy(site: site), policy.powerOffIdle else { continue }
            // Keep warm the idle healthy nodes that are on now, pool members first.
            let idle = model.nodes.indices.filter { model.nodes[$0].site == site && HealthRule.takesNew(model.nodes[$0].health) && !model.hosts($0) }
            let ranked = idle.sorted {
                (model.nodes[$0].powerState == .on ? 0 : 1, model.pool[$0] == nil ? 1 : 0, model.nodes[$0].name)
                    < (model.nodes[$1].powerState == .on ? 0 : 1, model.pool[$1] == nil ? 1 : 0, model.nodes[$1].name)
            }
            var warm = 0
            for node in ranked where warm < policy.keepWarm {
                if model.canPowerOn(node) {
                    model.powerOn(node)
                    warm += 1
                }
            }
        }
        for (rack, cap) in model.rackCapW.sorted(by: { $0.key < $1.key }) where !RackCapRule.allows(projectedW: model.rackDrawW[rack] ?? 0, capW: cap) {
            let parts = rack.split(separator: "/", maxSplits: 1).map(String.init)
            let energy = model.desired.energyPolicy(site: parts[0])?.metadata.name ?? parts[0]
            problems.append(Problem(.error, ResourceAddress(.energyPolicy, energy),
                                    "rack \(parts.count > 1 ? parts[1] : rack) draws \(Self.kW(model.rackDrawW[rack] ?? 0)) with nodes that dcapply may not power off, above its cap of \(Self.kW(cap))"))
        }
        return problems
    }

    static func kW(_ watts: Double) -> String {
        let kw = watts / 1000
        return kw == kw.rounded() ? "\(Int(kw)) kW" : String(format: "%.1f kW", kw)
    }
}
