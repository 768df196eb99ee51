/// The answer to "what if these fail": the nodes lost, the plan dcapply would make after the
/// loss, and whether each redundancy promise still holds.
public struct WhatIfReport: Sendable {
    /// The failures rehearsed, in the order given.
    public var scenarios: [FailureScenario]
    /// Every node the failures take down, sorted, each once.
    public var lostNodes: [String]
    /// The plan against the stored state with the lost nodes failed.
    public var plan: Plan
    /// One verdict per promise, in resource order.
    public var promises: [PromiseVerdict]

    public init(scenarios: [FailureScenario], lostNodes: [String], plan: Plan, promises: [PromiseVerdict]) {
        self.scenarios = scenarios
        self.lostNodes = lostNodes
        self.plan = plan
        self.promises = promises
    }

    /// Every promise holds (also when there are none).
    public var holds: Bool { promises.allSatisfy(\.holds) }

    public var broken: [PromiseVerdict] { promises.filter { !$0.holds } }
}
