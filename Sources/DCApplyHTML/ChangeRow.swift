import DCApplyCore

/// One line of a plan's change list.
public struct ChangeRow: Sendable, Hashable {
    /// `+`, `-` or `~`, and the same in words for screen readers.
    public var mark: String
    public var markWords: String
    public var action: String
    public var resource: String
    /// `pool train → infer`, `gpu-r01-n01 → gpu-r02-n01`.
    public var detail: String
    public var reason: String

    /// The row of one change of a plan.
    public init(_ change: Change) {
        mark = String(change.action.mark)
        markWords = switch change.action.mark {
        case "+": "adds"
        case "-": "removes"
        default: "changes"
        }
        action = change.action.rawValue
        resource = change.resource.description
        var parts: [String] = []
        if let replica = change.replica { parts.append("replica \(replica)") }
        if change.fromNodes != nil || change.toNodes != nil {  // a replica: its nodes say more than from and to
            parts.append("\((change.fromNodes ?? []).joined(separator: ", ").ifEmpty("nowhere")) → \((change.toNodes ?? []).joined(separator: ", ").ifEmpty("nowhere"))")
        } else if change.from != nil || change.to != nil {
            parts.append("\(change.from ?? "none") → \(change.to ?? "none")")
        }
        if let actuator = change.actuator { parts.append("by \(actuator) only") }
        detail = parts.joined(separator: "; ")
        reason = change.reason
    }
}

extension String {
    func ifEmpty(_ replacement: String) -> String { isEmpty ? replacement : self }
}
