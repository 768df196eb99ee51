/// Capacity: on every node, the sum of what is placed is at most its capacity, per resource
/// key (`manifests.md`, Workload). The one comparison every strategy makes.
enum CapacityRule {
    /// Whether `total` (what the node would hold of one key) fits `capacity`.
    @inline(__always)
    static func fits(_ total: Double, capacity: Double) -> Bool {
        total <= capacity + Tolerance.capacity
    }
}
