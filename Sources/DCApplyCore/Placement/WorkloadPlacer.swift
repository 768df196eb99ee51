/// Places workload replicas, highest priority first.
///
/// Existing replicas that still satisfy every constraint stay. Before a workload is handled,
/// the capacity held by replicas of workloads not yet handled is reserved, so a new replica
/// only displaces an existing one when nothing else fits (priority when short).
struct WorkloadPlacer {
    var model: PlacementModel
    let current: TargetState
    private(set) var states: [String: TargetState.WorkloadState] = [:]
    /// Capacity held by existing replicas of workloads not yet handled, dense by
    /// `model.resourceKeys` per node; empty when nothing is reserved.
    private var reserved: [[Double]] = []
    /// Keep every existing replica of every workload before placing anything new.
    let keepEverythingFirst: Bool
    private var contexts: [String: Context] = [:]
    /// Healthy or not, the members of each pool in index order (membership is fixed here).
    private let membersByPool: [String: [Int]]
    /// The most GPUs of any member, per pool.
    private let gpusPerNodeByPool: [String: Int]
    private var candidates: CandidateIndex?
    /// Word why replicas cannot be placed. When false, the problem for unplaced replicas says
    /// only how many: for runs whose problems are thrown away (the solver runs the kept one
    /// again with reasons, docs/decisions.md 230).
    let explainsUnplaced: Bool
    /// Per `colocate` key: whether each node is in a domain of it (``GangRule/inDomain``).
    private let inDomainByKey: [String: [Bool]]
    /// Per `colocate` key: its domain ids that hold a node in a domain, by label value: the
    /// order in which the gang search breaks ties between domains.
    private let domainOrderByKey: [String: [Int]]
    /// The gang indexes built so far in this run, and where each (pool, `colocate` key) is.
    private var gangIndexes: [GangIndex] = []
    private var gangIndexOf: [String: Int] = [:]
    /// Per node: no reservation holds it (``freeWhole(_:respectReservations:)``'s test, kept
    /// up to date in ``reserve(_:on:sign:)``); empty while nothing is reserved.
    private var unreservedFlags: [Bool] = []
    /// Buffers ``chooseNode(_:demand:spread:)`` reuses from one replica to the next.
    private var liveBuffer: [Int] = []
    private var orderBuffer: [(rank: Int, slack: Double, bucket: Int)] = []

    init(model: PlacementModel, current: TargetState, keepEverythingFirst: Bool = false, explainsUnplaced: Bool = true) {
        self.model = model
        self.current = current
        self.keepEverythingFirst = keepEverythingFirst
        self.explainsUnplaced = explainsUnplaced
        var members: [String: [Int]] = [:]
        for node in model.nodes.indices { if let pool = model.pool[node] { members[pool, default: []].append(node) } }
        membersByPool = members
        gpusPerNodeByPool = members.mapValues { nodes in nodes.map { model.nodes[$0].gpuCount }.max() ?? 0 }
        var inDomain: [String: [Bool]] = [:], order: [String: [Int]] = [:]
        for key in Set(model.desired.workloads.values.compactMap(\.colocate)) {
            let flags = model.nodes.indices.map { GangRule.inDomain($0, colocate: key, model: model) }
            inDomain[key] = flags
            // Every node in a domain of one id has the same label value, and no two ids share one.
            var valueOf: [Int: String] = [:]
            if let ids = model.domainIDs[key] {
                for node in model.nodes.indices where flags[node] && valueOf[ids[node]] == nil {
                    valueOf[ids[node]] = model.nodes[node].labels[key] ?? ""
                }
            }
            order[key] = valueOf.sorted { $0.value < $1.value }.map(\.key)
        }
        inDomainByKey = inDomain
        domainOrderByKey = order
    }

    /// What placing one workload needs between keeping and filling.
    private struct Context {
        var spread: DomainSpread
        let members: [Int]
        let gpusPerNode: Int
        let gangSize: Int
        var placed: [ReplicaPlacement] = []
    }

