import DCApplyCore

/// Energy now, planned, and the lower bound no placement of the same demand beats, as text.
public struct EnergyFigures: Sendable, Hashable {
    public var now: String
    public var planned: String
    public var lowerBound: String
    public var poweredNodes: String

    /// nil: nothing planned yet.
    public init(_ estimate: EnergyEstimate?) {
        guard let estimate else {
            (now, planned, lowerBound, poweredNodes) = ("unknown", "unknown", "unknown", "unknown")
            return
        }
        now = MapFormat.kW(estimate.currentW)
        planned = MapFormat.kW(estimate.plannedW)
        lowerBound = estimate.lowerBoundW.map(MapFormat.kW) ?? "not computed"
        poweredNodes = "\(estimate.poweredNodes)" + (estimate.poweredNodesLowerBound.map { " (at least \($0))" } ?? "")
    }
}
