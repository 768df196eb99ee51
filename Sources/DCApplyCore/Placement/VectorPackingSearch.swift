/// Consistent neighbourhood search for vector packing, after Buljubašić and Vasquez
/// ("Consistent neighborhood search for one-dimensional bin packing and two-dimensional vector
/// packing", Computers & Operations Research 76, 2016), for any number of resources and bins of
/// any size.
///
/// Given a feasible packing it tries to do with one bin fewer, again and again: it closes three
/// light bins, puts their items aside, and searches among packings that never overfill a bin
/// until what is aside fits in two of the three. Moves, the first that helps:
/// - an item aside goes straight into a bin where it fits (best fit);
/// - a bin is re-filled with the heaviest set of its own items and those aside that fits
///   (a small exact knapsack; what it drops goes aside);
/// - else an item aside, picked at random, goes into the bin where the fewest and lightest
///   items must come out for it (a tabu move: they may not go back into that bin for a while).
/// An attempt that stops making what is aside lighter is given up: the last complete packing
/// comes back and three other light bins are closed.
///
/// Pure and deterministic: a seeded generator and a work budget counted in checks, not a clock.
struct VectorPackingSearch: Sendable {
    let dims: Int
    let itemCount: Int
    let binCount: Int
    /// `demand[item * dims + k]`.
    private let demand: [Double]
    private let weight: [Double]
    /// Room left in each bin: `slack[bin * dims + k]`.
    private var slack: [Double]
    /// Bins that stay open whatever happens (they hold something that does not move).
    private let pinned: [Bool]
    /// Each item's bin; -1 while it is put aside.
    private(set) var bin: [Int]
    private var members: [[Int]]
    private(set) var open: [Bool]
    private var aside: [Int] = []
    /// Checks left.
    private(set) var work: Int
    private var random: UInt64
    /// `item * binCount + bin` -> the iteration until which the item may not go back in.
    private var tabu: [Int: Int] = [:]
    /// The same as a flat array, when items × bins is small enough.
    private var tabuFlat: [Int32]
    /// Items put aside, and bins changed, since the descent last found nothing: marked with
    /// the current epoch (bumping it clears them all).
    private var newcomer: [Int]
    private var changedBin: [Int]
    private var epoch = 1
    /// Scratch space of `refill`.
    private var scratchRoom: [Double]
    private var scratchPool: [Int] = []
    private var scratchSuffix: [Double] = []
    private var scratchChosen: [Int] = []
    private var scratchBest: [Int] = []
    private var iteration = 0
    /// Room and weights are compared with the kernel's capacity tolerance (``CapacityRule``):
    /// what the search calls fitting is what every other strategy calls fitting.
    private static let epsilon = Tolerance.capacity

    /// - Parameters:
    ///   - demand: per item, its demand on each of `dims` resources.
    ///   - room: per bin, what it can still take besides the items given here.
    ///   - assignment: per item, the open bin it is in now.
    ///   - open: per bin, whether it is powered (an item may only go into an open bin).
    ///   - pinned: per bin, whether it must stay open.
    init(dims: Int, demand: [[Double]], room: [[Double]], assignment: [Int], open: [Bool], pinned: [Bool], work: Int, seed: UInt64) {
        self.dims = dims
        itemCount = demand.count
        binCount = room.count
        self.demand = demand.flatMap { $0 }
        var reference = [Double](repeating: 0, count: dims)
        for r in room { for k in 0..<dims { reference[k] = max(reference[k], r[k]) } }
        for (item, b) in assignment.enumerated() { _ = b; for k in 0..<dims { reference[k] = max(reference[k], demand[item][k]) } }
        // The weight of an item: its normalised size to the power 1.5, so that one large item
        // aside counts for more than two small ones of the same total (they are easier to place).
        weight = demand.map { d in
            let size = (0..<dims).reduce(0) { $0 + (reference[$1] > 0 ? d[$1] / reference[$1] : 0) }
            return size * size.squareRoot()
        }
        var slack = room.flatMap { $0 }
        var members = Array(repeating: [Int](), count: room.count)
        for (item, b) in assignment.enumerated() {
            members[b].append(item)
            for k in 0..<dims { slack[b * dims + k] -= demand[item][k] }
        }
        self.slack = slack
        self.members = members
        self.bin = assignment
        self.open = open
        self.pinned = pinned
        self.work = work
        random = seed &+ 0x9E37_79B9_7F4A_7C15
        tabuFlat = demand.count * room.count <= 4_000_000 ? Array(repeating: 0, count: demand.count * room.count) : []
        newcomer = Array(repeating: 0, count: demand.count)
        changedBin = Array(repeating: 0, count: room.count)
        scratchRoom = Array(repeating: 0, count: dims)
    }

