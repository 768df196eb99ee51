/// What an actuator found when it looked.
public struct ActuatorObservation: Hashable, Sendable {
    /// Changes that put back what someone changed outside dcapply.
    public var repairs: [Change]
    /// Nodes to observe as `degraded` (they keep what they have and take nothing new), with
    /// why: someone else took them out of service.
    public var degraded: [String: String]
    /// Problems for the plan, such as an object with a managed name that dcapply did not create.
    public var problems: [Problem]

    public init(repairs: [Change] = [], degraded: [String: String] = [:], problems: [Problem] = []) {
        self.repairs = repairs
        self.degraded = degraded
        self.problems = problems
    }

    public var isEmpty: Bool { repairs.isEmpty && degraded.isEmpty && problems.isEmpty }
}
