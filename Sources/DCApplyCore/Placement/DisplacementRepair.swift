/// Undoes needless displacement after a replan (issue 18, decisions 410–419).
///
/// The priority run places a higher-priority replica where nothing else fits by displacing
/// lower-priority ones, and nothing after it minimises what it displaced: after a rack fails,
/// replicas on healthy nodes are moved to make room (capacity, or their rack's power cap) that
/// another choice would have found without them. This pass takes the solved placement and,
/// for each replica that left a node it could have stayed on, tries to put it back: replicas
/// that are new or moved in this plan (*movable*: moving them again costs no further
/// disruption) that hold the room on its node, in its spread domain or in its rack are taken
/// out, the replica goes back, and each one taken out is put on another node that takes it
/// (its own node of the state first). A step is kept only when every hard rule holds for
/// every replica touched (capacity, pool, health, spread, gangs in one `colocate` domain, rack
/// caps: the kernel's checks), no replica ends unplaced, the disrupted replicas strictly fall,
/// and at most one more node hosts something for each replica put back (fewest moves comes
/// before least power in the contract, but not at any price; decision 412).
/// Placement counts never change, so priority order is as the solve left it.
///
/// Pure and deterministic: replicas are visited in a fixed order and the work is counted (node
/// checks), not timed.
struct DisplacementRepair {
    /// A replica: its workload and index.
    struct Key: Hashable, Comparable {
        let workload: String
        let index: Int
        static func < (a: Key, b: Key) -> Bool { (a.workload, a.index) < (b.workload, b.index) }
    }

    private(set) var model: PlacementModel
    private(set) var states: [String: TargetState.WorkloadState]
    /// Where each placed replica is now, node positions.
    private var location: [Key: [Int]] = [:]
    /// The replicas on each node.
    private var onNode: [[Key]]
    /// Where each replica of the state was, when all its nodes still exist.
    private let original: [Key: [Int]]
    private var spreads: [String: DomainSpread] = [:]
    private let gangSizes: [String: Int]
    private let membersByPool: [String: [Int]]
    /// Node checks left.
    private var work: Int

    /// The most replicas one step takes out of the way.
    static let mostTaken = 6

    /// Steps made (replicas put back), for tests and docs.
    private(set) var restored = 0

    init(model: PlacementModel, states: [String: TargetState.WorkloadState], current: TargetState, workBudget: Int) {
        self.model = model
        self.states = states
        self.work = workBudget
        onNode = []
        var members: [String: [Int]] = [:]
        for node in model.nodes.indices { if let pool = model.pool[node] { members[pool, default: []].append(node) } }
        membersByPool = members
        let gpusPerNode = members.mapValues { nodes in nodes.map { model.gpuCount[$0] }.max() ?? 0 }
        var sizes: [String: Int] = [:]
        for (name, workload) in model.desired.workloads {
            sizes[name] = GangRule.size(gpusPerReplica: workload.gpusPerReplica, gpusPerNode: gpusPerNode[workload.pool] ?? 0)
        }
        gangSizes = sizes
        var original: [Key: [Int]] = [:]
        for (name, state) in current.workloads {
            for replica in state.replicas {
                let nodes = replica.nodes.compactMap { model.index[$0] }
                if nodes.count == replica.nodes.count { original[Key(workload: name, index: replica.index)] = nodes }
            }
        }
        self.original = original
        for (name, state) in states {
            for replica in state.replicas {
                location[Key(workload: name, index: replica.index)] = replica.nodes.compactMap { model.index[$0] }
            }
        }
    }

    /// What a step needs besides the locations, built only when something is to be put back:
    /// the replicas on each node. Spread counts are built per workload on first use.
    private mutating func index() {
        onNode = Array(repeating: [], count: model.nodes.count)
        for key in location.keys.sorted() {
            for node in location[key] ?? [] { onNode[node].append(key) }
        }
    }

    /// Makes the spread counts of `workload` from where its replicas are now, if not made yet.
    private mutating func ensureSpread(_ workload: String) {
        guard spreads[workload] == nil, let spec = model.desired.workloads[workload] else { return }
        var spread = DomainSpread(model.desired.policy(spec.redundancy), model: model)
        for replica in states[workload]?.replicas ?? [] {
            spread.add(spread.domains(location[Key(workload: workload, index: replica.index)] ?? []))
        }
        spreads[workload] = spread
    }

