/// A way of moving replicas or drives: it declares the hard rules it keeps, and asks the kernel
/// (``PlacementModel`` and the rule types beside it) for every check.
protocol PlacementStrategy {
    /// The rules this strategy moves within; the kernel hands it nothing bound by others.
    static var honours: PlacementRules { get }
}

extension WorkloadPlacer: PlacementStrategy {
    /// Greedy placement checks every rule a replica is bound by.
    static let honours: PlacementRules = [.capacity, .poolExclusivity, .health, .spread, .gangs, .rackCaps]
}

extension TierPlacer: PlacementStrategy {
    /// Drives: health, spread (drives per domain), rack caps (a node turned on), encryption and
    /// the protection rule. Drives take no capacity of the resource keys.
    static let honours: PlacementRules = [.health, .spread, .rackCaps, .encryption, .protection]
}

extension PackingImprover: PlacementStrategy {
    /// Node closing and re-packing: single-node replicas within their pool's healthy members.
    static let honours: PlacementRules = [.capacity, .poolExclusivity, .health, .spread, .rackCaps]
}

extension VectorPackingSearch: PlacementStrategy {
    /// The packing search sees capacities only: the kernel gives it a pool (exclusivity and
    /// health by construction) where no rack cap can bind, without replicas that spread.
    static let honours: PlacementRules = [.capacity, .poolExclusivity, .health]
}

extension PairPacking: PlacementStrategy {
    /// The exact pairing sees capacities only, as the packing search does.
    static let honours: PlacementRules = [.capacity, .poolExclusivity, .health]
}
