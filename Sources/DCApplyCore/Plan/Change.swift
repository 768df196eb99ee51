/// What one change does, in the contract's words.
public enum Action: String, Sendable, Hashable, CaseIterable {
    case powerOn, resume, assign, attachDrive, grant, place, move, evict, detachDrive, revoke, unassign, drain, powerOff

    /// Execution and display order: make before break, power on first and off last. `resume`
    /// follows a power-on, `drain` precedes a power-off; both are carried by actuators only.
    var phase: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    /// For the summary line: "3 to power off".
    public var verbPhrase: String {
        switch self {
        case .powerOn: "power on"
        case .powerOff: "power off"
        case .attachDrive: "attach"
        case .detachDrive: "detach"
        default: rawValue
        }
    }

    /// `+` adds, `-` removes, `~` changes in place.
    public var mark: Character {
        switch self {
        case .assign, .attachDrive, .grant, .place: "+"
        case .unassign, .detachDrive, .revoke, .evict: "-"
        case .move, .powerOn, .powerOff, .drain, .resume: "~"
        }
    }
}

/// One step of a plan. `reason` is for people; nothing depends on its wording.
public struct Change: Hashable, Sendable {
    public var action: Action
    /// What changes: `Node/x` (assign, unassign, power), `Workload/w` (place, move, evict),
    /// `Drive/node/id` (attach, detach), `AccessPolicy/p` (grant, revoke).
    public var resource: ResourceAddress
    public var from: String?
    public var to: String?
    /// For place, move and evict.
    public var replica: Int?
    public var fromNodes: [String]?
    public var toNodes: [String]?
    public var reason: String
    /// The manifest the change serves, for grouping in text and markdown.
    public var subject: ResourceAddress
    /// Set on a repair of drift: only this actuator (by its name) carries the change, and the
    /// hardware provider and the state store see nothing new. Nil: every claimant carries it.
    public var actuator: String?

    public init(_ action: Action, _ resource: ResourceAddress, from: String? = nil, to: String? = nil, replica: Int? = nil,
                fromNodes: [String]? = nil, toNodes: [String]? = nil, reason: String, subject: ResourceAddress? = nil, actuator: String? = nil) {
        self.action = action
        self.resource = resource
        self.from = from
        self.to = to
        self.replica = replica
        self.fromNodes = fromNodes
        self.toNodes = toNodes
        self.reason = reason
        self.subject = subject ?? resource
        self.actuator = actuator
    }
}

/// Observed and planned draw.
public struct EnergyEstimate: Hashable, Sendable {
    public var currentW: Double
    public var plannedW: Double
    /// No placement of the same demand draws less.
    public var lowerBoundW: Double?
    public var poweredNodes: Int
    /// No placement of the same demand powers fewer nodes.
    public var poweredNodesLowerBound: Int?

    /// How far above the lower bound the plan may be, as a fraction (0.007 for 0.7%).
    public var gapToLowerBound: Double? {
        guard let bound = lowerBoundW, bound > 0 else { return nil }
        return max(0, plannedW / bound - 1)
    }
}

/// A plan: what to change, the state it leads to, and what cannot be done.
public struct Plan: Sendable {
    public static let formatVersion = 1

    /// The manifests' git revision, when known.
    public var revision: String?
    public var changes: [Change]
    public var target: TargetState
    /// Estimated draw per node under the target.
    public var targetDrawW: [String: Double]
    public var energy: EnergyEstimate
    public var problems: [Problem]
    public var manifestDigest: String
    /// The state-store serial the plan was made against.
    public var stateSerial: Int
    public var nodeCount: Int
    /// How each spread target ends up across its failure domains, for people.
    public var redundancy: [ResourceAddress: String] = [:]
    /// Replicas the plan moves, and how many of them had to (their node failed, is gone, or no
    /// longer qualifies for the pool): a lower bound any plan would share.
    public var moves = Moves(count: 0, required: 0)
    /// Digest of the observed hardware the plan was made from: a saved plan is refused when
    /// the hardware no longer matches.
    public var observedDigest = ""
    /// How many waves apply needs so that no target has more than its `maxUnavailable`
    /// members disrupted at once (1 when no budget binds).
    public var waves = 1

    public struct Moves: Hashable, Sendable {
        public var count: Int
        public var required: Int
    }

    public var isEmpty: Bool { changes.isEmpty }
    public var hasErrors: Bool { problems.contains { $0.severity == .error } }

    /// `Plan: 12 to assign, 3 to move, 4 to power off.`
    public var summary: String {
        guard !changes.isEmpty else {
            return hasErrors ? "No changes, but some of the manifests cannot be met: see the problems."
                : "No changes. The site matches the manifests."
        }
        var counts: [Action: Int] = [:]
        for change in changes { counts[change.action, default: 0] += 1 }
        let parts = Action.allCases.compactMap { action in counts[action].map { "\($0) to \(action.verbPhrase)" } }
        return "Plan: " + parts.joined(separator: ", ") + "."
    }
}
