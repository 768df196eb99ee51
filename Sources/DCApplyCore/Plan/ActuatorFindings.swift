/// What every actuator of every Site observed, merged for the planner: the same shape as one
/// actuator's observation, with each repair's `actuator` set. Nodes in `degraded` are observed
/// as degraded, and dcapply neither drains nor resumes them.
public typealias ActuatorFindings = ActuatorObservation
