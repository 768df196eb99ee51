import DCApplyCore
import DCApplyGit
import Foundation
import Logging

extension Serve {
    /// The keys of `--trusted-signers`, or nil without it; a file that cannot be read stops
    /// the daemon before it starts (a typo in a trust file must not go unnoticed).
    func loadTrustedSigners(logger: Logger) throws -> TrustedSigners? {
        guard let trustedSigners else { return nil }
        do throws(SSHTrustError) {
            let (signers, warnings) = try TrustedSigners.load(path: trustedSigners)
            for warning in warnings { logger.warning("trusted signers line skipped", metadata: ["dcapply.warning": "\(warning)"]) }
            return signers
        } catch {
            throw DCApplyError(.usage, error.message)
        }
    }
}