    /// Highest priority first; within a priority, larger replicas first (they pack worse).
    private func order() -> [Workload] {
        var largest: ResourceMap = [:]
        for node in model.nodes { for (key, value) in node.capacity { largest[key] = max(largest[key] ?? 0, value) } }
        func size(_ workload: Workload) -> Double {
            workload.resources.sorted { $0.key < $1.key }.reduce(0) { $0 + $1.value / max(largest[$1.key] ?? 1, Tolerance.smallestScale) }
        }
        // Each size computed once, beside its workload: no look-up by name per comparison.
        let sized = model.desired.workloads.values.map { (workload: $0, size: size($0)) }
        return sized.sorted {
            ($0.workload.priority, $0.size, $1.workload.metadata.name) > ($1.workload.priority, $1.size, $0.workload.metadata.name)
        }.map(\.workload)
    }

    private func demand(of replica: ReplicaPlacement, _ workload: Workload) -> [(Int, ResourceMap)] {
        let nodes = replica.nodes.compactMap { model.index[$0] }
        if nodes.count > 1 { return nodes.map { ($0, model.nodes[$0].capacity) } }
        return nodes.map { ($0, workload.resources) }
    }

    private mutating func reserve(_ amount: ResourceMap, on node: Int, sign: Double) {
        if reserved.isEmpty {
            reserved = Array(repeating: Array(repeating: 0, count: model.resourceKeys.count), count: model.nodes.count)
            unreservedFlags = Array(repeating: true, count: model.nodes.count)
        }
        for (key, value) in amount { if let k = model.resourceIndex[key] { reserved[node][k] += sign * value } }
        candidates?.reservationChanged(node, model: model, reserved: reserved[node])
        let unreserved = reserved[node].allSatisfy { $0 <= Tolerance.capacity }
        if unreserved != unreservedFlags[node] {
            unreservedFlags[node] = unreserved
            for position in gangIndexes.indices { gangIndexes[position].setUnreserved(node, unreserved) }
        }
    }

    /// Whether no reservation holds `node`.
    private func unreserved(_ node: Int) -> Bool { unreservedFlags.isEmpty || unreservedFlags[node] }

    /// `node` is no longer free for a gang.
    private mutating func leaveGangIndexes(_ node: Int) {
        let unreserved = unreserved(node)
        for position in gangIndexes.indices { gangIndexes[position].remove(node, unreserved: unreserved) }
    }

    private func reservation(_ node: Int) -> [Double] { reserved.isEmpty ? [] : reserved[node] }

    mutating func run(problems: inout [Problem]) -> WorkloadPlacer {
        let workloads = order()
        if keepEverythingFirst {
            // Stable: every existing replica that still satisfies the constraints stays, for
            // every workload, before anything new is placed. Nothing is displaced.
            candidates = CandidateIndex(model: model, reserved: reserved)
            for workload in workloads { keep(workload) }
            for workload in workloads { problems += fill(workload) }
            return self
        }
        for workload in workloads {
            for replica in current.workloads[workload.metadata.name]?.replicas ?? [] where replica.index < workload.replicas {
                for (node, amount) in demand(of: replica, workload) where HealthRule.keeps(model.nodes[node].health) {
                    reserve(amount, on: node, sign: 1)
                }
            }
        }
        candidates = CandidateIndex(model: model, reserved: reserved)
        for workload in workloads {
            keep(workload)
            problems += fill(workload)
        }
        return self
    }

    /// Replicas placed per priority, highest first: how candidates are compared (more placed
    /// at a higher priority wins).
    var placedByPriority: [(priority: Int, placed: Int)] { Self.placedByPriority(states, desired: model.desired) }

    static func placedByPriority(_ states: [String: TargetState.WorkloadState], desired: DesiredState) -> [(priority: Int, placed: Int)] {
        var counts: [Int: Int] = [:]
        for (name, state) in states { counts[desired.workloads[name]?.priority ?? 0, default: 0] += state.replicas.count }
        return counts.sorted { $0.key > $1.key }.map { ($0.key, $0.value) }
    }

    // MARK: One workload

