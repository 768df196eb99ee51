import DCApplyCore
import DCApplyGit
import Foundation

extension Diff {
    /// The verdict `serve` would give on the commits from `base` to `head`, checked against
    /// the AccessPolicies of `base` (else `--trusted-signers`); nil, with a warning, when the
    /// history is not at hand.
    func authorizeCommits(in repository: some GitSource, from base: String, to head: String, limits: InputLimits) throws -> TrustReport? {
        var signers: TrustedSigners?
        if let trustedSigners {
            do throws(SSHTrustError) {
                let (loaded, warnings) = try TrustedSigners.load(path: trustedSigners)
                signers = loaded
                options.console.diagnostics(warnings.map { .warning($0) })
            } catch {
                throw DCApplyError(.usage, error.message)
            }
        }
        do {
            let report = try repository.authorize(from: base, to: head, paths: paths, trustedSigners: signers, limits: limits)
            options.console.diagnostics(report.warnings.map { .warning($0) })
            return report
        } catch {
            options.console.diagnostics([.warning("cannot check the commits' signatures and rights: \(error)")])
            return nil
        }
    }
}