    // MARK: Counting

    /// Replicas of the state, still asked for, that are not where they were (moved or evicted).
    var disrupted: Int {
        original.keys.filter { key in
            guard let workload = model.desired.workloads[key.workload], key.index < workload.replicas else { return false }
            return location[key] != original[key]
        }.count
    }

    /// Whether `key` is new or moved in this plan: moving it again disrupts nothing more.
    private func movable(_ key: Key) -> Bool { original[key] != location[key] }

    private var hosting: Int { model.nodes.indices.filter { model.hosts($0) }.count }

    /// Replicas placed before, still asked for, now elsewhere, though every node they were on
    /// could keep them (in their pool, not failed): the ones worth trying to put back.
    private func candidates() -> [Key] {
        original.keys.filter { key in
            guard let workload = model.desired.workloads[key.workload], key.index < workload.replicas,
                  let nodes = original[key], let now = location[key], now != nodes else { return false }
            return nodes.allSatisfy { model.pool[$0] == workload.pool && HealthRule.keeps(model.nodes[$0].health) }
        }.sorted { a, b in
            let pa = model.desired.workloads[a.workload]?.priority ?? 0, pb = model.desired.workloads[b.workload]?.priority ?? 0
            return (pb, a) < (pa, b)
        }
    }

    /// Whether ``candidates()`` of a repair made from these would be non-empty, read straight
    /// from the states without building the repair (decision 431). Exact when false: a workload
    /// whose replicas are the state's, position by position, has none moved; for the others
    /// each replica of the state is checked as ``candidates()`` checks it. A replica listed
    /// twice may make it true where the repair finds nothing: then the repair is built and runs
    /// as before.
    static func mayRestore(model: PlacementModel, states: [String: TargetState.WorkloadState], current: TargetState) -> Bool {
        for (name, state) in current.workloads {
            guard let workload = model.desired.workloads[name], let now = states[name] else { continue }
            if now.replicas.count == state.replicas.count,
               zip(now.replicas, state.replicas).allSatisfy({ $0.index == $1.index && $0.nodes == $1.nodes }) {
                continue
            }
            var location: [Int: [Int]] = [:]
            for replica in now.replicas { location[replica.index] = replica.nodes.compactMap { model.index[$0] } }
            for replica in state.replicas where replica.index < workload.replicas {
                let nodes = replica.nodes.compactMap { model.index[$0] }
                guard nodes.count == replica.nodes.count, let there = location[replica.index], there != nodes else { continue }
                if nodes.allSatisfy({ model.pool[$0] == workload.pool && HealthRule.keeps(model.nodes[$0].health) }) { return true }
            }
        }
        return false
    }

    // MARK: The pass

    /// Puts displaced replicas back while a round restores at least one and work is left.
    mutating func run() {
        // Most replans displace nothing without need: then nothing more is built.
        guard !candidates().isEmpty else { return }
        index()
        var rounds = 0
        while rounds < 4, work > 0 {
            rounds += 1
            var progress = false
            for key in candidates() where work > 0 && location[key] != original[key] {
                if tryRestore(key) {
                    progress = true
                    restored += 1
                }
            }
            if !progress { break }
        }
        var result: [String: TargetState.WorkloadState] = [:]
        for (name, state) in states {
            let replicas = state.replicas.map { replica in
                ReplicaPlacement(index: replica.index, nodes: (location[Key(workload: name, index: replica.index)] ?? []).map { model.nodes[$0].name })
            }
            result[name] = TargetState.WorkloadState(replicas: replicas, unplaced: state.unplaced)
        }
        states = result
    }

