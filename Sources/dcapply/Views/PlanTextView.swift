import DCApplyCore
import Foundation

/// The plan for people on a terminal: grouped by resource, `+ ~ -`, reasons, energy, summary.
enum PlanTextView {
    static func describe(_ change: Change) -> String {
        let text = describeAction(change)
        return change.actuator.map { "\(text) (\($0) only)" } ?? text
    }

    private static func describeAction(_ change: Change) -> String {
        switch change.action {
        case .assign: "assign \(change.resource)"
        case .unassign: "unassign \(change.resource)"
        case .powerOn: "power on"
        case .powerOff: "power off"
        case .place: "place replica \(change.replica ?? 0) on \(change.to ?? "")"
        case .move: "move replica \(change.replica ?? 0) \(change.from ?? "") → \(change.to ?? "")"
        case .evict: "evict replica \(change.replica ?? 0) from \(change.from ?? "")"
        case .attachDrive: "attach \(change.resource)"
        case .detachDrive: "detach \(change.resource)"
        case .grant: "grant use on \(change.to ?? "")"
        case .revoke: "revoke use on \(change.from ?? "")"
        case .drain: "drain (\(change.to ?? "degraded"))"
        case .resume: "resume"
        }
    }

    /// Changes grouped by the manifest they serve, groups in a stable order.
    static func groups(_ plan: Plan) -> [(ResourceAddress, [Change])] {
        var groups: [ResourceAddress: [Change]] = [:]
        for change in plan.changes { groups[change.subject, default: []].append(change) }
        return groups.sorted { lhs, rhs in
            let rank = { (address: ResourceAddress) in address.kind == "Node" ? 1 : 0 }
            return (rank(lhs.key), lhs.key) < (rank(rhs.key), rhs.key)
        }
    }

    static func kW(_ watts: Double) -> String { String(format: "%.1f kW", watts / 1000) }

    static func energyLine(_ plan: Plan) -> String {
        let delta = plan.energy.plannedW - plan.energy.currentW
        let sign = delta > 0.05 ? "+" : delta < -0.05 ? "−" : "±"
        var line = "Energy: \(kW(plan.energy.currentW)) now → \(kW(plan.energy.plannedW)) planned (\(sign)\(kW(abs(delta))) estimated draw)"
        if let gap = plan.energy.gapToLowerBound, let bound = plan.energy.lowerBoundW {
            line += ", at most " + String(format: "%.1f", gap * 100) + "% above the lower bound of " + kW(bound)
        }
        return line
    }

    static func render(_ plan: Plan, color: Bool) -> String {
        var lines: [String] = []
        let revision = plan.revision.map { " at \($0)" } ?? ""
        lines.append(Style.bold("dcapply plan\(revision): \(plan.nodeCount) node\(plan.nodeCount == 1 ? "" : "s") observed, state serial \(plan.stateSerial), manifests \(plan.manifestDigest.prefix(12))", enabled: color))
        lines.append("")
        for (subject, changes) in groups(plan) {
            lines.append(Style.bold(subject.description, enabled: color))
            for change in changes {
                let markColor: Style.Color = change.action.mark == "+" ? .green : change.action.mark == "-" ? .red : .yellow
                lines.append("  " + Style.paint(String(change.action.mark), markColor, bold: true, enabled: color) + " " + describe(change)
                             + Style.paint("  (\(change.reason))", .gray, enabled: color))
            }
            if let spread = plan.redundancy[subject] { lines.append(Style.paint("    spread: \(spread)", .cyan, enabled: color)) }
        }
        if !plan.changes.isEmpty { lines.append("") }
        if !plan.problems.isEmpty {
            lines.append(Style.bold("Problems:", enabled: color))
            for problem in plan.problems {
                let tag = Style.paint("\(problem.severity.rawValue):", problem.severity == .error ? .red : .yellow, bold: true, enabled: color)
                lines.append("  \(tag) \(problem.resource): \(problem.message)")
            }
            lines.append("")
        }
        lines.append(energyLine(plan))
        if plan.moves.count > 0 {
            lines.append("Moves: \(plan.moves.count) replica\(plan.moves.count == 1 ? "" : "s") moved; at least \(plan.moves.required) had to move (failed, gone or no longer eligible).")
        }
        if plan.waves > 1 {
            lines.append("Apply: \(plan.waves) waves, so that no target has more than its RedundancyPolicy maxUnavailable members disrupted at once.")
        }
        lines.append(Style.bold(plan.summary, enabled: color))
        return lines.joined(separator: "\n")
    }
}
