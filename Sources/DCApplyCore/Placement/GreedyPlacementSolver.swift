/// The first placement strategy: keep what still satisfies the constraints, then fill gaps
/// greedily (pools, storage tiers, then workloads by priority), then settle power.
///
/// It is deliberately plain; the constraint checks live in ``PlacementModel`` so an optimiser
/// can replace this strategy and keep them.
public struct GreedyPlacementSolver: PlacementSolver {
    /// Work units (node checks) per second of `--solve-time`: a fixed rate, so that the same
    /// input and budget give the same plan on any machine. About one second of work on the
    /// reference machine (docs/performance.md).
    public static let workPerSecond = 1_000_000

    /// Seconds of improvement search; nil: the default, which grows with the site's size.
    public var solveTime: Double?

    public init(solveTime: Double? = nil) {
        self.solveTime = solveTime
    }

    /// Half a second for a small site, growing with the node count, at most 3.5 seconds (a
    /// whole plan of a 10,000-node site stays within 5 s on the reference machine).
    public static func defaultSolveTime(nodes: Int) -> Double { min(3.5, 0.5 + Double(nodes) / 150) }

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
        var preempting = WorkloadPlacer(model: base, current: input.current)
        var workloadProblems: [Problem] = []
        var chosen = preempting.run(problems: &workloadProblems)
        if !input.current.workloads.isEmpty {
            var stable = WorkloadPlacer(model: base, current: input.current, keepEverythingFirst: true)
            var stableProblems: [Problem] = []
            let kept = stable.run(problems: &stableProblems)
            if !Self.placesMore(chosen.placedByPriority, than: kept.placedByPriority) {
                chosen = kept
                workloadProblems = stableProblems
            }
        }