    private mutating func keep(_ workload: Workload) {
        let name = workload.metadata.name
        if !reserved.isEmpty {
            for replica in current.workloads[name]?.replicas ?? [] where replica.index < workload.replicas {
                for (node, amount) in demand(of: replica, workload) where HealthRule.keeps(model.nodes[node].health) {
                    reserve(amount, on: node, sign: -1)
                }
            }
        }
        let policy = model.desired.policy(workload.redundancy)
        var spread = DomainSpread(policy, model: model)
        let members = membersByPool[workload.pool] ?? []
        let gpusPerNode = gpusPerNodeByPool[workload.pool] ?? 0
        let gangSize = GangRule.size(gpusPerReplica: workload.gpusPerReplica, gpusPerNode: gpusPerNode)
        let demand = model.denseDemand(workload.resources)

        var placed: [ReplicaPlacement] = []
        let gangCheck = gangSize > 1 ? gangDemand(workload) : nil
        // Keep what still satisfies every constraint.
        for replica in (current.workloads[name]?.replicas ?? []).sorted(by: { $0.index < $1.index }) where replica.index < workload.replicas {
            let nodes = replica.nodes.compactMap { model.index[$0] }
            guard nodes.count == replica.nodes.count, nodes.count == gangSize,
                  nodes.allSatisfy({ model.pool[$0] == workload.pool && HealthRule.keeps(model.nodes[$0].health) }),
                  spread.allows(spread.domains(nodes)) else { continue }
            if gangSize > 1 {
                guard let gangCheck, gangFits(nodes, gangCheck) else { continue }
                commitGang(nodes)
            } else {
                guard let node = nodes.first, model.canPlace(demand, on: node) else { continue }
                commit(workload.resources, on: node)
            }
            spread.add(spread.domains(nodes))
            placed.append(replica)
        }
        contexts[name] = Context(spread: spread, members: members, gpusPerNode: gpusPerNode, gangSize: gangSize, placed: placed)
    }

    private mutating func fill(_ workload: Workload) -> [Problem] {
        let name = workload.metadata.name
        let address = ResourceAddress(.workload, name)
        guard let context = contexts[name] else { return [] }
        var spread = context.spread
        var placed = context.placed
        let members = context.members, gpusPerNode = context.gpusPerNode, gangSize = context.gangSize
        let policy = model.desired.policy(workload.redundancy)
        let demand = model.denseDemand(workload.resources)
        // Place what is missing.
        let keptIndexes = Set(placed.map(\.index))
        var unplaced = 0
        for index in 0..<workload.replicas where !keptIndexes.contains(index) {
            // Nothing changed since the last replica found no place: neither will this one.
            if unplaced > 0 {
                unplaced += 1
                continue
            }
            let choice = gangSize > 1
                ? chooseGang(workload, size: gangSize, members: members, spread: spread)
                : chooseNode(workload, demand: demand, spread: spread)
            guard let nodes = choice else {
                unplaced += 1
                continue
            }
            if gangSize > 1 { commitGang(nodes) } else if let node = nodes.first { commit(workload.resources, on: node) }
            spread.add(spread.domains(nodes))
            placed.append(ReplicaPlacement(index: index, nodes: nodes.map { model.nodes[$0].name }))
        }
        states[name] = TargetState.WorkloadState(replicas: placed, unplaced: unplaced)

        var problems: [Problem] = []
        if unplaced > 0 {
            let count = "\(unplaced) of \(workload.replicas) replica\(workload.replicas == 1 ? "" : "s") cannot be placed"
            problems.append(Problem(.error, address, explainsUnplaced
                ? count + ": " + explain(workload, members: members, spread: spread, gangSize: gangSize, gpusPerNode: gpusPerNode)
                : count))
        }
        if let key = spread.key, spread.minDomains > 0, workload.replicas > 0, spread.used < spread.minDomains {
            let why = workload.replicas * max(gangSize, 1) < spread.minDomains && gangSize == 1
                ? " (\(workload.replicas) replica\(workload.replicas == 1 ? "" : "s") cannot span more)" : ""
            problems.append(Problem(.error, address, "replicas span \(spread.used) \(key)\(spread.used == 1 ? "" : "s"); RedundancyPolicy/\(policy?.metadata.name ?? "") asks for at least \(spread.minDomains)\(why)"))
        }
        return problems
    }

    private mutating func commit(_ resources: ResourceMap, on node: Int) {
        model.setUsage(node, model.adding(resources, to: node), on: true)
        model.replicaCount[node] += 1
        let held = reservation(node)
        candidates?.markBusy(node, pool: model.pool[node], model: model, reserved: held)
        leaveGangIndexes(node)
    }

    private mutating func commitGang(_ nodes: [Int]) {
        for node in nodes {
            model.setUsage(node, model.nodes[node].capacity, on: true)
            model.wholeNode[node] = true
            model.replicaCount[node] += 1
            let held = reservation(node)
            candidates?.markBusy(node, pool: model.pool[node], model: model, reserved: held)
            leaveGangIndexes(node)
        }
    }

