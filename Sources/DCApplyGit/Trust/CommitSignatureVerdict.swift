import Foundation

/// What a commit's signature proves: the key that made it, or why it proves nothing.
public enum CommitSignatureVerdict: Sendable, Hashable, CustomStringConvertible {
    /// A valid SSHSIG signature in the `git` namespace over the commit; who owns the key is
    /// decided by the trust anchor.
    case verified(SSHPublicKey)
    case unsigned
    /// Signed in a way dcapply does not check: OpenPGP, X.509, or an SSH key type it cannot verify.
    case unsupported(String)
    /// An SSH signature that is malformed, for another namespace, or does not match the commit.
    case invalid(String)

    /// The namespace git signs commits in.
    public static let gitNamespace = "git"

    /// Checks a commit's signature in process. Pure: no git, no ssh-keygen, no clock.
    public static func check(_ signature: GitCommitSignature?) -> CommitSignatureVerdict {
        guard let signature, !signature.signature.isEmpty else { return .unsigned }
        guard SSHSignature.isArmored(signature.signature) else {
            if signature.signature.contains("BEGIN PGP SIGNATURE") {
                return .unsupported("signed with OpenPGP, which dcapply does not check; sign with an SSH key (git config gpg.format ssh)")
            }
            if signature.signature.contains("BEGIN SIGNED MESSAGE") || signature.signature.contains("BEGIN CERTIFICATE") {
                return .unsupported("signed with X.509 (gpgsm), which dcapply does not check; sign with an SSH key (git config gpg.format ssh)")
            }
            return .invalid("the signature is neither SSH nor OpenPGP")
        }
        do throws(SSHTrustError) {
            let parsed = try SSHSignature(armored: signature.signature)
            return .verified(try parsed.verify(Array(signature.signedPayload.utf8), namespace: gitNamespace))
        } catch where error.code == .unsupportedKeyType {
            return .unsupported(error.message)
        } catch {
            return .invalid(error.message)
        }
    }

    public var key: SSHPublicKey? {
        if case .verified(let key) = self { return key }
        return nil
    }

    public var description: String {
        switch self {
        case .verified(let key): "signed by \(key)"
        case .unsigned: "not signed"
        case .unsupported(let reason): reason
        case .invalid(let reason): "bad signature: \(reason)"
        }
    }
}