        let seconds = solveTime ?? Self.defaultSolveTime(nodes: input.observed.nodes.count)
        var improver = PackingImprover(model: chosen.model, states: chosen.states, current: input.current,
                                       workBudget: Int(seconds * Double(Self.workPerSecond)))
        var improved = improver.run()
        // The improver may have freed room: place what is still missing, keeping the rest.
        if improved.states.values.contains(where: { $0.unplaced > 0 }) {
            var retry = WorkloadPlacer(model: base, current: TargetState(workloads: improved.states), keepEverythingFirst: true)
            var retryProblems: [Problem] = []
            let again = retry.run(problems: &retryProblems)
            if Self.placesMore(again.placedByPriority, than: chosen.placedByPriority) {
                improved = (again.model, again.states)
                workloadProblems = retryProblems
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
            var settled = improved.model
            _ = settlePower(&settled)
            var current = TargetState(workloads: improved.states, storageTiers: tiers)
            var observed = input.observed
            for (position, node) in settled.nodes.enumerated() {
                current.nodes[node.name] = .init(pool: settled.pool[position], powerState: settled.on[position] ? .on : .off)
                observed.nodes[node.name]?.powerState = settled.on[position] ? .on : .off
            }
            var nextBase = PlacementModel(desired: input.desired, observed: observed)
            _ = placePools(&nextBase, current: current)
            var ignored: [Problem] = []
            _ = placeStorage(&nextBase, current: current, problems: &ignored)
            var again = WorkloadPlacer(model: nextBase, current: current)
            var againProblems: [Problem] = []
            let next = again.run(problems: &againProblems)
            guard Self.placesMore(next.placedByPriority, than: WorkloadPlacer.placedByPriority(improved.states, desired: input.desired)) else { break }
            improved = (next.model, next.states)
            workloadProblems = againProblems
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

    // MARK: Pools

    private func targetCount(_ pool: HardwarePool, model: PlacementModel) -> Int? {
        switch pool.size {
        case .nodes(let count)?: return count + (model.desired.policy(pool.redundancy)?.spares ?? 0)
        case .gpus, nil: return nil
        }
    }

    func placePools(_ model: inout PlacementModel, current: TargetState) -> [Problem] {
        var problems: [Problem] = []
        // Nodes that host something now: kept before idle ones, released last.
        var busy = Set<Int>()
        for state in current.workloads.values { for replica in state.replicas { for node in replica.nodes { if let i = model.index[node] { busy.insert(i) } } } }
        for state in current.storageTiers.values { for drive in state.drives { if let i = model.index[drive.node] { busy.insert(i) } } }
        let pools = model.desired.pools.values.sorted { ($0.size == nil ? 1 : 0, $0.metadata.name) < ($1.size == nil ? 1 : 0, $1.metadata.name) }
        // First every pool keeps its current members that still qualify, so no pool takes
        // another's nodes; then each fills what is missing.
        for pool in pools {
            let name = pool.metadata.name
            let policy = model.desired.policy(pool.redundancy)
            var perDomain: [String: Int] = [:]
            let currentMembers = model.nodes.indices.filter { current.nodes[model.nodes[$0].name]?.pool == name && model.eligible($0, for: pool) }
            // Nodes that host something are kept before idle ones when a domain is over its limit.
            let ordered = currentMembers.sorted { (busy.contains($0) ? 0 : 1, model.nodes[$0].name) < (busy.contains($1) ? 0 : 1, model.nodes[$1].name) }
            for node in ordered {
                if let key = policy?.failureDomain, let limit = policy?.maxPerDomain {
                    let domain = model.domain(node, key: key)
                    if perDomain[domain, default: 0] >= limit { continue }
                    perDomain[domain, default: 0] += 1
                }
                model.pool[node] = name
            }
        }
        for pool in pools {
            problems += fill(pool, &model, busy: busy)
        }
        return problems
    }

    private func fill(_ pool: HardwarePool, _ model: inout PlacementModel, busy: Set<Int>) -> [Problem] {
        let name = pool.metadata.name
        let address = ResourceAddress(.hardwarePool, name)
        let policy = model.desired.policy(pool.redundancy)
        let spares = policy?.spares ?? 0
        var members = model.members(of: name)
        // Degraded members keep what they host but count for nothing: a healthy node replaces
        // them. Idle degraded members leave, since they can take nothing new.
        for node in members where model.nodes[node].health == .degraded && !busy.contains(node) {
            model.pool[node] = nil
        }
        members = model.members(of: name)
        func counted(_ set: [Int]) -> [Int] { set.filter { model.nodes[$0].health == .healthy } }
        func gpus(_ set: [Int]) -> Int { set.reduce(0) { $0 + model.nodes[$1].gpuCount } }
        func satisfied(_ set: [Int]) -> Bool {
            let healthy = counted(set)
            switch pool.size {
            case .nodes(let count)?: return healthy.count >= count + spares
            case .gpus(let wanted)?:
                // Spares are whole nodes beyond the GPUs asked for: the largest count as spares.
                let byGPUs = healthy.sorted { model.nodes[$0].gpuCount > model.nodes[$1].gpuCount }
                return gpus(Array(byGPUs.dropFirst(min(spares, byGPUs.count)))) >= wanted && healthy.count >= spares + (wanted > 0 ? 1 : 0)
            case nil: return false
            }
        }
        // Too many (the size shrank): release healthy members while the size stays met, idle
        // ones first, then those hosting least; the highest names go first among equals.
        if pool.size != nil {
            let key = policy?.failureDomain
            func domainsKept(_ set: [Int]) -> Int { key.map { k in Set(set.map { model.domain($0, key: k) }).count } ?? .max }
            while true {
                var perDomain: [String: Int] = [:]
                if let key { for node in members { perDomain[model.domain(node, key: key), default: 0] += 1 } }
                // Idle first, then from the most crowded domain, the highest name among equals.
                let ranked = counted(members).sorted { a, b in
                    let ca = key.map { perDomain[model.domain(a, key: $0), default: 0] } ?? 0
                    let cb = key.map { perDomain[model.domain(b, key: $0), default: 0] } ?? 0
                    return (busy.contains(a) ? 1 : 0, -ca, model.nodes[b].name) < (busy.contains(b) ? 1 : 0, -cb, model.nodes[a].name)
                }
                let minimum = min(policy?.minDomains ?? 0, domainsKept(members))
                guard let node = ranked.first(where: { node in
                    let without = members.filter { $0 != node }
                    return satisfied(without) && domainsKept(without) >= minimum
                }) else { break }
                members.removeAll { $0 == node }
                model.pool[node] = nil
            }
        }
        var perDomain: [String: Int] = [:]
        let key = policy?.failureDomain
        if let key { for node in members { perDomain[model.domain(node, key: key), default: 0] += 1 } }
        let limit = policy?.maxPerDomain ?? .max
        var remaining = model.nodes.indices.filter {
            model.pool[$0] == nil && model.nodes[$0].health == .healthy && model.eligible($0, for: pool)
        }
        var plannedCounts: [Int: Int]? = nil
        if case .gpus(let wanted)? = pool.size, counted(members).count >= spares {
            let have = gpus(Array(counted(members).sorted { model.nodes[$0].gpuCount > model.nodes[$1].gpuCount }.dropFirst(spares)))
            plannedCounts = Self.leastExcessCounts(need: wanted - have,
                                                   available: remaining.filter { key == nil || perDomain[model.domain($0, key: key!), default: 0] < limit }
                                                       .map { model.nodes[$0].gpuCount })
        }
        if pool.size == nil {
            // Every matching healthy node joins, within the spread limit: one pass, nodes
            // already on first, then by name.
            let ordered = remaining.sorted {
                (model.nodes[$0].powerState == .on ? 0 : 1, model.nodes[$0].name) < (model.nodes[$1].powerState == .on ? 0 : 1, model.nodes[$1].name)
            }
            for node in ordered {
                if let key, perDomain[model.domain(node, key: key), default: 0] >= limit { continue }
                model.pool[node] = name
                members.append(node)
                if let key { perDomain[model.domain(node, key: key), default: 0] += 1 }
            }
            remaining = []
        }
        while pool.size != nil && !satisfied(members) {
            // For a GPU size, the least excess first: the largest node that still fits the need,
            // else the smallest that covers it. Then spread (the emptiest domain), nodes already
            // on, and the name.
            var need = Int.max
            if case .gpus(let wanted)? = pool.size {
                need = wanted - gpus(Array(counted(members).sorted { model.nodes[$0].gpuCount > model.nodes[$1].gpuCount }.dropFirst(spares)))
                if counted(members).count < spares { need = Int.max }
            }
            func rank(_ node: Int) -> (Int, Int, Int, Int, String) {
                let count = model.nodes[node].gpuCount
                let fit = need == Int.max ? (0, 0) : count <= need ? (0, -count) : (1, count)
                let domainCount = key.map { perDomain[model.domain(node, key: $0), default: 0] } ?? 0
                return (fit.0, fit.1, domainCount, model.nodes[node].powerState == .on ? 0 : 1, model.nodes[node].name)
            }
            var allowed = remaining.filter { key == nil || perDomain[model.domain($0, key: key!), default: 0] < limit }
            if let planned = plannedCounts, allowed.contains(where: { (planned[model.nodes[$0].gpuCount] ?? 0) > 0 }) {
                allowed = allowed.filter { (planned[model.nodes[$0].gpuCount] ?? 0) > 0 }
            }
            let pick = allowed.min { rank($0) < rank($1) }
            if let pick, let count = plannedCounts?[model.nodes[pick].gpuCount] { plannedCounts?[model.nodes[pick].gpuCount] = count - 1 }
            guard let node = pick else { break }
            remaining.removeAll { $0 == node }
            model.pool[node] = name
            members.append(node)
            if let key { perDomain[model.domain(node, key: key), default: 0] += 1 }
        }
        var problems: [Problem] = []
        if pool.size != nil, !satisfied(members) {
            let wanted: String
            switch pool.size {
            case .nodes(let count)?: wanted = "\(count + spares) nodes" + (spares > 0 ? " (\(count) + \(spares) spare\(spares == 1 ? "" : "s"))" : "")
            case .gpus(let count)?: wanted = "\(count) GPUs" + (spares > 0 ? " plus \(spares) spare node\(spares == 1 ? "" : "s")" : "")
            case nil: wanted = ""
            }
            let eligible = model.nodes.indices.filter { model.nodes[$0].health == .healthy && model.eligible($0, for: pool) }
            var reason = "\(eligible.count) healthy node\(eligible.count == 1 ? "" : "s") match\(eligible.count == 1 ? "es" : "") its site, selector and GPU model"
            let takenElsewhere = eligible.filter { model.pool[$0] != nil && model.pool[$0] != name }.count
            if takenElsewhere > 0 { reason += ", \(takenElsewhere) of them in other pools" }
            var fix = "add eligible healthy nodes or lower the size"
            if let key, let max = policy?.maxPerDomain {
                let domains = Set(eligible.map { model.domain($0, key: key) }).count
                reason += "; at most \(max) per \(key) over \(domains) \(key)\(domains == 1 ? "" : "s") allows \(max * domains)"
                let wantedNodes = members.count + (Self.missingNodes(pool, members: healthyCount(members, model), spares: spares, model: model) ?? 1)
                if max * domains < wantedNodes, domains > 0 {
                    fix = "raise maxPerDomain to \((wantedNodes + domains - 1) / domains), or add eligible nodes in \((wantedNodes + max - 1) / max - domains) more \(key)\((wantedNodes + max - 1) / max - domains == 1 ? "" : "s")"
                }
            }
            reason += "; to fix: \(fix)"
            let healthy = counted(members)
            problems.append(Problem(.error, address, "needs \(wanted), has \(healthy.count) healthy node\(healthy.count == 1 ? "" : "s") with \(gpus(healthy)) GPUs: \(reason)"))
        }
        if members.isEmpty && pool.size == nil {
            problems.append(Problem(.warning, address, "no healthy node matches its site, selector, GPU model and memory"))
        }
        if let key, let minDomains = policy?.minDomains {
            let domains = Set(members.map { model.domain($0, key: key) }).count
            if domains < minDomains {
                problems.append(Problem(.error, address, "members span \(domains) \(key)\(domains == 1 ? "" : "s"); RedundancyPolicy/\(policy!.metadata.name) asks for at least \(minDomains)"))
            }
        }
        return problems
    }

    private func healthyCount(_ members: [Int], _ model: PlacementModel) -> Int {
        members.filter { model.nodes[$0].health == .healthy }.count
    }

    /// Nodes still missing for a sized pool, assuming nodes like its largest eligible one.
    static func missingNodes(_ pool: HardwarePool, members healthy: Int, spares: Int, model: PlacementModel) -> Int? {
        switch pool.size {
        case .nodes(let count)?: return max(0, count + spares - healthy)
        case .gpus(let wanted)?:
            let perNode = model.nodes.indices.filter { model.eligible($0, for: pool) }.map { model.nodes[$0].gpuCount }.max() ?? 0
            guard perNode > 0 else { return nil }
            let have = model.members(of: pool.metadata.name).filter { model.nodes[$0].health == .healthy }.reduce(0) { $0 + model.nodes[$1].gpuCount }
            return max(0, (wanted - have + perNode - 1) / perNode) + max(0, spares)
        case nil: return nil
        }
    }

    /// How many nodes of each GPU count reach at least `need` GPUs with the least excess, then
    /// the fewest nodes: a subset sum over the counts available. nil when `need` is unreachable
    /// or not positive.
    static func leastExcessCounts(need: Int, available: [Int]) -> [Int: Int]? {
        guard need > 0 else { return nil }
        let total = available.reduce(0, +)
        guard total >= need else { return nil }
        let ceiling = min(total, need + (available.max() ?? 0))
        var quantity: [Int: Int] = [:]
        for count in available where count > 0 { quantity[count, default: 0] += 1 }
        let values = quantity.keys.sorted(by: >)
        // fewest[j][s]: the fewest nodes among the first j counts reaching exactly s GPUs;
        // taken[j][s]: how many of count j that uses. Bounded knapsack, exact reconstruction.
        let unreachable = Int.max
        var fewest = [[Int]](repeating: [Int](repeating: unreachable, count: ceiling + 1), count: values.count + 1)
        var taken = [[Int]](repeating: [Int](repeating: 0, count: ceiling + 1), count: values.count + 1)
        fewest[0][0] = 0
        for (j, value) in values.enumerated() {
            for sum in 0...ceiling {
                var k = 0
                while k <= quantity[value]!, k * value <= sum {
                    let before = fewest[j][sum - k * value]
                    if before != unreachable, before + k < fewest[j + 1][sum] {
                        fewest[j + 1][sum] = before + k
                        taken[j + 1][sum] = k
                    }
                    k += 1
                }
            }
        }
        guard var sum = (need...ceiling).first(where: { fewest[values.count][$0] != unreachable }) else { return nil }
        var counts: [Int: Int] = [:]
        for j in stride(from: values.count, to: 0, by: -1) {
            let k = taken[j][sum]
            if k > 0 { counts[values[j - 1]] = k }
            sum -= k * values[j - 1]
        }
        return counts
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
            let idle = model.nodes.indices.filter { model.nodes[$0].site == site && model.nodes[$0].health == .healthy && !model.hosts($0) }
            let ranked = idle.sorted {
                (model.nodes[$0].powerState == .on ? 0 : 1, model.pool[$0] == nil ? 1 : 0, model.nodes[$0].name)
                    < (model.nodes[$1].powerState == .on ? 0 : 1, model.pool[$1] == nil ? 1 : 0, model.nodes[$1].name)
            }
            var warm = 0
            for node in ranked where warm < policy.keepWarm {
                if model.powerFits(node, newUsage: model.used[node]) {
                    model.powerOn(node)
                    warm += 1
                }
            }
        }
        for (rack, cap) in model.rackCapW.sorted(by: { $0.key < $1.key }) where (model.rackDrawW[rack] ?? 0) > cap + 1e-6 {
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
