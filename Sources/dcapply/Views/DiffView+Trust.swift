import DCApplyCore
import DCApplyGit
import Foundation

/// The per-commit verdict of `dcapply diff`: who signed each commit, whether they may change
/// what it changes, and what would be refused.
extension DiffView {
    /// `bob@example.com`, or why nobody is proven: `not signed`.
    static func signer(_ commit: CommitAuthorization) -> String {
        if let signer = commit.signer { return signer }
        switch commit.signature {
        case .verified(let key): return "unknown key \(key.fingerprint)"
        case .unsigned: return "not signed"
        case .unsupported: return "not verifiable"
        case .invalid: return "bad signature"
        }
    }

    static func trustText(_ trust: TrustReport, color: Bool) -> [String] {
        if case .none = trust.anchor { return ["Commits: not checked (\(trust.anchor.description)).", ""] }
        var lines = [Style.bold("Commits, checked against \(trust.anchor.description):", enabled: color)]
        for commit in trust.commits {
            let mark = commit.isAllowed ? Style.paint("✓", .green, bold: true, enabled: color) : Style.paint("✗", .red, bold: true, enabled: color)
            lines.append("  \(mark) \(commit.commit.shortID) \(commit.commit.summary) (\(signer(commit))): \(commit.verdict)")
        }
        if trust.commits.isEmpty { lines.append("  (none to check)") }
        if !trust.isAllowed {
            lines.append("")
            lines.append(Style.paint("Would be refused:", .red, bold: true, enabled: color))
            for refusal in trust.refusals { lines.append("  - \(refusal.message)") }
        }
        lines.append("")
        return lines
    }

    /// The "Would be refused" section, first in the comment; nothing when all is allowed.
    static func trustRefusalMarkdown(_ trust: TrustReport) -> [String] {
        var lines: [String] = []
        if !trust.isAllowed {
            let refusals = trust.refusals
            let commits = Set(refusals.map(\.commit)).count
            lines.append("#### ⛔ Would be refused: \(commits) commit\(commits == 1 ? "" : "s"), \(refusals.count) change\(refusals.count == 1 ? "" : "s") not allowed")
            lines.append("")
            lines.append("`dcapply serve` would refuse this revision whole and stay on the last good one:")
            lines.append("")
            for refusal in refusals.prefix(maxTableRows) {
                lines.append("- \(refusal.message.replacingOccurrences(of: "\n", with: " "))")
            }
            if refusals.count > maxTableRows { lines.append("- … and \(refusals.count - maxTableRows) more") }
            lines.append("")
        }
        return lines
    }

    /// Each commit's signer and verdict; only the warning when nothing is checked.
    static func trustTableMarkdown(_ trust: TrustReport) -> [String] {
        var lines: [String] = []
        if case .none = trust.anchor {
            return trust.warnings.map { "> ⚠️ \($0)" } + [""]
        }
        lines.append("#### Signatures and rights")
        lines.append("")
        lines.append("Checked against \(trust.anchor.description).")
        lines.append("")
        if !trust.commits.isEmpty {
            lines.append("| Commit | Summary | Signer | Changes | Verdict |")
            lines.append("| --- | --- | --- | --- | --- |")
            for commit in trust.commits.suffix(maxTableRows) {
                let changes = commit.changedResources.isEmpty ? "—" : commit.changedResources.prefix(5).map { code($0.description) }.joined(separator: ", ")
                    + (commit.changedResources.count > 5 ? ", … \(commit.changedResources.count - 5) more" : "")
                lines.append("| `\(commit.commit.shortID)` | \(code(commit.commit.summary)) | \(code(signer(commit))) | \(changes) | \(commit.isAllowed ? "✅ " : "⛔ ")\(commit.verdict) |")
            }
            lines.append("")
        }
        for warning in trust.warnings { lines.append("> ⚠️ \(warning)") }
        if !trust.warnings.isEmpty { lines.append("") }
        return lines
    }

    static func trustJSON(_ trust: TrustReport) -> [String: Any] {
        [
            "checkedAgainst": trust.anchor.description,
            "allowed": trust.isAllowed,
            "warnings": trust.warnings,
            "commits": trust.commits.map { commit -> [String: Any] in
                [
                    "id": commit.commit.id,
                    "signature": commit.signature.description,
                    "signer": commit.signer ?? NSNull(),
                    "changes": commit.changedResources.map(\.description),
                    "allowed": commit.isAllowed,
                    "refusals": commit.refusals.map { ["resource": $0.resource, "missingRule": $0.missingRule, "message": $0.message] },
                ]
            },
        ]
    }
}
