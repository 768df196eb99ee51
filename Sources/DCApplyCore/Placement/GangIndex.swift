/// The free whole nodes of one pool for gang replicas of one `colocate` key, per domain of the
/// key and per power rank (0 on, 1 observed on, 2 off), so a gang replica looks at the few
/// nodes each domain offers instead of scanning every member of the pool.
///
/// Domains are *slots*, numbered in the order the gang search visits them (label order). Each
/// slot and rank holds its nodes in index (name) order, and counts how many are still free,
/// with and without those that reservations hold. Within one ``WorkloadPlacer`` run a node
/// only ever stops being free (nothing is removed) and a node's power rank cannot change while
/// it is free (only committing turns a node on), so removing is enough; a reservation can only
/// shrink once placing has begun, and ``setUnreserved(_:_:)`` follows it both ways.
/// docs/performance.md, "Issue 18: the placer's searches indexed"; docs/decisions.md 290.
struct GangIndex {
    /// How many domains (slots) hold a node of the index.
    let slotCount: Int
    /// Per slot and rank (`slot * 3 + rank`): the nodes in index order, and the position of the
    /// first that may still be free.
    private var lists: [[Int]]
    private var heads: [Int]
    /// Per slot and rank: the free nodes, and those of them no reservation holds.
    private var free: [Int]
    private var freeUnreserved: [Int]
    /// Per node: `slot * 3 + rank` while it is free and in the index, else -1.
    private var place: [Int32]

    /// The index of `nodes` (free now, each in a domain of the key), with `domain` the domain
    /// id of a node, `order` the domain ids in visiting order, `rank` a node's power rank and
    /// `unreserved` whether no reservation holds it.
    init(nodes: [Int], nodeCount: Int, domain: (Int) -> Int, order: [Int], rank: (Int) -> Int, unreserved: (Int) -> Bool) {
        var present = Set<Int>()
        for node in nodes { present.insert(domain(node)) }
        var slotOf: [Int: Int] = [:]
        for id in order where present.contains(id) && slotOf[id] == nil { slotOf[id] = slotOf.count }
        slotCount = slotOf.count
        lists = Array(repeating: [], count: slotCount * 3)
        free = Array(repeating: 0, count: slotCount * 3)
        freeUnreserved = Array(repeating: 0, count: slotCount * 3)
        place = Array(repeating: -1, count: nodeCount)
        for node in nodes.sorted() {
            guard let slot = slotOf[domain(node)] else { continue }
            let k = slot * 3 + rank(node)
            lists[k].append(node)
            place[node] = Int32(k)
            free[k] += 1
            if unreserved(node) { freeUnreserved[k] += 1 }
        }
        heads = Array(repeating: 0, count: slotCount * 3)
    }

    /// Free nodes of `slot` with power rank `rank`, leaving out the reserved ones when asked.
    func count(slot: Int, rank: Int, respectingReservations: Bool) -> Int {
        respectingReservations ? freeUnreserved[slot * 3 + rank] : free[slot * 3 + rank]
    }

    /// Visits the free nodes of `slot`, on first, then observed on, then off, each in index
    /// order, leaving out those `skip` names, until `body` returns true.
    func forEachFree(slot: Int, skip: (Int) -> Bool, _ body: (Int) -> Bool) {
        for rank in 0..<3 {
            let k = slot * 3 + rank
            let list = lists[k]
            var position = heads[k]
            while position < list.count {
                let node = list[position]
                position += 1
                guard place[node] >= 0, !skip(node) else { continue }
                if body(node) { return }
            }
        }
    }

    /// `node` is no longer free (taken, or no longer a candidate); `unreserved` is whether no
    /// reservation held it. Nothing happens for a node not (or no longer) in the index.
    mutating func remove(_ node: Int, unreserved: Bool) {
        let k = Int(place[node])
        guard k >= 0 else { return }
        place[node] = -1
        free[k] -= 1
        if unreserved { freeUnreserved[k] -= 1 }
        let list = lists[k]
        var head = heads[k]
        while head < list.count, place[list[head]] < 0 { head += 1 }
        heads[k] = head
    }

    /// Whether any reservation holds `node` changed: now none does when `unreserved`.
    mutating func setUnreserved(_ node: Int, _ unreserved: Bool) {
        let k = Int(place[node])
        guard k >= 0 else { return }
        freeUnreserved[k] += unreserved ? 1 : -1
    }
}
