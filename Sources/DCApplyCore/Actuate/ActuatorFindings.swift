/// What every actuator of every Site observed, merged for the planner: repairs (each with its
/// actuator set), nodes someone else took out of service, and problems.
public struct ActuatorFindings: Hashable, Sendable {
    public var repairs: [Change]
    /// Node → why; these nodes are observed as degraded and dcapply neither drains nor resumes them.
    public var degraded: [String: String]
    public var problems: [Problem]

    public init(repairs: [Change] = [], degraded: [String: String] = [:], problems: [Problem] = []) {
        self.repairs = repairs
        self.degraded = degraded
        self.problems = problems
    }

    public var isEmpty: Bool { repairs.isEmpty && degraded.isEmpty && problems.isEmpty }
}
