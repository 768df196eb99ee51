/// What placement works from: the manifests, the observed nodes, and what is applied now.
public struct PlacementInput: Sendable {
    public var desired: DesiredState
    public var observed: ObservedState
    public var current: TargetState

    public init(desired: DesiredState, observed: ObservedState, current: TargetState) {
        self.desired = desired
        self.observed = observed
        self.current = current
    }
}

/// A target that meets every hard constraint, and what could not be met.
public struct PlacementResult: Sendable {
    public var target: TargetState
    public var problems: [Problem]
    /// No placement of the same demand draws less (estimated watts), when the solver knows.
    public var lowerBoundW: Double?
    /// No placement of the same demand powers fewer nodes, when the solver knows.
    public var lowerBoundNodes: Int?

    public init(target: TargetState, problems: [Problem], lowerBoundW: Double? = nil, lowerBoundNodes: Int? = nil) {
        self.target = target
        self.problems = problems.sorted()
        self.lowerBoundW = lowerBoundW
        self.lowerBoundNodes = lowerBoundNodes
    }
}

/// Computes a target assignment.
///
/// Contract: pure and deterministic (same input, same result); the target meets every hard
/// constraint of the spec (capacity, exclusivity, health, spread, gangs, rack power caps,
/// storage protection and encryption); what cannot be placed is left out and reported as a
/// problem naming the binding constraint; members that satisfy the constraints stay where
/// they are.
public protocol PlacementSolver: Sendable {
    func solve(_ input: PlacementInput) -> PlacementResult
}
