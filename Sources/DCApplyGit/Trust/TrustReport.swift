import Foundation

/// Why one resource change of one commit is refused.
public struct CommitRefusal: Sendable, Hashable, CustomStringConvertible {
    public var commit: String
    /// What the signer needed `manage` on: `HardwarePool/train-h100`.
    public var resource: String
    /// The rule that would have allowed it, as YAML: `{kinds: [HardwarePool], names: [train-h100], verbs: [manage]}`.
    public var missingRule: String
    /// The whole sentence, naming the commit, the signer, the resource and the rule.
    public var message: String

    public var description: String { message }
}

/// The verdict on one commit.
public struct CommitAuthorization: Sendable {
    public var commit: GitCommit
    public var signature: CommitSignatureVerdict
    public var changedResources: [ChangedResource]
    /// Who the signature proves, when the anchor knows the key: an AccessPolicy member's user
    /// or an allowed-signers principal.
    public var signer: String?
    public var refusals: [CommitRefusal]

    public var isAllowed: Bool { refusals.isEmpty }

    /// `allowed`, `allowed (changes no manifest)` or `refused: …` — one cell of a review table.
    public var verdict: String {
        if !refusals.isEmpty { return "refused: \(refusals.count) change\(refusals.count == 1 ? "" : "s") not allowed" }
        return changedResources.isEmpty ? "allowed (changes no manifest)" : "allowed"
    }
}

/// The verdict on a range of commits.
public struct TrustReport: Sendable {
    public var anchor: TrustAnchor
    public var commits: [CommitAuthorization]
    /// Printed once per run (nothing is checked).
    public var warnings: [String]

    public var refusals: [CommitRefusal] { commits.flatMap(\.refusals) }
    public var isAllowed: Bool { commits.allSatisfy(\.isAllowed) }

    /// The first refusals in one line, for `/status` and logs.
    public func summary(limit: Int = 3) -> String {
        let all = refusals
        var text = all.prefix(limit).map(\.message).joined(separator: "; ")
        if all.count > limit { text += "; and \(all.count - limit) more" }
        return text
    }
}