    /// Puts `key` back on its nodes of the state, moving movable replicas out of its way; the
    /// whole step or nothing.
    private mutating func tryRestore(_ key: Key) -> Bool {
        guard let target = original[key], let now = location[key], let workload = model.desired.workloads[key.workload] else { return false }
        let saved = self
        let before = disrupted
        let hostingBefore = hosting
        work -= (model.nodes.count + original.count) / 4 + 1  // the copy a step may make, the counts
        remove(key)
        // Who could be in the way: movable replicas on its nodes, of its workload in its spread
        // domains, then in its racks (largest first), each tried once.
        let spread = spreads[key.workload]
        let domains = spread?.domains(target) ?? []
        let racks = Set(target.map { model.rackID[$0] })
        var inWay: [Key] = []
        for node in target { inWay += onNode[node].filter { movable($0) && $0 != key } }
        if let spread, !domains.isEmpty {
            inWay += location.filter { $0.key.workload == key.workload && $0.key != key && movable($0.key)
                && !spread.domains($0.value).isDisjoint(with: domains) }.keys.sorted()
        }
        var sameRack: [(Double, Key)] = []
        for node in model.nodes.indices where racks.contains(model.rackID[node]) && !target.contains(node) {
            work -= 1
            for other in onNode[node] where movable(other) && other != key { sameRack.append((model.drawW(node) / Double(max(onNode[node].count, 1)), other)) }
        }
        inWay += sameRack.sorted { ($1.0, $0.1) < ($0.0, $1.1) }.map(\.1)
        var seen = Set<Key>()
        inWay = inWay.filter { seen.insert($0).inserted }
        var taken: [Key] = []
        var next = 0
        while !fits(key, on: target, workload: workload, restoring: true) {
            guard next < inWay.count, taken.count < Self.mostTaken else {
                self = saved
                work -= 1
                return false
            }
            let other = inWay[next]
            next += 1
            guard location[other] != nil else { continue }
            remove(other)
            taken.append(other)
        }
        place(key, on: target)
        // Put back what was taken, largest first, each where it fits.
        for other in taken.sorted(by: { (size($1), $0) < (size($0), $1) }) {
            guard reinsert(other, avoiding: now) || reinsert(other, avoiding: []) else {
                self = saved
                return false
            }
        }
        // At most one node powered on for each replica put back (decision 412).
        let after = disrupted
        guard after < before, hosting - hostingBefore <= before - after else {
            self = saved
            return false
        }
        return true
    }

    /// A rough size of a replica, to re-insert the largest first: its GPUs.
    private func size(_ key: Key) -> Int {
        (model.desired.workloads[key.workload]?.gpusPerReplica ?? 0)
    }

    /// Puts `key` on some node that takes it: its node of the state first, then nodes already
    /// hosting something (least slack), then an idle one; `avoiding` is passed over in the
    /// first try (the room the restored replica just left is the last resort).
    private mutating func reinsert(_ key: Key, avoiding: [Int]) -> Bool {
        guard let workload = model.desired.workloads[key.workload] else { return false }
        if let home = original[key], fits(key, on: home, workload: workload, restoring: true) {
            place(key, on: home)
            return true
        }
        let gang = gangSizes[key.workload] ?? 1
        let members = membersByPool[workload.pool] ?? []
        if gang > 1 {
            guard let nodes = chooseGang(key, workload: workload, size: gang, members: members, avoiding: avoiding) else { return false }
            place(key, on: nodes)
            return true
        }
        let demand = model.denseDemand(workload.resources)
        var best: (key: (Int, Double, Int), node: Int)?
        for node in members where !avoiding.contains(node) {
            work -= 1
            guard HealthRule.takesNew(model.nodes[node].health), fits(key, on: [node], workload: workload, restoring: false) else { continue }
            var slack = 0.0
            for (k, amount) in demand where model.capacityDense[node][k] > 0 {
                slack += (model.capacityDense[node][k] - model.usedDense[node][k] - amount) / model.capacityDense[node][k]
            }
            let rank = (model.hosts(node) ? 0 : 1, slack, node)
            if best.map({ rank < $0.key }) ?? true { best = (rank, node) }
        }
        guard let best else { return false }
        place(key, on: [best.node])
        return true
    }

