/// The nodes of each pool that may take a new replica, without scanning every member.
///
/// A node's rank and checks for a new replica depend on its capacity, power rating, rack,
/// power state, failure domains and what it holds. Empty nodes (nothing held or reserved)
/// that agree on all of those are interchangeable except for their name, and the lowest name
/// wins ties: so of each such *class* only the first node needs looking at. Every other
/// node (holding something, reserved, or committed to since) is *busy*, and the busy members
/// of a pool are kept in *buckets* of equal power rank, capacity and use: the ranking's slack
/// of a node depends only on the last two, so a search can visit the buckets by rank and
/// slack and stop once no later bucket can win (decision 291). A busy node is looked at until it can
/// take no replica of its pool any more. The choice is exactly the one a scan of every member
/// would make, in a fraction of the work.
struct CandidateIndex {
    /// Busy members of one pool with the same power rank (0 on, 1 observed on, 2 off), the
    /// same capacity, the same use and the same reservation (empty while nothing is
    /// reserved), in index order.
    struct Bucket {
        let pool: Int
        let rank: Int
        let capacity: [Double]
        let used: [Double]
        let reserved: [Double]
        fileprivate(set) var nodes: [Int] = []
    }

    /// What makes two empty nodes interchangeable (see the type's comment).
    private struct ClassKey: Hashable {
        let pool: Int
        let rack: Int
        let on: Bool
        let observedOn: Bool
        let capacity: [Double]
        let idleW: Double
        let maxW: Double
        let domains: [Int]
    }

    private struct BucketKey: Hashable {
        let pool: Int
        let rank: Int
        let capacity: [Double]
        let used: [Double]
        let reserved: [Double]
    }

    /// Pool names as small integers.
    private var poolIDs: [String: Int] = [:]
    /// Per pool: its buckets, in the order they were made.
    private var bucketsOfPool: [[Int]] = []
    private(set) var buckets: [Bucket] = []
    private var bucketOfKey: [BucketKey: Int] = [:]
    /// Per node: its bucket while it is busy and looked at, else -1.
    private var bucketOf: [Int]
    /// Per pool: its classes of empty members.
    private var classesOfPool: [[Int]] = []
    /// Per class: its nodes in index (name) order, and the position of the first still empty
    /// (moved on as soon as that node is taken: ``markBusy(_:pool:model:reserved:)``).
    private var classNodes: [[Int]] = []
    private var head: [Int] = []
    /// Per node: its class while it is counted as empty, else -1.
    private var classOfNode: [Int32]
    /// Classes of one pool with the same power rank and capacity: their first empty nodes
    /// share the ranking's slack, so one test passes over all of them (decision 381).
    struct EmptyGroup {
        let rank: Int
        let capacity: [Double]
        /// The first empty node of each of its classes that has one, in no particular order.
        fileprivate(set) var heads: [Int] = []
        /// The class of each entry of `heads`.
        fileprivate var headClass: [Int] = []
    }

    private struct GroupKey: Hashable {
        let pool: Int
        let rank: Int
        let capacity: [Double]
    }

    /// The groups of empty classes, and per pool the groups it has.
    private(set) var groups: [EmptyGroup] = []
    private var groupsOfPool: [[Int]] = []
    /// Per class: its group, and the position of its first empty node in the group's `heads`
    /// (-1 once it has none).
    private var classGroup: [Int] = []
    private var classSlot: [Int] = []
    /// Per bucket: listed in its pool's `bucketsOfPool` (an emptied bucket leaves the list
    /// until a node enters it again).
    private var listed: [Bool] = []
    /// Per node: still counted as empty in its class.
    private var empty: [Bool]
    /// Per pool: the fewest GPUs any of its workloads asks for per replica (0: some ask for none).
    private var leastGPUs: [Double] = []
    /// Busy members dropped for lack of GPUs since ``takeDropped()`` was last asked: they leave
    /// ``freeNodes(pool:)`` too, which the gang indexes must follow.
    private var dropped: [Int] = []

