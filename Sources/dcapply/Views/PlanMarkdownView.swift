import DCApplyCore

/// The plan as a pull-request comment: a summary table, then each resource's changes folded.
enum PlanMarkdownView {
    static func render(_ plan: Plan) -> String {
        var lines: [String] = []
        lines.append("### dcapply plan" + (plan.revision.map { " for `\($0)`" } ?? ""))
        lines.append("")
        lines.append("**\(plan.summary)**" + (plan.waves > 1 ? " Applied in \(plan.waves) waves (RedundancyPolicy maxUnavailable)." : ""))
        lines.append("")
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
        if !plan.problems.isEmpty {
            lines.append("#### Problems")
            lines.append("")
            for problem in plan.problems {
                lines.append("- **\(problem.severity.rawValue)** `\(problem.resource)`: \(problem.message)")
            }
            lines.append("")
        }
        lines.append("**" + PlanTextView.energyLine(plan) + "**")
        return lines.joined(separator: "\n")
    }
}
