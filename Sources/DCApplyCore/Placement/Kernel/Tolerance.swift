/// The tolerances of placement's comparisons, named once.
///
/// Amounts are sums of manifest numbers (fractional cores, GiB, TiB): a sum that should equal a
/// capacity may land a rounding error above it. Each comparison of a hard rule allows exactly
/// one of these, so a rule never flips on rounding and every strategy agrees with every other.
enum Tolerance {
    /// Resource amounts against capacities (``CapacityRule``), and counts derived from their
    /// ratios (bounds rounded up).
    static let capacity = 1e-9
    /// Watts against a rack's cap (``RackCapRule``).
    static let power = 1e-6
    /// The relative slack of a storage tier's protection rule (``TierPlacer/satisfied(_:)``).
    static let protection = 1e-12
    /// The smallest capacity a demand is divided by when sizes are normalised: not a rule, a
    /// guard against dividing by zero in the orderings.
    static let smallestScale = 1e-9
}
