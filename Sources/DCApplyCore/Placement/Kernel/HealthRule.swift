/// Health: only healthy nodes take anything new; a degraded node keeps what it holds; a failed
/// node keeps nothing (`manifests.md`, HardwarePool and Workload).
enum HealthRule {
    /// Whether a node in this health may take a new replica, drive or pool membership.
    @inline(__always)
    static func takesNew(_ health: Health) -> Bool { health == .healthy }

    /// Whether a node in this health may keep what it already holds.
    @inline(__always)
    static func keeps(_ health: Health) -> Bool { health != .failed }
}
