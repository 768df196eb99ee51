import DCApplyCore
import Foundation

/// One commit to authorize: the commit, what its signature proves, and the resources it
/// changes (from its own resource-level diff against its parent).
public struct CommitToAuthorize: Sendable {
    public var commit: GitCommit
    public var signature: CommitSignatureVerdict
    public var changedResources: [ChangedResource]

    public init(commit: GitCommit, signature: CommitSignatureVerdict, changedResources: [ChangedResource]) {
        self.commit = commit
        self.signature = signature
        self.changedResources = changedResources
    }

    /// Checks the commit's signature in process.
    public init(commit: GitCommit, changedResources: [ChangedResource]) {
        self.init(commit: commit, signature: CommitSignatureVerdict.check(commit.signature), changedResources: changedResources)
    }
}

/// Decides, per commit, whether its signer may change every resource the commit changes.
/// Pure: signatures are already checked, diffs already made, the anchor already chosen.
///
/// The AccessPolicy `manage` rule: each commit that changes a resource must be signed by a key
/// of a member granted `manage` on it (on `AccessPolicy/<name>` for a policy). A commit that
/// changes no resource is allowed whatever its signature.
public enum CommitAuthorizer {
    public static func authorize(_ commits: [CommitToAuthorize], anchor: TrustAnchor) -> TrustReport {
        var warnings: [String] = []
        if case .none = anchor { warnings.append(TrustAnchor.uncheckedWarning) }
        let verdicts = commits.map { authorize($0, anchor: anchor) }
        return TrustReport(anchor: anchor, commits: verdicts, warnings: warnings)
    }

    static func authorize(_ item: CommitToAuthorize, anchor: TrustAnchor) -> CommitAuthorization {
        var result = CommitAuthorization(commit: item.commit, signature: item.signature, changedResources: item.changedResources, signer: nil, refusals: [])
        if item.changedResources.isEmpty { return result }
        let commit = item.commit
        let short = commit.shortID
        let author = "\(commit.author.name) <\(commit.author.email)>"
        func refuseAll(_ reason: (ChangedResource) -> String) {
            result.refusals = item.changedResources.map { resource in
                CommitRefusal(commit: commit.id, resource: resource.address.description, missingRule: resource.missingRule, message: reason(resource))
            }
        }
        switch anchor {
        case .none:
            return result
        case .trustedSigners(let signers, let file):
            guard case .verified(let key) = item.signature else {
                refuseAll { "commit \(short) by \(author) changes \($0) but is \(unprovenReason(item.signature)); the first revision must be signed by a key of the trusted signers file \(file)" }
                return result
            }
            let time = commit.committer.time
            guard let signer = signers.first(where: { $0.key.blob == key.blob && $0.permits(namespace: CommitSignatureVerdict.gitNamespace, at: time) }) else {
                let listed = signers.contains { $0.key.blob == key.blob }
                let why = listed ? "whose line in \(file) does not allow signing git commits at \(commit.committer.time)" : "which is not in the trusted signers file \(file)"
                refuseAll { "commit \(short) by \(author) changes \($0) but is signed by key \(key.fingerprint) (\(key.type)), \(why)" }
                return result
            }
            result.signer = signer.principal
            return result
        case .accessPolicies(let policies, let revision):
            guard case .verified(let key) = item.signature else {
                refuseAll { "commit \(short) by \(author) changes \($0) but is \(unprovenReason(item.signature)); it must be signed with the SSH key of a member granted `manage` on it (\($0.missingRule))" }
                return result
            }
            let users = Set(policies.flatMap { policy in
                policy.members.filter { member in member.keys.contains { listed in (try? SSHPublicKey(line: listed))?.blob == key.blob } }.map(\.user)
            })
            guard !users.isEmpty else {
                refuseAll { "commit \(short) by \(author) changes \($0) but is signed by key \(key.fingerprint) (\(key.type)), which no AccessPolicy of revision \(revision.prefix(12)) lists as a member's key" }
                return result
            }
            let who = users.sorted().joined(separator: ", ")
            result.signer = who
            for resource in item.changedResources {
                let granted = policies.contains { policy in
                    policy.members.contains { users.contains($0.user) } && policy.allows("manage", on: resource.address)
                }
                if !granted {
                    result.refusals.append(CommitRefusal(
                        commit: commit.id, resource: resource.address.description, missingRule: resource.missingRule,
                        message: "commit \(short) by \(who) (key \(key.fingerprint)) changes \(resource), but no AccessPolicy of revision \(revision.prefix(12)) grants \(who) `manage` on \(resource.address): add \(resource.missingRule) to a policy \(who) is a member of"))
                }
            }
            return result
        }
    }

    static func unprovenReason(_ verdict: CommitSignatureVerdict) -> String {
        switch verdict {
        case .unsigned: "not signed"
        case .unsupported(let reason): "not verifiable (\(reason))"
        case .invalid(let reason): "not validly signed (\(reason))"
        case .verified: "signed"
        }
    }
}