    /// The same search with another seed.
    func reseeded(_ seed: UInt64) -> VectorPackingSearch {
        var copy = self
        copy.random = seed &+ 0x9E37_79B9_7F4A_7C15
        return copy
    }

    var openCount: Int { open.lazy.filter { $0 }.count }

    private mutating func next() -> UInt64 {
        // SplitMix64.
        random &+= 0x9E37_79B9_7F4A_7C15
        var z = random
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    // MARK: State changes

    private mutating func takeOut(_ item: Int) {
        let b = bin[item]
        for k in 0..<dims { slack[b * dims + k] += demand[item * dims + k] }
        if let position = members[b].firstIndex(of: item) { members[b].remove(at: position) }
        bin[item] = -1
        aside.append(item)
    }

    private mutating func put(_ item: Int, into b: Int) {
        for k in 0..<dims { slack[b * dims + k] -= demand[item * dims + k] }
        members[b].append(item)
        bin[item] = b
        if let position = aside.firstIndex(of: item) { aside.remove(at: position) }
    }

    private func fits(_ item: Int, _ b: Int) -> Bool {
        let base = b * dims, own = item * dims
        for k in 0..<dims where demand[own + k] > slack[base + k] + Self.epsilon { return false }
        return true
    }

    // MARK: Search

    /// Closes bins while the budget lasts and more than `floor` are open. On return `bin` and
    /// `open` describe the best complete packing found.
    mutating func run(floor: Int) {
        var best = (bin: bin, open: open)
        var attempt = 0
        search: while work > 0 && openCount > floor {
            // To do with one bin fewer, close three light bins (B&V: keep m − 2 of the m
            // wanted) and search until what is aside fits in two of them. The first attempt
            // takes the three lightest; after a stall, three of the lightest third at random.
            var loads: [(Double, UInt64, Int)] = []
            for b in 0..<binCount where open[b] && !pinned[b] {
                loads.append((members[b].reduce(0) { $0 + weight[$1] }, next(), b))
            }
            guard !loads.isEmpty else { break }
            loads.sort { $0 < $1 }
            var reserve = Array(loads.prefix(Self.reserveSize).map(\.2))
            if attempt > 0 {
                var light = Array(loads.prefix(max(Self.reserveSize, loads.count / 3)).map(\.2))
                for i in stride(from: light.count - 1, to: 0, by: -1) { light.swapAt(i, Int(next() % UInt64(i + 1))) }
                reserve = Array(light.prefix(Self.reserveSize))
            }
            for b in reserve {
                for item in members[b] { takeOut(item) }
                open[b] = false
            }
            switch search(reserve: reserve) {
            case .packed(let packing):
                for (item, b) in packing {
                    put(item, into: b)
                    open[b] = true
                }
                best = (bin, open)
                attempt = 0
            case .stalled:
                rebuild(best.bin, best.open)
                attempt += 1
                // Stuck: more of the same is unlikely to pay for the time it takes.
                if attempt >= Self.attemptsBeforeGivingUp { break search }
            case .outOfWork:
                bin = best.bin
                open = best.open
                return
            }
        }
        bin = best.bin
        open = best.open
    }

    /// Back to a complete packing.
    private mutating func rebuild(_ assignment: [Int], _ isOpen: [Bool]) {
        for item in aside { bin[item] = -1 }
        aside.removeAll()
        for b in 0..<binCount {
            for item in members[b] { for k in 0..<dims { slack[b * dims + k] += demand[item * dims + k] } }
            members[b].removeAll(keepingCapacity: true)
        }
        for item in 0..<itemCount { bin[item] = -1 }
        for (item, b) in assignment.enumerated() {
            for k in 0..<dims { slack[b * dims + k] -= demand[item * dims + k] }
            members[b].append(item)
            bin[item] = b
        }
        open = isOpen
        tabu.removeAll()
        for i in tabuFlat.indices { tabuFlat[i] = 0 }
    }

    private enum Outcome {
        case packed([(item: Int, bin: Int)])
        case stalled
        case outOfWork
    }

    /// Attempts in a row that stall, after which the search stops before its budget runs out.
    static let attemptsBeforeGivingUp = 60

    /// Iterations without a lighter set aside after which an attempt is given up.
    static let stallIterations = 200

    /// How long a move back is tabu: at least this many iterations, plus a random part.
    static let tenureBase = 3
    static let tenureSpread = 8
    /// Bins closed per attempt; what is aside must fit in all but one of them.
    static let reserveSize = 3

    /// Searches until what is aside fits into all but one of the `reserve` bins; returns how,
    /// or nil when the budget runs out first.
    private mutating func search(reserve: [Int]) -> Outcome {
        epoch += 1
        for item in aside { newcomer[item] = epoch }
        var checked: [Int] = []
        var lightest = Double.infinity, lastGain = iteration
        while true {
            descend()
            if aside.isEmpty { return .packed([]) }
            let key = aside.sorted()
            if key != checked {
                checked = key
                if let packing = pack(aside, into: reserve) { return .packed(packing) }
            }
            if work <= 0 { return .outOfWork }
            let asideWeight = aside.reduce(0) { $0 + weight[$1] }
            if asideWeight < lightest - Self.epsilon {
                lightest = asideWeight
                lastGain = iteration
            } else if iteration - lastGain > Self.stallIterations {
                return .stalled
            }
            iteration += 1
            guard let (item, b, ejected) = tabuMove() else {
                // Every move was tabu: forget them.
                tabu.removeAll()
                for i in tabuFlat.indices { tabuFlat[i] = 0 }
                continue
            }
            let tenure = Self.tenureBase + Int(next() % UInt64(2 * aside.count + Self.tenureSpread))
            for other in ejected {
                takeOut(other)
                setTabu(other, b, until: iteration + tenure)
                newcomer[other] = epoch
            }
            put(item, into: b)
            changedBin[b] = epoch
        }
    }

    /// `items` packed into all but one of `reserve` (empty bins), by depth-first search with
    /// the heaviest item first; nil if they do not fit or the search is too long.
    private mutating func pack(_ items: [Int], into reserve: [Int]) -> [(item: Int, bin: Int)]? {
        let slots = reserve.count - 1
        guard slots > 0 else { return nil }
        // Use the roomiest bins of the reserve.
        let targets = reserve.sorted { a, b in
            let ra = (0..<dims).reduce(0.0) { $0 + slack[a * dims + $1] }, rb = (0..<dims).reduce(0.0) { $0 + slack[b * dims + $1] }
            return (ra, b) > (rb, a)
        }.prefix(slots).map { $0 }
        // Quick refusal: the total demand must fit in the total room, per resource.
        for k in 0..<dims {
            let need = items.reduce(0.0) { $0 + demand[$1 * dims + k] }
            let room = targets.reduce(0.0) { $0 + slack[$1 * dims + k] }
            if need > room + Self.epsilon { return nil }
        }
        let order = items.sorted { (weight[$0], $1) > (weight[$1], $0) }
        var room = targets.map { b in (0..<dims).map { slack[b * dims + $0] } }
        var choice = [Int](repeating: -1, count: order.count)
        var nodes = 0
        func place(_ position: Int) -> Bool {
            if position == order.count { return true }
            nodes += 1
            if nodes > 20_000 { return false }
            let item = order[position]
            var triedEmpty = false
            for t in targets.indices {
                // Two empty bins of the same room are the same choice.
                let empty = room[t].indices.allSatisfy { abs(room[t][$0] - slack[targets[t] * dims + $0]) < Self.epsilon }
                if empty && triedEmpty { continue }
                if empty { triedEmpty = true }
                guard (0..<dims).allSatisfy({ demand[item * dims + $0] <= room[t][$0] + Self.epsilon }) else { continue }
                for k in 0..<dims { room[t][k] -= demand[item * dims + k] }
                choice[position] = t
                if place(position + 1) { return true }
                for k in 0..<dims { room[t][k] += demand[item * dims + k] }
            }
            return false
        }
        let found = place(0)
        work -= nodes
        guard found else { return nil }
        return order.indices.map { (order[$0], targets[choice[$0]]) }
    }

    /// Improving moves until none is left: straight inserts, then swaps of up to two items of
    /// a bin for up to two heavier ones put aside. Only swaps that involve an item put aside
    /// or a bin changed since the last pass can be new.
    private mutating func descend() {
        var moved = true
        while moved && !aside.isEmpty {
            moved = false
            // Straight in, heaviest first, where the least room is left.
            for item in aside.sorted(by: { (weight[$0], $1) > (weight[$1], $0) }) {
                var best: (Double, Int)?
                for b in 0..<binCount where open[b] {
                    work -= 1
                    guard fits(item, b), !isTabu(item, b) else { continue }
                    var left = 0.0
                    for k in 0..<dims { left += slack[b * dims + k] - demand[item * dims + k] }
                    if best.map({ (left, b) < $0 }) ?? true { best = (left, b) }
                }
                if let (_, b) = best {
                    put(item, into: b)
                    changedBin[b] = epoch
                    moved = true
                }
            }
            if aside.isEmpty { return }
            // Re-fill a bin: of its items and those aside, the heaviest set that fits
            // (B&V's unlimited add/drop move), if heavier than what it holds.
            for b in 0..<binCount where open[b] {
                let fresh = changedBin[b] == epoch
                guard fresh || aside.contains(where: { newcomer[$0] == epoch }), refill(b, fresh: fresh) else { continue }
                let keep = scratchBest
                for item in members[b] where !keep.contains(item) { takeOut(item); newcomer[item] = epoch }
                for item in keep where bin[item] != b { put(item, into: b) }
                changedBin[b] = epoch
                moved = true
            }
            if !moved {
                epoch += 1
            }
        }
    }

    private func isTabu(_ item: Int, _ b: Int) -> Bool {
        if !tabuFlat.isEmpty { return Int(tabuFlat[item * binCount + b]) > iteration }
        if let until = tabu[item * binCount + b], until > iteration { return true }
        return false
    }

    private mutating func setTabu(_ item: Int, _ b: Int, until: Int) {
        if !tabuFlat.isEmpty { tabuFlat[item * binCount + b] = Int32(clamping: until) } else { tabu[item * binCount + b] = until }
    }

    /// The heaviest subset of bin `b`'s items and those aside (all of them if the bin
    /// changed, else only newcomers) that fits in it, into `scratchBest`; true if heavier
    /// than what it holds.
    private mutating func refill(_ b: Int, fresh: Bool) -> Bool {
        for k in 0..<dims { scratchRoom[k] = slack[b * dims + k] }
        scratchPool.removeAll(keepingCapacity: true)
        for item in members[b] {
            scratchPool.append(item)
            for k in 0..<dims { scratchRoom[k] += demand[item * dims + k] }
        }
        let inside = scratchPool.count
        for item in aside where (fresh || newcomer[item] == epoch) && !isTabu(item, b) { scratchPool.append(item) }
        guard scratchPool.count > inside else { return false }
        scratchPool.sort { (weight[$0], $1) > (weight[$1], $0) }
        scratchSuffix.removeAll(keepingCapacity: true)
        for _ in 0...scratchPool.count { scratchSuffix.append(0) }
        for i in stride(from: scratchPool.count - 1, through: 0, by: -1) { scratchSuffix[i] = scratchSuffix[i + 1] + weight[scratchPool[i]] }
        var now = 0.0
        for item in members[b] { now += weight[item] }
        var best = now + Self.epsilon
        var found = false
        scratchChosen.removeAll(keepingCapacity: true)
        var nodes = 0
        visit(0, 0, &best, &found, &nodes)
        work -= nodes
        return found
    }

    private mutating func visit(_ i: Int, _ total: Double, _ best: inout Double, _ found: inout Bool, _ nodes: inout Int) {
        if total > best {
            best = total
            found = true
            scratchBest = scratchChosen
        }
        guard i < scratchPool.count, total + scratchSuffix[i] > best, nodes < 4_000 else { return }
        nodes += 1
        let item = scratchPool[i]
        var fits = true
        for k in 0..<dims where demand[item * dims + k] > scratchRoom[k] + Self.epsilon { fits = false; break }
        if fits {
            for k in 0..<dims { scratchRoom[k] -= demand[item * dims + k] }
            scratchChosen.append(item)
            visit(i + 1, total + weight[item], &best, &found, &nodes)
            scratchChosen.removeLast()
            for k in 0..<dims { scratchRoom[k] += demand[item * dims + k] }
        }
        visit(i + 1, total, &best, &found, &nodes)
    }

    /// Per n ≤ 16, the bit masks of the subsets of n items with one to three of them.
    static let smallSubsets: [[Int]] = (0...16).map { n in
        var masks: [Int] = []
        for a in 0..<n {
            masks.append(1 << a)
            for b in (a + 1)..<max(n, a + 1) {
                masks.append(1 << a | 1 << b)
                for c in (b + 1)..<max(n, b + 1) { masks.append(1 << a | 1 << b | 1 << c) }
            }
        }
        return masks
    }

    /// The non-tabu move that adds the least weight to what is aside: an item put aside goes
    /// into an open bin, and a set of at most three of its items (the fewest, then the
    /// lightest) comes out so that it fits.
    private mutating func tabuMove() -> (item: Int, bin: Int, ejected: [Int])? {
        var best: (delta: Double, count: Int, tie: UInt64, item: Int, bin: Int, ejected: [Int])?
        var need = [Double](repeating: 0, count: dims)
        // One item aside, at random: cheaper iterations, and more of them, pay off.
        let candidates = [aside[Int(next() % UInt64(aside.count))]]
        for item in candidates {
            for b in 0..<binCount where open[b] && !members[b].isEmpty {
                if isTabu(item, b) { continue }
                // What must come out, per resource.
                var short = false
                for k in 0..<dims {
                    need[k] = demand[item * dims + k] - slack[b * dims + k]
                    if need[k] > Self.epsilon { short = true }
                }
                guard short else { continue }  // fits outright: the descent handles that
                let inside = members[b]
                let n = min(inside.count, 16)
                for mask in Self.smallSubsets[n] {
                    work -= 1
                    var outWeight = 0.0
                    var bits = mask
                    while bits != 0 {
                        outWeight += weight[inside[bits.trailingZeroBitCount]]
                        bits &= bits - 1
                    }
                    let delta = outWeight - weight[item], count = mask.nonzeroBitCount
                    if let current = best {
                        if delta > current.delta + Self.epsilon { continue }
                        if delta >= current.delta - Self.epsilon && count > current.count { continue }
                    }
                    var enough = true
                    for k in 0..<dims where need[k] > Self.epsilon {
                        var freed = 0.0
                        bits = mask
                        while bits != 0 {
                            freed += demand[inside[bits.trailingZeroBitCount] * dims + k]
                            bits &= bits - 1
                        }
                        if freed + Self.epsilon < need[k] { enough = false; break }
                    }
                    guard enough else { continue }
                    let tie = next()
                    if let current = best, delta >= current.delta - Self.epsilon, count == current.count, tie >= current.tie { continue }
                    var ejected: [Int] = []
                    bits = mask
                    while bits != 0 {
                        ejected.append(inside[bits.trailingZeroBitCount])
                        bits &= bits - 1
                    }
                    best = (delta, mask.nonzeroBitCount, tie, item, b, ejected)
                }
            }
        }
        return best.map { ($0.item, $0.bin, $0.ejected) }
    }
}
