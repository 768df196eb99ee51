import DCApplyCore

/// How a plan changes one node, for the map: the node gains work, loses it, or has work moved
/// to or from it; `other` is a change that neither adds nor removes work (a drain, a resume).
public enum NodeChange: String, Sendable, Hashable, CaseIterable {
    case gain, lose, move, other

    /// The symbol shown in the cell beside the colour (colour is never the only signal).
    public var symbol: String {
        switch self {
        case .gain: "+"
        case .lose: "−"
        case .move: "⇄"
        case .other: "~"
        }
    }

    /// Words for screen readers and the legend.
    public var words: String {
        switch self {
        case .gain: "gains work"
        case .lose: "loses work"
        case .move: "work moves"
        case .other: "changes"
        }
    }

    /// Every node a plan's changes touch, and how: a node in any `move` is `move`; else one that
    /// both gains and loses is `move` too; else `gain` or `lose`; else `other`. Changes to access
    /// policies touch no node.
    public static func of(_ changes: [Change]) -> [String: NodeChange] {
        var gains = Set<String>(), losses = Set<String>(), moves = Set<String>(), others = Set<String>()
        for change in changes {
            let nodes: [String]
            switch change.resource.kind {
            case "Node": nodes = [change.resource.name]
            case "Drive": nodes = DriveAddress(change.resource.name).map { [$0.node] } ?? []
            case "Workload": nodes = (change.fromNodes ?? []) + (change.toNodes ?? [])
            default: nodes = []
            }
            switch change.action {
            case .move: moves.formUnion(nodes)
            case .place, .assign, .attachDrive, .powerOn: gains.formUnion(nodes)
            case .evict, .unassign, .detachDrive, .powerOff: losses.formUnion(nodes)
            case .grant, .revoke, .drain, .resume: others.formUnion(nodes)
            }
        }
        var result: [String: NodeChange] = [:]
        for node in others { result[node] = .other }
        for node in losses { result[node] = .lose }
        for node in gains { result[node] = losses.contains(node) ? .move : .gain }
        for node in moves { result[node] = .move }
        return result
    }
}
