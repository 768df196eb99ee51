import DCApplyCore

/// A what-if report: the loss, the plan after it, and a verdict per redundancy promise.
enum WhatIfView {
    /// `What if rack=r07 fails: 4 nodes lost (h100-r07-n01, ...)`.
    static func header(_ report: WhatIfReport) -> String {
        let scenarios = report.scenarios.map(\.description)
        let what = scenarios.count == 1 ? "\(scenarios[0]) fails" : "\(scenarios.dropLast().joined(separator: ", ")) and \(scenarios.last ?? "") fail"
        let count = report.lostNodes.count
        let shown = report.lostNodes.prefix(10).joined(separator: ", ") + (count > 10 ? " and \(count - 10) more" : "")
        return "What if \(what): \(count) node\(count == 1 ? "" : "s") lost (\(shown))"
    }

    /// `Every redundancy promise holds.` or `2 promises broken.`
    static func verdict(_ report: WhatIfReport) -> String {
        if report.promises.isEmpty { return "No redundancy promises to check: no RedundancyPolicy is named and no StorageTier is declared." }
        let broken = report.broken.count
        return broken == 0 ? "Every redundancy promise holds." : "\(broken) promise\(broken == 1 ? "" : "s") broken."
    }

    static func text(_ report: WhatIfReport, color: Bool) -> String {
        var lines = [Style.bold(header(report), enabled: color), ""]
        lines.append(PlanTextView.render(report.plan, color: color))
        lines.append("")
        lines.append(Style.bold("Redundancy:", enabled: color))
        for promise in report.promises {
            let mark = promise.holds ? Style.paint("✔", .green, bold: true, enabled: color) : Style.paint("✘", .red, bold: true, enabled: color)
            // One reason per line: solver messages carry their own semicolons.
            lines.append("  \(mark) \(promise.resource): \(promise.reasons.first ?? promise.message)")
            for reason in promise.reasons.dropFirst() { lines.append("      also: \(reason)") }
        }
        lines.append(Style.bold(verdict(report), enabled: color))
        return lines.joined(separator: "\n")
    }

    static func markdown(_ report: WhatIfReport) -> String {
        var lines = ["### dcapply what-if", "", "**\(header(report))**", ""]
        lines.append(PlanMarkdownView.render(report.plan))
        lines.append("")
        lines.append("#### Redundancy")
        lines.append("")
        for promise in report.promises {
            lines.append("- \(promise.holds ? "✔" : "✘") `\(promise.resource)`: \(promise.reasons.first ?? promise.message)")
            for reason in promise.reasons.dropFirst() { lines.append("  - also: \(reason)") }
        }
        lines.append("")
        lines.append("**\(verdict(report))**")
        return lines.joined(separator: "\n")
    }

    /// `{"failed": {"scenario", "nodes"}, "plan": <the plan document>, "promises": [...], "holds"}`.
    struct Document: Encodable {
        struct Failed: Encodable {
            var scenario: [String]
            var nodes: [String]
        }

        struct Promise: Encodable {
            var resource: String
            var policy: String?
            var holds: Bool
            var message: String
            var reasons: [String]

            enum CodingKeys: String, CodingKey { case resource, policy, holds, message, reasons }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(resource, forKey: .resource)
                try container.encode(policy, forKey: .policy)  // null, not absent, for a tier without one
                try container.encode(holds, forKey: .holds)
                try container.encode(message, forKey: .message)
                try container.encode(reasons, forKey: .reasons)
            }
        }

        var failed: Failed
        var plan: PlanDocument
        var promises: [Promise]
        var holds: Bool
    }

    static func json(_ report: WhatIfReport) -> String {
        PlanDocument.encode(Document(
            failed: Document.Failed(scenario: report.scenarios.map(\.description), nodes: report.lostNodes),
            plan: PlanDocument(report.plan),
            promises: report.promises.map { Document.Promise(resource: $0.resource.description, policy: $0.policy, holds: $0.holds, message: $0.message, reasons: $0.reasons) },
            holds: report.holds))
    }
}
