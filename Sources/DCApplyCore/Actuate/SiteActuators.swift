/// The actuators of one Site, ready for an apply: each with what its `describe` said.
public struct SiteActuators: Sendable {
    /// One actuator and its `describe` answer.
    public struct Entry: Sendable {
        public var actuator: any Actuator
        public var description: ActuatorDescription

        public init(actuator: any Actuator, description: ActuatorDescription) {
            self.actuator = actuator
            self.description = description
        }
    }

    public var site: Site
    /// In manifest order: the order they are called in within a wave.
    public var entries: [Entry]

    public init(site: Site, entries: [Entry]) {
        self.site = site
        self.entries = entries
    }

    /// Which Site a change belongs to: a node's (or a drive's node's) Site, a workload's pool's
    /// Site, a granted pool's Site. Nil when it cannot be told (a node no provider reports).
    public static func site(of change: Change, desired: DesiredState, observed: ObservedState) -> String? {
        switch change.resource.kind {
        case "Node": return observed.nodes[change.resource.name]?.site
        case "Drive": return change.resource.driveNode.flatMap { observed.nodes[$0]?.site }
        case "Workload":
            return desired.workloads[change.resource.name].flatMap { desired.pools[$0.pool]?.site }
                ?? (change.toNodes ?? change.fromNodes)?.first.flatMap { observed.nodes[$0]?.site }
        case "AccessPolicy":
            let pool = (change.to ?? change.from).flatMap(ResourceAddress.init(parsing:))?.name
            return pool.flatMap { desired.pools[$0]?.site }
        default: return nil
        }
    }
}