    // MARK: Choosing nodes

    /// A node is free for a gang when nothing else is on it, reserved included.
    private func freeWhole(_ node: Int, respectReservations: Bool) -> Bool {
        model.replicaCount[node] == 0 && !model.wholeNode[node]
            && (!respectReservations || reserved.isEmpty || reserved[node].allSatisfy { $0 <= Tolerance.capacity })
    }

    private func gangFits(_ nodes: [Int], _ demand: GangDemand) -> Bool {
        gangFitsBeforePower(nodes, demand) && model.powerFitsWhole(nodes)
    }

    /// ``gangFits(_:_:)`` without rack power: free and whole, colocated, covering the replica.
    private func gangFitsBeforePower(_ nodes: [Int], _ demand: GangDemand) -> Bool {
        nodes.allSatisfy { freeWhole($0, respectReservations: false) }
            && demand.colocated(nodes, model: model)
            && demand.covers(nodes, model: model)
    }

    /// The gang checks of `workload`, with the `colocate` key's flags of this run.
    private func gangDemand(_ workload: Workload) -> GangDemand {
        GangDemand(workload, model: model, inDomain: workload.colocate.flatMap { inDomainByKey[$0] })
    }

    /// Whether one more replica may go into the domain of each of `nodes`:
    /// `spread.allows(spread.domains(nodes))` without building a set.
    private static func spreadAllows(_ nodes: [Int], _ spread: DomainSpread) -> Bool {
        nodes.allSatisfy { spread.allows(node: $0) }
    }


    private func powerRank(_ node: Int) -> Int {
        model.on[node] ? 0 : (model.observedOn[node] ? 1 : 2)
    }

    /// The best node for one more replica: keeps spread (`minDomains` first), already on,
    /// least slack, emptiest domain, then the name. Only the candidates of the index are
    /// looked at; the others cannot win (see ``CandidateIndex``). Busy nodes come in buckets
    /// of equal power rank, capacity and use, so of equal slack: the buckets are visited by
    /// rank, then from the least slack up, and the search stops once the best so far needs no
    /// new domain and the next bucket comes later in rank and slack (decision 291): no node
    /// there can win. A bucket that cannot take the replica is passed over (decision 292).
    private mutating func chooseNode(_ workload: Workload, demand: [(Int, Double)], spread: DomainSpread) -> [Int]? {
        guard let pool = candidates?.poolID(workload.pool) else { return nil }
        // The live buckets into a buffer kept between calls (decision 380).
        var live = liveBuffer
        liveBuffer = []
        candidates?.liveBuckets(pool: pool, model: model, into: &live)
        // A member the index stops looking at is no longer offered to gangs either.
        if let dropped = candidates?.takeDropped() { for node in dropped { leaveGangIndexes(node) } }
        let buckets = candidates?.buckets ?? []
        var order = orderBuffer
        orderBuffer = []
        order.removeAll(keepingCapacity: true)
        for bucket in live {
            order.append((rank: buckets[bucket].rank, slack: Self.slack(demand, capacity: buckets[bucket].capacity, usage: buckets[bucket].used), bucket: bucket))
        }
        let sorted = !order.contains { $0.slack.isNaN }
        if sorted { order.sort { ($0.rank, $0.slack) < ($1.rank, $1.slack) } }
        let node = bestNode(demand: demand, spread: spread, order: order, sorted: sorted, buckets: buckets,
                            groups: candidates?.groups ?? [], groupIDs: candidates?.emptyGroups(pool: pool) ?? [])
        liveBuffer = live
        orderBuffer = order
        return node.map { [$0] }
    }