    /// Free whole nodes for a gang, in one `colocate` domain, each taken while its rack keeps
    /// within its cap; the domain with the fewest idle nodes to take, then the lowest node.
    private mutating func chooseGang(_ key: Key, workload: Workload, size: Int, members: [Int], avoiding: [Int]) -> [Int]? {
        var byDomain: [Int: [Int]] = [:]
        let ids = workload.colocate.flatMap { model.domainIDs[$0] }
        for node in members where !avoiding.contains(node) {
            work -= 1
            guard HealthRule.takesNew(model.nodes[node].health), model.replicaCount[node] == 0, !model.wholeNode[node],
                  model.gpuCount[node] > 0, GangRule.inDomain(node, colocate: workload.colocate, model: model) else { continue }
            byDomain[ids?[node] ?? 0, default: []].append(node)
        }
        var best: (key: (Int, Int), nodes: [Int])?
        for (domain, free) in byDomain.sorted(by: { $0.key < $1.key }) where free.count >= size {
            var chosen: [Int] = []
            for node in free.sorted(by: { (model.on[$0] ? 0 : 1, $0) < (model.on[$1] ? 0 : 1, $1) }) {
                work -= 1
                guard model.powerFitsWhole(chosen + [node]) else { continue }
                chosen.append(node)
                if chosen.count == size { break }
            }
            guard chosen.count == size, fits(key, on: chosen, workload: workload, restoring: false) else { continue }
            let rank = (chosen.filter { !model.on[$0] }.count, domain)
            if best.map({ rank < $0.key }) ?? true { best = (rank, chosen) }
        }
        return best?.nodes
    }

    // MARK: The rules, through the kernel

    /// Whether `key` (not placed now) may go onto `nodes`: pool, health (`restoring`: a node
    /// of the state keeps what it had, so not failed; otherwise healthy), capacity and rack
    /// cap, spread, and for a gang free whole nodes in one domain covering it.
    private func fits(_ key: Key, on nodes: [Int], workload: Workload, restoring: Bool) -> Bool {
        let gang = gangSizes[key.workload] ?? 1
        guard nodes.count == gang, !nodes.isEmpty else { return false }
        for node in nodes {
            guard model.pool[node] == workload.pool else { return false }
            guard restoring ? HealthRule.keeps(model.nodes[node].health) : HealthRule.takesNew(model.nodes[node].health) else { return false }
        }
        if let spread = spreads[key.workload], !spread.allows(spread.domains(nodes)) { return false }
        if gang > 1 {
            return nodes.allSatisfy { model.replicaCount[$0] == 0 && !model.wholeNode[$0] }
                && GangRule.colocated(nodes, colocate: workload.colocate, model: model)
                && GangRule.covers(nodes, workload, model: model)
                && model.powerFitsWhole(nodes)
        }
        return model.canPlace(model.denseDemand(workload.resources), on: nodes[0])
    }

    // MARK: Moving replicas

    private mutating func remove(_ key: Key) {
        guard let nodes = location[key], let workload = model.desired.workloads[key.workload] else { return }
        ensureSpread(key.workload)
        let gang = (gangSizes[key.workload] ?? 1) > 1
        for node in nodes {
            var usage = model.used[node]
            if gang {
                usage = [:]
                model.wholeNode[node] = false
            } else {
                for (resource, amount) in workload.resources { usage[resource] = (usage[resource] ?? 0) - amount }
            }
            model.replicaCount[node] -= 1
            onNode[node].removeAll { $0 == key }
            // A node left idle is as the model starts it: off where idle nodes power off.
            let idle = !model.hosts(node)
            let powersOff = model.desired.energyPolicy(site: model.nodes[node].site)?.powerOffIdle ?? false
            let isOn = idle ? !(powersOff && HealthRule.takesNew(model.nodes[node].health)) && model.nodes[node].powerState == .on : true
            model.setUsage(node, idle ? [:] : usage, on: isOn)
        }
        if var spread = spreads[key.workload] {
            var seen = Set<Int>()
            for node in nodes where spread.spreads && seen.insert(spread.ids[node]).inserted { spread.remove(node: node) }
            spreads[key.workload] = spread
        }
        location[key] = nil
    }

    private mutating func place(_ key: Key, on nodes: [Int]) {
        guard let workload = model.desired.workloads[key.workload] else { return }
        ensureSpread(key.workload)
        let gang = (gangSizes[key.workload] ?? 1) > 1
        for node in nodes {
            if gang {
                model.setUsage(node, model.nodes[node].capacity, on: true)
                model.wholeNode[node] = true
            } else {
                model.setUsage(node, model.adding(workload.resources, to: node), on: true)
            }
            model.replicaCount[node] += 1
            onNode[node].append(key)
        }
        if var spread = spreads[key.workload] {
            spread.add(spread.domains(nodes))
            spreads[key.workload] = spread
        }
        location[key] = nodes
    }
}
