import DCApplyCore
import DCApplyGit
import Foundation
import Logging
import Synchronization

/// The daemon's check of commit signatures and `manage` rights before a new revision is read:
/// the decision is `GitSource.authorize` (pure apart from reading git objects); this holds the
/// `--trusted-signers` keys and prints each warning once per run.
public final class TrustGate: Sendable {
    /// The keys of `--trusted-signers`, or nil without it.
    public let trustedSigners: TrustedSigners?
    private let warned = Mutex<Set<String>>([])

    /// A gate that trusts `trustedSigners` while no applied revision declares an AccessPolicy.
    public init(trustedSigners: TrustedSigners?) {
        self.trustedSigners = trustedSigners
    }

    /// The refusal (nil when every commit from `applied` to `revision` may change what it
    /// changes) and the principals who signed the commits checked, for the audit log's actor.
    /// Throws when git cannot be read.
    public func check(_ revision: String, after applied: String?, in repository: some GitSource, paths: [String],
               limits: InputLimits, logger: Logger) throws -> (refusal: String?, signers: [String]) {
        let report = try repository.authorize(from: applied, to: revision, paths: paths, trustedSigners: trustedSigners, limits: limits)
        for warning in report.warnings where warned.withLock({ $0.insert(warning).inserted }) {
            logger.warning("commits are not fully checked", metadata: ["dcapply.warning": "\(warning)"], source: ServeLog.source)
        }
        let signers = Array(Set(report.commits.compactMap(\.signer))).sorted()
        if report.isAllowed {
            if !signers.isEmpty {
                logger.info("commits authorized", metadata: ["dcapply.signers": "\(signers.joined(separator: ", "))",
                                                             "dcapply.commits": "\(report.commits.count)"], source: ServeLog.source)
            }
            return (nil, signers)
        }
        let commits = Set(report.refusals.map(\.commit)).count
        return ("\(commits) commit\(commits == 1 ? " is" : "s are") not allowed to change what \(commits == 1 ? "it changes" : "they change") (checked against \(report.anchor.description)): \(report.summary())", signers)
    }
}
