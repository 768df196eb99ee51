import DCApplyCore
import DCApplyGit
import Foundation

/// `dcapply diff` for people (text), for a pull-request comment (markdown) and for machines (JSON).
enum DiffView {
    /// Rows and fields shown before the rest is folded into "and N more", so a large change
    /// stays readable and under a comment's size limit.
    static let maxTableRows = 60
    static let maxFieldsPerResource = 40

    static func mark(_ kind: ManifestDiff.ResourceChange.Kind) -> Character {
        switch kind {
        case .added: "+"
        case .removed: "-"
        case .modified: "~"
        }
    }

    /// `spec.size.gpus: 256 → 384`, `spec.colocate: (none) → rack`.
    static func describe(_ field: ManifestDiff.FieldChange) -> String {
        "\(field.path): \(field.before ?? "(none)") → \(field.after ?? "(none)")"
    }

    /// "2 resources changed (1 modified, 1 added)".
    static func manifestSummary(_ changes: [ManifestDiff.ResourceChange]) -> String {
        if changes.isEmpty { return "No manifest changes" }
        let counts = [ManifestDiff.ResourceChange.Kind.modified, .added, .removed].compactMap { kind -> String? in
            let count = changes.filter { $0.kind == kind }.count
            return count == 0 ? nil : "\(count) \(kind.rawValue)"
        }
        return "\(changes.count) resource\(changes.count == 1 ? "" : "s") changed (\(counts.joined(separator: ", ")))"
    }

    static func revisions(_ report: DiffReport) -> String {
        var line = "\(report.base.name) (\(report.base.short)) → \(report.head.name) (\(report.head.short))"
        if report.comparedTo != report.base.commit { line += ", compared from the merge base \(report.comparedTo.prefix(12))" }
        return line
    }

    // MARK: Text

    static func text(_ report: DiffReport, color: Bool) -> String {
        var lines: [String] = []
        let commitCount = report.commits.map { ", \($0.count) commit\($0.count == 1 ? "" : "s")" } ?? ""
        lines.append(Style.bold("dcapply diff: \(revisions(report))\(commitCount)", enabled: color))
        lines.append("")
        lines.append(Style.bold(manifestSummary(report.changes) + (report.changes.isEmpty ? "." : ":"), enabled: color))
        for change in report.changes {
            let markColor: Style.Color = change.kind == .added ? .green : change.kind == .removed ? .red : .yellow
            let place = change.location.map { Style.paint("  (\($0))", .gray, enabled: color) } ?? ""
            lines.append("  " + Style.paint(String(mark(change.kind)), markColor, bold: true, enabled: color) + " \(change.resource)\(place)")
            if change.kind == .modified {
                for field in change.fields { lines.append("      \(describe(field))") }
            }
        }
        lines.append("")
        if let trust = report.trust { lines += trustText(trust, color: color) }
        if let plan = report.plan {
            lines.append(Style.bold("Plan for \(report.head.name) against the observed state:", enabled: color))
            lines.append(PlanTextView.render(plan, color: color))
        } else {
            lines.append("No plan: the manifests at \(report.head.name) do not validate (errors on stderr).")
        }
        return lines.joined(separator: "\n")
    }

    // MARK: Markdown