    /// ``chooseNode(_:demand:spread:)``'s search, reading the index without changing anything:
    /// the live buckets in `order` (by rank and slack when `sorted`), then the first empty
    /// node of each class, group by group (decision 381).
    private func bestNode(demand: [(Int, Double)], spread: DomainSpread, order: [(rank: Int, slack: Double, bucket: Int)], sorted: Bool,
                          buckets: [CandidateIndex.Bucket], groups: [CandidateIndex.EmptyGroup], groupIDs: [Int]) -> Int? {
        let wantsNewDomain = spread.minDomains > spread.used
        let wholeNode = model.wholeNode
        for respectReservations in [true, false] {
            if !respectReservations && reserved.isEmpty { break }  // the same search again
            // Nodes are indexed in name order, so the index breaks ties as the name would.
            var best: (key: (Int, Int, Double, Int, Int), node: Int)?
            for (rank, slack, bucket) in order {
                // No node from here on can rank before the best: it keeps spread as well
                // (at best), and its power rank and slack come later.
                if sorted, let best, best.key.0 == 0, (rank, slack) > (best.key.1, best.key.2) { break }
                // Capacity, use and reservation are the bucket's: the same check for every node.
                guard Self.fits(demand, buckets[bucket], respectReservations: respectReservations) else { continue }
                // Its rows, read once: every node of the bucket has them (decision 383).
                let capacity = buckets[bucket].capacity, used = buckets[bucket].used
                for node in buckets[bucket].nodes where !wholeNode[node] {
                    let key = rankKey(node, slack: slack, spread: spread, wantsNewDomain: wantsNewDomain)
                    if let best, !(key < best.key) { continue }
                    // `takes` with its capacity check already passed for the bucket above.
                    guard SpreadRule.allows(placed: key.3, limit: spread.limit),
                          model.powerFits(node, adding: demand, capacity: capacity, usage: used) else { continue }
                    best = (key, node)
                    // Later nodes of the bucket have the same rank, slack and a later name.
                    if key.0 == 0 && key.3 == 0 { break }
                }
            }
            // The first empty node of each class; its slack only when its rank could win. The
            // classes of a group share power rank, capacity and (nothing used) slack: a group
            // whose rank and slack come after the best's, which keeps spread, is passed over.
            for group in groupIDs {
                guard let first = groups[group].heads.first else { continue }
                if let best, best.key.0 == 0, groups[group].rank > best.key.1 { continue }
                let slack = Self.slack(demand, capacity: model.capacityDense[first], usage: model.usedDense[first])
                if let best, best.key.0 == 0, (groups[group].rank, slack) > (best.key.1, best.key.2) { continue }
                for node in groups[group].heads where !wholeNode[node] {
                    if let best, best.key.0 == 0, powerRank(node) > best.key.1 { continue }
                    let key = rankKey(node, slack: slack, spread: spread, wantsNewDomain: wantsNewDomain)
                    if let best, !(key < best.key) { continue }
                    guard takes(node, key: key, demand: demand, spread: spread, respectReservations: respectReservations) else { continue }
                    best = (key, node)
                }
            }
            if let best { return best.node }
        }
        return nil
    }

    /// Whether `demand` fits every node of `bucket` not taken whole: ``PlacementModel/fits(_:demand:reserved:)``
    /// on the bucket's rows, the same arithmetic.
    private static func fits(_ demand: [(Int, Double)], _ bucket: CandidateIndex.Bucket, respectReservations: Bool) -> Bool {
        let reserved = respectReservations ? bucket.reserved : []
        for (k, amount) in demand {
            let held = reserved.isEmpty ? bucket.used[k] : bucket.used[k] + reserved[k]
            if !CapacityRule.fits(held + amount, capacity: bucket.capacity[k]) { return false }
        }
        return true
    }

    /// The ranking's slack of a node with `capacity` and `usage` for one more replica of `demand`.
    private static func slack(_ demand: [(Int, Double)], capacity: [Double], usage: [Double]) -> Double {
        var slack = 0.0
        for (k, amount) in demand where capacity[k] > 0 {
            slack += (capacity[k] - usage[k] - amount) / capacity[k]
        }
        return slack
    }

    /// The ranking of `node` for a single-node replica, lowest best: new domain wanted and not
    /// given, power rank, slack, replicas of the workload in its domain, then the node.
    private func rankKey(_ node: Int, slack: Double, spread: DomainSpread, wantsNewDomain: Bool) -> (Int, Int, Double, Int, Int) {
        let placedThere = spread.ids.isEmpty ? 0 : spread.count[spread.ids[node]]  // SpreadRule in `takes`
        let newDomain = wantsNewDomain && placedThere > 0 ? 1 : 0
        return (newDomain, powerRank(node), slack, placedThere, node)
    }

    /// Whether `node`, ranked `key`, may take the replica: spread, capacity (over what is
    /// reserved, when respected) and its rack's cap.
    private func takes(_ node: Int, key: (Int, Int, Double, Int, Int), demand: [(Int, Double)], spread: DomainSpread, respectReservations: Bool) -> Bool {
        SpreadRule.allows(placed: key.3, limit: spread.limit)
            && model.canPlace(demand, on: node, reserved: respectReservations ? reservation(node) : [])
    }

