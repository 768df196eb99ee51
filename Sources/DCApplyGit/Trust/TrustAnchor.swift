import DCApplyCore
import Foundation

/// Where trust in commit signers comes from for one check. Never from the commits being
/// checked: a commit cannot grant itself rights.
public enum TrustAnchor: Sendable {
    /// The AccessPolicies of the last applied revision: a signer is the member whose `keys`
    /// hold the signing key, and may change what the rules grant its user `manage` on.
    case accessPolicies([AccessPolicy], revision: String)
    /// `--trusted-signers FILE` (allowed-signers format), used while no applied revision
    /// declares an AccessPolicy (the first revision, typically): its signers may change anything.
    case trustedSigners([AllowedSigner], file: String)
    /// Neither: every commit is allowed, and the run warns once.
    case none

    /// Picks the anchor: the applied revision's AccessPolicies when any of them grants `manage`
    /// (policies that only grant `use` configure tenancy, not who may change manifests), else
    /// the trusted-signers file when one is given, else none.
    public static func choose(appliedRevision: String?, policies: [AccessPolicy], trustedSigners: TrustedSigners?) -> TrustAnchor {
        let grantsManage = policies.contains { $0.rules.contains { $0.verbs.contains("manage") } }
        if let appliedRevision, grantsManage { return .accessPolicies(policies, revision: appliedRevision) }
        if let trustedSigners { return .trustedSigners(trustedSigners.signers, file: trustedSigners.file) }
        return .none
    }

    /// One line for logs and reports: what the signers are checked against.
    public var description: String {
        switch self {
        case .accessPolicies(let policies, let revision):
            let names = policies.map(\.metadata.name).sorted().joined(separator: ", ")
            return "the AccessPolicies of revision \(revision.prefix(12)) (\(names))"
        case .trustedSigners(let signers, let file):
            return "the \(signers.count) trusted signer\(signers.count == 1 ? "" : "s") of \(file)"
        case .none:
            return "nothing: no AccessPolicy in force grants `manage` and no --trusted-signers file is given"
        }
    }

    /// The warning a run prints once when nothing is checked.
    public static let uncheckedWarning = "no AccessPolicy in force grants `manage` and no --trusted-signers file is given: commit signatures and rights are not checked, everything is allowed"
}