    static func code(_ text: String) -> String {
        let clean = text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "|", with: "\\|")
        return clean.contains("`") ? "<code>\(clean.replacingOccurrences(of: "<", with: "&lt;"))</code>" : "`\(clean)`"
    }

    static func markdown(_ report: DiffReport) -> String {
        var lines: [String] = []
        lines.append("### dcapply diff `\(report.base.name)` → `\(report.head.name)`")
        lines.append("")
        var headline = manifestSummary(report.changes)
        if let plan = report.plan {
            headline += plan.isEmpty ? "; the plan changes nothing." : "; \(plan.summary.prefix(1).lowercased())\(plan.summary.dropFirst())" + (plan.hasErrors ? " The plan has errors (see Problems)." : "")
        } else {
            headline += "; the head's manifests do not validate."
        }
        lines.append("**\(headline)**")
        lines.append("")
        lines.append("Base `\(report.base.short)`, head `\(report.head.short)`"
                     + (report.comparedTo != report.base.commit ? ", compared from the merge base `\(report.comparedTo.prefix(12))`" : "") + ".")
        lines.append("")
        if let trust = report.trust { lines += trustRefusalMarkdown(trust) }
        if !report.changes.isEmpty {
            lines.append("| Resource | Change | Fields | Declared in |")
            lines.append("| --- | --- | ---: | --- |")
            for change in report.changes.prefix(maxTableRows) {
                let place = change.location.map { code("\($0.file):\($0.line)") } ?? ""
                lines.append("| \(code(change.resource)) | \(change.kind.rawValue) | \(change.fields.count) | \(place) |")
            }
            if report.changes.count > maxTableRows { lines.append("| … and \(report.changes.count - maxTableRows) more | | | |") }
            lines.append("")
            lines.append("#### Manifest changes")
            lines.append("")
            for change in report.changes.prefix(maxTableRows) {
                let noun = change.fields.count == 1 ? "field" : "fields"
                lines.append("<details><summary><code>\(change.resource)</code>: \(change.kind.rawValue), \(change.fields.count) \(noun)</summary>")
                lines.append("")
                lines.append("| Field | Base | Head |")
                lines.append("| --- | --- | --- |")
                for field in change.fields.prefix(maxFieldsPerResource) {
                    lines.append("| \(code(field.path)) | \(field.before.map(code) ?? "—") | \(field.after.map(code) ?? "—") |")
                }
                if change.fields.count > maxFieldsPerResource { lines.append("| … and \(change.fields.count - maxFieldsPerResource) more | | |") }
                lines.append("")
                lines.append("</details>")
                lines.append("")
            }
        }
        if let trust = report.trust { lines += trustTableMarkdown(trust) }
        if let commits = report.commits, !commits.isEmpty {
            lines.append("<details><summary>\(commits.count) commit\(commits.count == 1 ? "" : "s")</summary>")
            lines.append("")
            lines.append("| Commit | Summary | Author | Signed |")
            lines.append("| --- | --- | --- | --- |")
            for commit in commits.suffix(maxTableRows) {
                lines.append("| `\(commit.id.prefix(12))` | \(code(commit.summary)) | \(code(commit.author.name)) | \(commit.signature == nil ? "no" : "yes") |")
            }
            lines.append("")
            lines.append("</details>")
            lines.append("")
        } else if let note = report.historyNote {
            lines.append("_\(note)_")
            lines.append("")
        }
        if let plan = report.plan {
            lines.append("#### Plan for `\(report.head.name)` against the observed state")
            lines.append("")
            // The plan's own view, without its heading: the summary, the table and the details.
            lines += PlanMarkdownView.render(plan).split(separator: "\n", omittingEmptySubsequences: false).dropFirst(2).map(String.init)
        } else {
            let errors = report.headDiagnostics.filter { $0.severity == .error }
            lines.append("#### The head's manifests do not validate")
            lines.append("")
            lines.append("```")
            for diagnostic in errors.prefix(maxTableRows) { lines.append(DiagnosticView.render(diagnostic, color: false)) }
            if errors.count > maxTableRows { lines.append("… and \(errors.count - maxTableRows) more") }
            lines.append("```")
        }
        return lines.joined(separator: "\n")
    }

    // MARK: JSON

    static func json(_ report: DiffReport) -> String {
        func revision(_ revision: DiffReport.Revision) -> [String: Any] { ["name": revision.name, "commit": revision.commit] }
        var document: [String: Any] = [
            "formatVersion": 1,
            "base": revision(report.base),
            "head": revision(report.head),
            "comparedTo": report.comparedTo,
            "manifestChanges": report.changes.map { change -> [String: Any] in
                var entry: [String: Any] = [
                    "resource": change.resource, "change": change.kind.rawValue,
                    "fields": change.fields.map { ["path": $0.path, "before": $0.before ?? NSNull(), "after": $0.after ?? NSNull()] as [String: Any] },
                ]
                entry["location"] = change.location.map { "\($0)" } ?? NSNull()
                return entry
            },
            "diagnostics": report.headDiagnostics.map { ["severity": $0.severity.rawValue, "message": "\(DiagnosticView.render($0, color: false))"] },
        ]
        document["commits"] = report.commits.map { commits in
            commits.map { commit -> [String: Any] in
                ["id": commit.id, "summary": commit.summary, "author": "\(commit.author.name) <\(commit.author.email)>",
                 "committer": "\(commit.committer.name) <\(commit.committer.email)>", "signed": commit.signature != nil]
            }
        } ?? NSNull()
        document["trust"] = report.trust.map { trustJSON($0) as Any } ?? NSNull()
        document["plan"] = report.plan.flatMap { try? JSONSerialization.jsonObject(with: Data($0.json.utf8)) } ?? NSNull()
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
