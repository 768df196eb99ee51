/// The packing search's start and floor (issue 18): a minimum-slack packing where it opens
/// fewer nodes than the improver reached, and the L2 bound where every node is alike.
extension PackingImprover {
    /// Movers above which no minimum-slack start is tried: its cost grows with movers × nodes,
    /// and the pools that large are far from the Panigrahy instances it helps.
    static let minimumSlackMoverLimit = 2_000
    /// Search nodes per bin of the minimum-slack start.
    static let minimumSlackNodesPerBin = 2_000

    /// A start for the search with fewer open nodes than `problem`'s packing (pinned nodes
    /// filled first, then in order), and the search nodes it took; nil when it is no better.
    static func minimumSlackStart(_ problem: PoolPacking, _ demands: [[Double]]) -> (assignment: [Int], open: [Bool], nodes: Int)? {
        guard demands.count <= minimumSlackMoverLimit, !problem.nodes.isEmpty else { return nil }
        let order = problem.nodes.indices.sorted { (problem.pinned[$0] ? 0 : 1, $0) < (problem.pinned[$1] ? 0 : 1, $1) }
        guard let packing = MinimumSlackPacking.pack(demands, room: problem.room, order: order, nodeLimit: minimumSlackNodesPerBin) else { return nil }
        var open = problem.pinned
        for b in packing.assignment { open[b] = true }
        guard open.filter({ $0 }).count < problem.nodes.count else { return nil }
        return (packing.assignment, open, packing.nodes)
    }

    /// The L2 bound of the movers when they are the pool's whole load and every node has the
    /// same room for them; nil otherwise.
    static func identicalBinsBound(_ problem: PoolPacking, _ demands: [[Double]]) -> Int? {
        guard problem.pure, !problem.pinned.contains(true), let first = problem.room.first,
              problem.room.allSatisfy({ zip($0, first).allSatisfy { abs($0 - $1) < Tolerance.capacity } }) else { return nil }
        return PackingLowerBound.l2(demands, capacity: first)
    }
}