    /// The gang for one more replica: of each `colocate` domain (the whole pool without the
    /// key), its free whole nodes, already on first, then by name, skipping any that break
    /// spread; of those that fit, the fewest powered-off nodes, then the domain's label value.
    /// Domains are visited in label order, so a later one wins only with strictly fewer
    /// nodes to power on; one that cannot have fewer, even taking its `size` best-ranked free
    /// nodes, is not looked at (the choice is the same, the work much less). The free nodes
    /// and their counts per domain and power rank come from a ``GangIndex``, kept up to date
    /// as nodes are taken, not from a scan of the pool (decision 290). When no domain's first
    /// set fits and a rack cap stopped at least one, the search runs again, and a domain whose
    /// first set only a rack cap stops takes its free nodes in the same order, passing over
    /// any that would push its rack over its cap (decisions 370, 371).
    private mutating func chooseGang(_ workload: Workload, size: Int, members: [Int], spread: DomainSpread) -> [Int]? {
        let gang = gangIndexes[gangIndex(pool: workload.pool, colocate: workload.colocate)]
        let demand = gangDemand(workload)
        for respectReservations in [true, false] {
            if !respectReservations && reserved.isEmpty { break }  // the same search again
            // Sets around rack caps only when no domain's first set fits (decision 371).
            var aroundCaps = false
            while true {
                var best: (key: (Int, Int), nodes: [Int])?
                var stoppedByPower = false
                for slot in 0..<gang.slotCount {
                    let on = gang.count(slot: slot, rank: 0, respectingReservations: respectReservations)
                    let observed = gang.count(slot: slot, rank: 1, respectingReservations: respectReservations)
                    let off = gang.count(slot: slot, rank: 2, respectingReservations: respectReservations)
                    guard on + observed + off >= size else { continue }
                    if let best {
                        // Nothing beats a gang of nodes all on: no later domain can win.
                        if best.key.0 == 0 { break }
                        // The fewest powered-off nodes any gang of this domain could have.
                        let takenOn = min(size, on), takenObserved = min(size - takenOn, observed)
                        guard takenObserved + 2 * (size - takenOn - takenObserved) < best.key.0 else { continue }
                    }
                    // Take nodes already on first, then by name, skipping any that break spread.
                    var chosen = firstFree(gang, slot: slot, size: size, spread: spread, respectReservations: respectReservations, withinRackCaps: false)
                    guard chosen.count == size, Self.spreadAllows(chosen, spread) else { continue }
                    if !gangFits(chosen, demand) {
                        // Only a rack cap stops that set: the same nodes in the same order again,
                        // each taken only while its rack keeps within its cap (decision 370).
                        guard gangFitsBeforePower(chosen, demand) else { continue }
                        stoppedByPower = true
                        guard aroundCaps else { continue }
                        chosen = firstFree(gang, slot: slot, size: size, spread: spread, respectReservations: respectReservations, withinRackCaps: true)
                        guard chosen.count == size, Self.spreadAllows(chosen, spread), gangFits(chosen, demand) else { continue }
                    }
                    let key = (chosen.reduce(0) { $0 + powerRank($1) }, slot)
                    if best.map({ key < $0.key }) ?? true { best = (key, chosen) }
                }
                if let best { return best.nodes }
                guard stoppedByPower, !aroundCaps else { break }
                aroundCaps = true
            }
        }
        return nil
    }

    /// The first `size` free nodes of `slot` in the gang index's order (on first, then by
    /// name), passing over those a reservation holds (when respected) and any that would break spread; with
    /// `withinRackCaps`, also any that would push its rack over its cap together with the nodes
    /// taken before it (a whole node only adds draw, so a node passed over stays over). Fewer
    /// than `size` when the slot has no more.
    private func firstFree(_ gang: GangIndex, slot: Int, size: Int, spread: DomainSpread, respectReservations: Bool, withinRackCaps: Bool) -> [Int] {
        var chosen: [Int] = []
        gang.forEachFree(slot: slot, skip: { respectReservations && !unreserved($0) }) { node in
            // Its domain is new to the set and full: `spread.allows` of the domains it adds.
            if spread.spreads, !spread.allows(node: node), !chosen.contains(where: { spread.ids[$0] == spread.ids[node] }) { return false }
            if withinRackCaps && !model.powerFitsWhole(chosen + [node]) { return false }
            chosen.append(node)
            return chosen.count == size
        }
        return chosen
    }

