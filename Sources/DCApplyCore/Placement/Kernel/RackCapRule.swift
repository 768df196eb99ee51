/// Rack power caps: a rack's estimated draw (``PowerModel``'s formula, summed over its nodes)
/// stays within the cap of its site's EnergyPolicy (`manifests.md`, EnergyPolicy).
enum RackCapRule {
    /// Whether a rack drawing `projectedW` (after a change) keeps within `capW`.
    ///
    /// Callers add the change's delta to the rack's draw in the order they always have; the
    /// comparison, and its tolerance, are here.
    @inline(__always)
    static func allows(projectedW: Double, capW: Double) -> Bool {
        projectedW <= capW + Tolerance.power
    }
}
