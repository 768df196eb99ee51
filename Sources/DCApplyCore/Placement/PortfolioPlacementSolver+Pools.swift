/// Pool membership: keep qualifying members, release what a shrinking pool no longer needs,
/// fill what is missing with the least GPU excess and the widest spread.
extension PortfolioPlacementSolver {
    // MARK: Pools

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
                    if !SpreadRule.allows(placed: perDomain[domain, default: 0], limit: limit) { continue }
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
        func counted(_ set: [Int]) -> [Int] { set.filter { HealthRule.takesNew(model.nodes[$0].health) } }
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
            model.pool[$0] == nil && HealthRule.takesNew(model.nodes[$0].health) && model.eligible($0, for: pool)
        }
        var plannedCounts: [Int: Int]? = nil
        if case .gpus(let wanted)? = pool.size, counted(members).count >= spares {
            let have = gpus(Array(counted(members).sorted { model.nodes[$0].gpuCount > model.nodes[$1].gpuCount }.dropFirst(spares)))
            plannedCounts = Self.leastExcessCounts(need: wanted - have,
                                                   available: remaining.filter { node in key.map { SpreadRule.allows(placed: perDomain[model.domain(node, key: $0), default: 0], limit: limit) } ?? true }
                                                       .map { model.nodes[$0].gpuCount })
        }
        if pool.size == nil {
            // Every matching healthy node joins, within the spread limit: one pass, nodes
            // already on first, then by name.
            let ordered = remaining.sorted {
                (model.nodes[$0].powerState == .on ? 0 : 1, model.nodes[$0].name) < (model.nodes[$1].powerState == .on ? 0 : 1, model.nodes[$1].name)
            }
            for node in ordered {
                if let key, !SpreadRule.allows(placed: perDomain[model.domain(node, key: key), default: 0], limit: limit) { continue }
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
            var allowed = remaining.filter { node in key.map { SpreadRule.allows(placed: perDomain[model.domain(node, key: $0), default: 0], limit: limit) } ?? true }
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
            let eligible = model.nodes.indices.filter { HealthRule.takesNew(model.nodes[$0].health) && model.eligible($0, for: pool) }
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
        if let key, let policy, let minDomains = policy.minDomains {
            let domains = Set(members.map { model.domain($0, key: key) }).count
            if domains < minDomains {
                problems.append(Problem(.error, address, "members span \(domains) \(key)\(domains == 1 ? "" : "s"); RedundancyPolicy/\(policy.metadata.name) asks for at least \(minDomains)"))
            }
        }
        return problems
    }

    private func healthyCount(_ members: [Int], _ model: PlacementModel) -> Int {
        members.filter { HealthRule.takesNew(model.nodes[$0].health) }.count
    }

    /// Nodes still missing for a sized pool, assuming nodes like its largest eligible one.
    static func missingNodes(_ pool: HardwarePool, members healthy: Int, spares: Int, model: PlacementModel) -> Int? {
        switch pool.size {
        case .nodes(let count)?: return max(0, count + spares - healthy)
        case .gpus(let wanted)?:
            let perNode = model.nodes.indices.filter { model.eligible($0, for: pool) }.map { model.nodes[$0].gpuCount }.max() ?? 0
            guard perNode > 0 else { return nil }
            let have = model.members(of: pool.metadata.name).filter { HealthRule.takesNew(model.nodes[$0].health) }.reduce(0) { $0 + model.nodes[$1].gpuCount }
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
        let quantities = values.map { quantity[$0] ?? 0 }
        // fewest[j][s]: the fewest nodes among the first j counts reaching exactly s GPUs;
        // taken[j][s]: how many of count j that uses. Bounded knapsack, exact reconstruction.
        let unreachable = Int.max
        var fewest = [[Int]](repeating: [Int](repeating: unreachable, count: ceiling + 1), count: values.count + 1)
        var taken = [[Int]](repeating: [Int](repeating: 0, count: ceiling + 1), count: values.count + 1)
        fewest[0][0] = 0
        for (j, value) in values.enumerated() {
            for sum in 0...ceiling {
                var k = 0
                while k <= quantities[j], k * value <= sum {
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
}