    /// The position in `gangIndexes` of the index of `pool` by `colocate`, built on first use
    /// from the members the candidate index offers that could join a gang at all: free, with
    /// GPUs, healthy, in a domain of the key.
    private mutating func gangIndex(pool: String, colocate: String?) -> Int {
        let name = pool + "\u{1F}" + (colocate ?? "")
        if let position = gangIndexOf[name] { return position }
        let ids = colocate.flatMap { model.domainIDs[$0] }
        let inDomain = colocate.flatMap { inDomainByKey[$0] }
        let order = colocate.map { domainOrderByKey[$0] ?? [] } ?? [0]
        let gpuIndex = model.gpuKey
        let nodes = (candidates?.freeNodes(pool: pool) ?? []).filter { node in
            model.replicaCount[node] == 0 && !model.wholeNode[node]
                && (gpuIndex.map { model.capacityDense[node][$0] > 0 } ?? false)
                && model.healthy[node] && (inDomain?[node] ?? true)
        }
        let index = GangIndex(nodes: nodes, nodeCount: model.nodes.count, domain: { ids?[$0] ?? 0 }, order: order,
                              rank: { powerRank($0) }, unreserved: { unreserved($0) })
        gangIndexes.append(index)
        gangIndexOf[name] = gangIndexes.count - 1
        return gangIndexes.count - 1
    }

    // MARK: Reasons

    /// Why no gang fits, naming the binding constraint with its numbers and a fix: the pool's
    /// size, free whole nodes per colocate domain, spread (maxPerDomain), or rack power; each
    /// checked only when the ones before it leave room, as `chooseGang` does.
    private func explainGang(_ workload: Workload, members: [Int], healthy: [Int], spread: DomainSpread, gangSize: Int, gpusPerNode: Int) -> String {
        let pool = "HardwarePool/\(workload.pool)"
        let scope = workload.colocate.map { " in one \($0)" } ?? ""
        let need = "each replica needs \(gangSize) whole nodes of \(gpusPerNode) GPUs\(scope)"
        let example = healthy.first.map { model.nodes[$0].name } ?? "those of the pool"
        if healthy.count < gangSize {
            return "\(need), and only \(healthy.count) of the pool's nodes \(healthy.count == 1 ? "is" : "are") healthy; "
                + "to fix: grow \(pool) to at least \(gangSize) healthy nodes, or make the gang smaller"
        }
        let free = healthy.filter {
            freeWhole($0, respectReservations: false) && model.replicaCount[$0] == 0 && !model.wholeNode[$0]
                && GangRule.inDomain($0, colocate: workload.colocate, model: model)
        }
        var groups: [String: [Int]] = [:]
        for node in free { groups[workload.colocate.map { model.nodes[node].labels[$0] ?? "" } ?? "", default: []].append(node) }
        let mostFree = groups.values.map(\.count).max() ?? 0
        if mostFree < gangSize {
            let whereFree = workload.colocate.map { "the most free in any \($0) is \(mostFree)" } ?? "\(free.count) \(free.count == 1 ? "is" : "are") free"
            let fixScope = workload.colocate.map { " in one \($0)" } ?? ""
            return "\(need); \(whereFree); to fix: add about \(gangSize - mostFree) node\(gangSize - mostFree == 1 ? "" : "s") like \(example) to \(pool)\(fixScope), or lower the replicas"
        }
        // Enough free nodes somewhere: does spread, then power, stop every gang?
        var spreadAllows = 0, mostWithinSpread = 0, powerAllows = 0
        for nodes in groups.values where nodes.count >= gangSize {
            var chosen: [Int] = []
            for node in nodes.sorted() {
                guard spread.allows(spread.domains([node]).subtracting(spread.domains(chosen))) else { continue }
                chosen.append(node)
                if chosen.count == gangSize { break }
            }
            mostWithinSpread = max(mostWithinSpread, chosen.count)
            guard chosen.count == gangSize else { continue }
            spreadAllows += 1
            if model.powerFitsWhole(chosen) { powerAllows += 1 }
        }
        let domains = workload.colocate.map { key in { (n: Int) in "\(n) \(key) domain\(n == 1 ? "" : "s")" } } ?? { (n: Int) in n == 1 ? "the pool" : "\(n) groups" }
        let roomy = groups.values.filter { $0.count >= gangSize }.count
        if spreadAllows == 0, let key = spread.key {
            return "\(need); \(domains(roomy)) \(roomy == 1 ? "has" : "have") \(gangSize) free nodes, but every \(key) they are in already holds "
                + "\(spread.limit) replica\(spread.limit == 1 ? "" : "s") (maxPerDomain \(spread.limit)), so at most \(mostWithinSpread) of them can join a gang; "
                + "to fix: raise maxPerDomain, or add nodes to \(pool) in other \(key)s"
        }
        if powerAllows == 0 {
            let caps = Set(free.compactMap { model.rackCapW[model.rack[$0]] })
            let cap = caps.count == 1 ? caps.first.map { " of " + String(format: "%.1f kW", $0 / 1000) } ?? "" : ""
            return "\(need); \(domains(spreadAllows)) \(spreadAllows == 1 ? "has" : "have") \(gangSize) free nodes within the spread, but a gang there "
                + "would push a rack over its power cap\(cap); to fix: raise rackPowerCapKW, or add nodes to \(pool) in racks with power to spare"
        }
        return "\(need); the most free in any \(workload.colocate ?? "group") is \(mostFree)"
    }