    init(model: PlacementModel, reserved: [[Double]]) {
        empty = Array(repeating: false, count: model.nodes.count)
        bucketOf = Array(repeating: -1, count: model.nodes.count)
        classOfNode = Array(repeating: -1, count: model.nodes.count)
        var least: [String: Double] = [:]
        for workload in model.desired.workloads.values {
            let gpus = workload.resources["gpus"] ?? 0
            least[workload.pool] = min(least[workload.pool] ?? .infinity, gpus > 0 ? gpus : 0)
        }
        for name in Set(model.pool.compactMap { $0 }).union(least.keys).sorted() {
            poolIDs[name] = poolIDs.count
            leastGPUs.append(least[name] ?? 0)
        }
        bucketsOfPool = Array(repeating: [], count: poolIDs.count)
        classesOfPool = Array(repeating: [], count: poolIDs.count)
        groupsOfPool = Array(repeating: [], count: poolIDs.count)
        var groupOf: [GroupKey: Int] = [:]
        let domainKeys = model.domainIDs.keys.sorted()
        let domainColumns = domainKeys.map { model.domainIDs[$0] ?? [] }
        var classOf: [ClassKey: Int] = [:]
        for node in model.nodes.indices {
            guard let poolName = model.pool[node], let pool = poolIDs[poolName],
                  model.healthy[node], !model.wholeNode[node] else { continue }
            let isEmpty = model.replicaCount[node] == 0 && model.driveCount[node] == 0
                && model.usedDense[node].allSatisfy { $0 == 0 } && (reserved.isEmpty || reserved[node].allSatisfy { $0 == 0 })
            guard isEmpty else {
                insert(node, pool: pool, model: model, reserved: reserved.isEmpty ? [] : reserved[node])
                continue
            }
            let power = model.nodes[node].power
            let signature = ClassKey(pool: pool, rack: model.rackID[node], on: model.on[node], observedOn: model.observedOn[node],
                                     capacity: model.capacityDense[node], idleW: power.idleW, maxW: power.maxW,
                                     domains: domainColumns.map { $0[node] })
            let position: Int
            if let existing = classOf[signature] {
                position = existing
            } else {
                position = classNodes.count
                classOf[signature] = position
                classNodes.append([])
                head.append(0)
                classesOfPool[pool].append(position)
                let rank = model.on[node] ? 0 : (model.observedOn[node] ? 1 : 2)
                let groupKey = GroupKey(pool: pool, rank: rank, capacity: model.capacityDense[node])
                let group: Int
                if let existing = groupOf[groupKey] {
                    group = existing
                } else {
                    group = groups.count
                    groupOf[groupKey] = group
                    groups.append(EmptyGroup(rank: rank, capacity: groupKey.capacity))
                    groupsOfPool[pool].append(group)
                }
                classGroup.append(group)
                classSlot.append(groups[group].heads.count)
                groups[group].heads.append(node)
                groups[group].headClass.append(position)
            }
            classNodes[position].append(node)
            classOfNode[node] = Int32(position)
            empty[node] = true
        }
    }

    /// The id of pool `name`, if it has members or workloads.
    func poolID(_ name: String) -> Int? { poolIDs[name] }

    /// The groups of empty classes of `pool` (an id of ``poolID(_:)``).
    func emptyGroups(pool: Int) -> [Int] { groupsOfPool[pool] }

    /// Empty `node` is taken: its class's first empty node moves on, in its group too.
    private mutating func leaveClass(_ node: Int) {
        let position = Int(classOfNode[node])
        classOfNode[node] = -1
        guard position >= 0 else { return }
        let nodes = classNodes[position]
        var first = head[position]
        guard first < nodes.count, nodes[first] == node else { return }
        while first < nodes.count, !empty[nodes[first]] { first += 1 }
        head[position] = first
        let group = classGroup[position], slot = classSlot[position]
        if first < nodes.count {
            groups[group].heads[slot] = nodes[first]
            return
        }
        // The class has no empty node left: the group's last entry takes its slot.
        let last = groups[group].heads.count - 1
        if slot != last {
            let moved = groups[group].headClass[last]
            groups[group].heads[slot] = groups[group].heads[last]
            groups[group].headClass[slot] = moved
            classSlot[moved] = slot
        }
        groups[group].heads.removeLast()
        groups[group].headClass.removeLast()
        classSlot[position] = -1
    }

