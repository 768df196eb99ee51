/// The nodes of each pool that may take a new replica, without scanning every member.
///
/// A node's rank and checks for a new replica depend on its capacity, power rating, rack,
/// power state, failure domains and what it holds. Empty nodes (nothing held or reserved)
/// that agree on all of those are interchangeable except for their name, and the lowest name
/// wins ties: so of each such *class* only the first node needs looking at. Every other
/// node (holding something, reserved, or committed to since) is *busy* and looked at one by
/// one, until it can take no replica of its pool any more. The choice is exactly the one a
/// scan of every member would make, in a fraction of the work.
struct CandidateIndex {
    /// Per pool: the busy healthy members.
    private var busy: [String: [Int]] = [:]
    /// Per pool: its classes of empty members.
    private var classesOfPool: [String: [Int]] = [:]
    /// Per class: its nodes in index (name) order, and the position of the first still empty.
    private var classNodes: [[Int]] = []
    private var head: [Int] = []
    /// Per node: still counted as empty in its class.
    private var empty: [Bool]
    /// Per pool: the fewest GPUs any of its workloads asks for per replica (0: some ask for none).
    private var leastGPUs: [String: Double] = [:]
    /// Busy members dropped for lack of GPUs since ``takeDropped()`` was last asked: they leave
    /// ``freeNodes(pool:)`` too, which the gang indexes must follow.
    private var dropped: [Int] = []

    init(model: PlacementModel, reserved: [[Double]]) {
        empty = Array(repeating: false, count: model.nodes.count)
        for workload in model.desired.workloads.values {
            let gpus = workload.resources["gpus"] ?? 0
            leastGPUs[workload.pool] = min(leastGPUs[workload.pool] ?? .infinity, gpus > 0 ? gpus : 0)
        }
        let domainKeys = model.domainIDs.keys.sorted()
        var classOf: [[AnyHashable]: Int] = [:]
        for node in model.nodes.indices {
            guard let pool = model.pool[node], HealthRule.takesNew(model.nodes[node].health), !model.wholeNode[node] else { continue }
            let isEmpty = model.replicaCount[node] == 0 && model.driveCount[node] == 0
                && model.usedDense[node].allSatisfy { $0 == 0 } && (reserved.isEmpty || reserved[node].allSatisfy { $0 == 0 })
            guard isEmpty else {
                busy[pool, default: []].append(node)
                continue
            }
            let power = model.nodes[node].power
            var signature: [AnyHashable] = [pool, model.rack[node], model.on[node], model.nodes[node].powerState == .on,
                                            model.capacityDense[node], power.idleW, power.maxW]
            for key in domainKeys { signature.append(model.domainIDs[key]?[node] ?? -1) }
            let position: Int
            if let existing = classOf[signature] {
                position = existing
            } else {
                position = classNodes.count
                classOf[signature] = position
                classNodes.append([])
                head.append(0)
                classesOfPool[pool, default: []].append(position)
            }
            classNodes[position].append(node)
            empty[node] = true
        }
    }

    /// The nodes to look at for a new single-node replica in `pool`: every busy member that
    /// could still take one, and the first empty node of each class. Drops busy members that
    /// can take nothing more (capacity only grows used within one placement).
    mutating func candidates(pool: String, model: PlacementModel) -> [Int] {
        var result: [Int] = []
        if var members = busy[pool] {
            let least = leastGPUs[pool] ?? 0
            members.removeAll { node in
                if model.wholeNode[node] { return true }
                guard least > 0, let g = model.gpuKey else { return false }
                let short = model.capacityDense[node][g] - model.usedDense[node][g] < least - Tolerance.capacity
                if short { dropped.append(node) }
                return short
            }
            busy[pool] = members
            result = members
        }
        for position in classesOfPool[pool] ?? [] {
            var first = head[position]
            while first < classNodes[position].count, !empty[classNodes[position][first]] { first += 1 }
            head[position] = first
            if first < classNodes[position].count { result.append(classNodes[position][first]) }
        }
        return result
    }

    /// Every member of `pool` that may be free for a gang: the busy ones and every empty one,
    /// in no particular order.
    func freeNodes(pool: String) -> [Int] {
        var result = busy[pool] ?? []
        for position in classesOfPool[pool] ?? [] {
            for node in classNodes[position][head[position]...] where empty[node] { result.append(node) }
        }
        return result
    }

    /// The busy members dropped for lack of GPUs since the last call.
    mutating func takeDropped() -> [Int] {
        defer { dropped.removeAll(keepingCapacity: true) }
        return dropped
    }

    /// `node` now holds something: it is looked at one by one from now on.
    mutating func markBusy(_ node: Int, pool: String?) {
        guard empty[node], let pool else { return }
        empty[node] = false
        busy[pool, default: []].append(node)
    }
}
