import DCApplyCore
import Foundation

/// The plan as a pull-request comment: a summary table, then each resource's changes folded.
enum PlanMarkdownView {
    /// Where the plan came from, for the footer (as an Atlantis comment ends).
    struct Footer {
        var observedAt: Date
        /// The command that applies this plan, such as `dcapply apply Examples/quickstart/`.
        var command: String
    }

    static func render(_ plan: Plan, footer: Footer? = nil) -> String {
        var lines: [String] = []
        lines.append("### dcapply plan" + (plan.revision.map { " for `\($0)`" } ?? ""))
        lines.append("")
        lines.append("**\(plan.summary)**" + (plan.waves > 1 ? " Applied in \(plan.waves) waves (RedundancyPolicy maxUnavailable)." : ""))
        lines.append("")
        // Errors lead: a reviewer sees what cannot be met before the table of changes.
        let errors = plan.problems.filter { $0.severity == .error }
        if !errors.isEmpty {
            lines.append("> [!CAUTION]")
            lines.append("> **\(errors.count) error\(errors.count == 1 ? "" : "s"): part of the manifests cannot be met.**")
            for problem in errors { lines.append("> - `\(problem.resource)`: \(problem.message)") }
            lines.append("")
        }
        let groups = PlanTextView.groups(plan)
        if !groups.isEmpty {
            lines.append("| Resource | + | ~ | - |")
            lines.append("| --- | ---: | ---: | ---: |")
            for (subject, changes) in groups {
                let count = { (mark: Character) in changes.filter { $0.action.mark == mark }.count }
                lines.append("| `\(subject)` | \(count("+")) | \(count("~")) | \(count("-")) |")
            }
            lines.append("")
            for (subject, changes) in groups {
                lines.append("<details><summary><code>\(subject)</code>: \(changes.count) change\(changes.count == 1 ? "" : "s")</summary>")
                lines.append("")
                lines.append("```diff")
                for change in changes {
                    let mark = change.action.mark == "~" ? "!" : String(change.action.mark)
                    lines.append("\(mark) \(PlanTextView.describe(change))  (\(change.reason))")
                }
                lines.append("```")
                if let spread = plan.redundancy[subject] { lines.append(""); lines.append("Spread: \(spread)") }
                lines.append("")
                lines.append("</details>")
                lines.append("")
            }
        }
        let warnings = plan.problems.filter { $0.severity != .error }
        if !warnings.isEmpty {
            lines.append("#### Problems")
            lines.append("")
            for problem in warnings {
                lines.append("- **\(problem.severity.rawValue)** `\(problem.resource)`: \(problem.message)")
            }
            lines.append("")
        }
        lines.append("**" + PlanTextView.energyLine(plan) + "**")
        if let footer {
            let observed = ISO8601DateFormatter().string(from: footer.observedAt)
            lines.append("")
            lines.append("---")
            lines.append("State serial \(plan.stateSerial); hardware observed \(observed); manifests `\(plan.manifestDigest.prefix(12))`. "
                         + "Apply this plan with `\(footer.command)`.")
        }
        return lines.joined(separator: "\n")
    }
}