    /// Puts busy `node` into the bucket of what it has and holds now, in index order.
    private mutating func insert(_ node: Int, pool: Int, model: PlacementModel, reserved: [Double]) {
        let rank = model.on[node] ? 0 : (model.observedOn[node] ? 1 : 2)
        let key = BucketKey(pool: pool, rank: rank, capacity: model.capacityDense[node], used: model.usedDense[node], reserved: reserved)
        let bucket: Int
        if let existing = bucketOfKey[key] {
            bucket = existing
        } else {
            bucket = buckets.count
            bucketOfKey[key] = bucket
            buckets.append(Bucket(pool: pool, rank: rank, capacity: key.capacity, used: key.used, reserved: reserved))
            listed.append(false)
        }
        if !listed[bucket] {
            listed[bucket] = true
            bucketsOfPool[pool].append(bucket)
        }
        let position = Self.position(of: node, in: buckets[bucket].nodes)
        buckets[bucket].nodes.insert(node, at: position)
        bucketOf[node] = bucket
    }

    /// Where `node` is, or belongs, in the ascending `nodes`.
    private static func position(of node: Int, in nodes: [Int]) -> Int {
        var low = 0, high = nodes.count
        while low < high {
            let middle = (low + high) / 2
            if nodes[middle] < node { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private mutating func leaveBucket(_ node: Int) {
        let bucket = bucketOf[node]
        guard bucket >= 0 else { return }
        let position = Self.position(of: node, in: buckets[bucket].nodes)
        if position < buckets[bucket].nodes.count, buckets[bucket].nodes[position] == node {
            buckets[bucket].nodes.remove(at: position)
        }
        bucketOf[node] = -1
    }

    /// The buckets of busy members of `pool` (an id of ``poolID(_:)``) that could still take a
    /// new single-node replica, into `live` (emptied first). Buckets left empty leave the
    /// pool's list, and those whose nodes can take nothing more (capacity only grows used
    /// within one placement) are emptied; their nodes are reported by ``takeDropped()``. The
    /// first empty node of each class is in ``groups`` (``emptyGroups(pool:)``), kept up to
    /// date as nodes are taken.
    mutating func liveBuckets(pool: Int, model: PlacementModel, into live: inout [Int]) {
        live.removeAll(keepingCapacity: true)
        let least = leastGPUs[pool]
        var list = bucketsOfPool[pool]
        bucketsOfPool[pool] = []
        var kept = 0
        for position in list.indices {
            let bucket = list[position]
            if buckets[bucket].nodes.isEmpty {
                listed[bucket] = false
                continue
            }
            list[kept] = bucket
            kept += 1
            if least > 0, let g = model.gpuKey,
               buckets[bucket].capacity[g] - buckets[bucket].used[g] < least - Tolerance.capacity {
                for node in buckets[bucket].nodes {
                    bucketOf[node] = -1
                    if !model.wholeNode[node] { dropped.append(node) }
                }
                buckets[bucket].nodes.removeAll()
                continue
            }
            live.append(bucket)
        }
        list.removeLast(list.count - kept)
        bucketsOfPool[pool] = list
    }

    /// The busy members dropped for lack of GPUs since the last call.
    mutating func takeDropped() -> [Int] {
        guard !dropped.isEmpty else { return [] }
        defer { dropped = [] }
        return dropped
    }

    /// Every member of `pool` that may be free for a gang: the busy ones and every empty one,
    /// in no particular order.
    func freeNodes(pool name: String) -> [Int] {
        guard let pool = poolIDs[name] else { return [] }
        var result: [Int] = []
        for bucket in bucketsOfPool[pool] { result += buckets[bucket].nodes }
        for position in classesOfPool[pool] {
            for node in classNodes[position][head[position]...] where empty[node] { result.append(node) }
        }
        return result
    }

    /// `node` now holds something more: it is looked at one by one from now on, in the bucket
    /// of what it holds now. A node taken whole (by a gang) can take nothing more and leaves.
    mutating func markBusy(_ node: Int, pool name: String?, model: PlacementModel, reserved: [Double]) {
        guard let name, let pool = poolIDs[name] else { return }
        if empty[node] {
            empty[node] = false
            leaveClass(node)
        } else {
            guard bucketOf[node] >= 0 else { return }
            leaveBucket(node)
        }
        if !model.wholeNode[node] { insert(node, pool: pool, model: model, reserved: reserved) }
    }

    /// What is reserved on `node` is now `reserved`: a busy node moves to its bucket.
    mutating func reservationChanged(_ node: Int, model: PlacementModel, reserved: [Double]) {
        let bucket = bucketOf[node]
        guard bucket >= 0 else { return }
        let pool = buckets[bucket].pool
        leaveBucket(node)
        insert(node, pool: pool, model: model, reserved: reserved)
    }
}