    private func explain(_ workload: Workload, members: [Int], spread: DomainSpread, gangSize: Int, gpusPerNode: Int) -> String {
        let pool = "HardwarePool/\(workload.pool)"
        if members.isEmpty { return "\(pool) has no member nodes" }
        let healthy = members.filter { HealthRule.takesNew(model.nodes[$0].health) }
        var parts: [String] = []
        let unhealthy = members.count - healthy.count
        if unhealthy > 0 { parts.append("\(unhealthy) \(unhealthy == 1 ? "is" : "are") not healthy") }
        if gangSize > 1 {
            let reason = explainGang(workload, members: members, healthy: healthy, spread: spread, gangSize: gangSize, gpusPerNode: gpusPerNode)
            return "of \(members.count) nodes in \(pool), " + (parts + [reason]).joined(separator: "; ")
        }
        var lacking: [String: Int] = [:]
        var spreadBlocked = 0, powerBlocked = 0
        for node in healthy {
            if let key = model.shortfall(node, demand: workload.resources) {
                lacking[key, default: 0] += 1
            } else if !spread.allows(spread.domains([node])) {
                spreadBlocked += 1
            } else if !model.powerFits(node, newUsage: model.adding(workload.resources, to: node)) {
                powerBlocked += 1
            }
        }
        for (key, count) in lacking.sorted(by: { $0.key < $1.key }) {
            parts.append("\(count) lack\(count == 1 ? "s" : "") free \(key) (each replica needs \(format(workload.resources[key] ?? 0)))")
        }
        if spreadBlocked > 0, let key = spread.key {
            parts.append("\(spreadBlocked) \(spreadBlocked == 1 ? "is" : "are") in \(key)s already holding \(spread.limit) replica\(spread.limit == 1 ? "" : "s") (maxPerDomain)")
        }
        if powerBlocked > 0 { parts.append("\(powerBlocked) would push a rack over its power cap") }
        if parts.isEmpty { parts.append("no node has room") }
        // What would fix it: nodes like the pool's largest, each taking this many replicas.
        var fix = ""
        if let largest = healthy.max(by: { model.nodes[$0].capacity.values.reduce(0, +) < model.nodes[$1].capacity.values.reduce(0, +) }) {
            let perNode = workload.resources.filter { $0.value > 0 }
                .map { Int(((model.nodes[largest].capacity[$0.key] ?? 0) / $0.value).rounded(.down)) }.min() ?? 0
            if perNode > 0 {
                let unplaced = workload.replicas - (states[workload.metadata.name]?.replicas.count ?? 0)
                let nodes = (unplaced + perNode - 1) / perNode
                fix = "; to fix: add about \(nodes) node\(nodes == 1 ? "" : "s") like \(model.nodes[largest].name) to \(pool)"
                if spreadBlocked > 0, let key = spread.key { fix += " in other \(key)s, or raise maxPerDomain" }
                if powerBlocked > 0 { fix += ", or raise the rack power cap" }
                fix += ", or lower the replicas"
            }
        }
        return "of \(members.count) nodes in \(pool), " + parts.joined(separator: "; ") + fix
    }
}
