import DCApplyCore

/// What a site map is drawn from: the manifests and hardware of one run, the target shown, and
/// (for a plan) the state before it and the changes. Plain values; building a map does no I/O.
public struct MapInput: Sendable {
    public var desired: DesiredState
    public var observed: ObservedState
    /// The assignment the map shows: a plan's target, or what is applied.
    public var target: TargetState
    /// Estimated draw per node under `target`.
    public var drawW: [String: Double]
    /// Estimated draw per node before the plan (what is applied); empty when not a plan.
    public var beforeW: [String: Double]
    /// How the plan changes each node; empty when not a plan.
    public var changes: [String: NodeChange]

    /// `beforeW` and `changes` are empty unless the map shows a plan.
    public init(desired: DesiredState, observed: ObservedState, target: TargetState, drawW: [String: Double],
                beforeW: [String: Double] = [:], changes: [String: NodeChange] = [:]) {
        self.desired = desired
        self.observed = observed
        self.target = target
        self.drawW = drawW
        self.beforeW = beforeW
        self.changes = changes
    }
}
