/// A plan's changes as a graph for apply to walk: which change must finish before which, and
/// the waves that disruption budgets (`maxUnavailable`) impose. The rules themselves are the
/// plan's `ChangeOrder` (the planner counts waves with it); this is apply's view of it.
public struct ApplyGraph: Sendable {
    /// The order the graph walks.
    public let order: ChangeOrder
    /// `dependencies[i]`: indexes of the changes that must be done before change `i` starts.
    public var dependencies: [[Int]] { order.dependencies }
    /// `wave[i]`: the disruption wave of change `i` (0 for changes that disrupt no budgeted target).
    public var wave: [Int] { order.wave }
    /// The largest number of waves any budgeted target needs (1 when nothing is budgeted).
    public var waveCount: Int { order.waveCount }
    /// For each disruptive change, the targets it disrupts (`HardwarePool/p`, `Workload/w`,
    /// `StorageTier/t`), whether budgeted or not.
    public var disrupts: [[ResourceAddress]] { order.disrupts }
    /// `maxUnavailable` by target.
    public var budgets: [ResourceAddress: Int] { order.budgets }

    public init(changes: [Change], desired: DesiredState) {
        self.order = ChangeOrder(changes: changes, desired: desired)
    }

    public init(changes: [Change], budgets: [ResourceAddress: Int]) {
        self.order = ChangeOrder(changes: changes, budgets: budgets)
    }
}
