/// The solver's former name, from when it was greedy only: the executable and the reconciler
/// still use it. New code names ``PortfolioPlacementSolver``; this alias goes once they do.
public typealias GreedyPlacementSolver = PortfolioPlacementSolver
