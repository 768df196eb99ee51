import Foundation

/// The keys of `--trusted-signers FILE` (git's allowed-signers format): the root of trust
/// while no applied revision declares an AccessPolicy, such as for the very first revision.
public struct TrustedSigners: Sendable {
    public var signers: [AllowedSigner]
    /// The file, as named on the command line, for messages.
    public var file: String

    public init(signers: [AllowedSigner], file: String) {
        self.signers = signers
        self.file = file
    }

    /// Reads and parses the file; a line that cannot be read is an error naming it.
    public static func load(path: String) throws(SSHTrustError) -> (signers: TrustedSigners, warnings: [String]) {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw SSHTrustError(.malformed, "cannot read the trusted signers file \(path)")
        }
        let (signers, warnings) = try AllowedSigners.parse(text, file: path)
        if signers.isEmpty { throw SSHTrustError(.malformed, "the trusted signers file \(path) lists no key") }
        return (TrustedSigners(signers: signers, file: path), warnings)
    }
}
