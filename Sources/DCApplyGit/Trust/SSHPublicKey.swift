import Crypto
import Foundation

/// An SSH public key as written in `authorized_keys`, AccessPolicy `keys` and allowed-signers
/// files: `ssh-ed25519 AAAAC3Nza… alice`. Two keys are the same key when their wire blobs are
/// equal; the comment is for people only.
///
/// Signatures can be checked for `ssh-ed25519` and `ecdsa-sha2-nistp256` (also `-nistp384` and
/// `-nistp521`). Other types (`ssh-rsa`, security keys `sk-…@openssh.com`) are still parsed, so
/// they can be named and fingerprinted, but checking a signature with them is an
/// `unsupportedKeyType` error.
public struct SSHPublicKey: Sendable, Hashable, CustomStringConvertible {
    /// The key type named inside the blob, such as `ssh-ed25519`.
    public var type: String
    /// The key in SSH wire format (what the base64 of the text form decodes to).
    public var blob: [UInt8]
    public var comment: String

    /// The key types whose signatures dcapply verifies.
    public static let verifiableTypes = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"]

    /// A key from its wire blob (as embedded in an SSHSIG signature).
    public init(blob: [UInt8], comment: String = "") throws(SSHTrustError) {
        var reader = SSHWireReader(blob)
        guard let type = reader.readText(), !type.isEmpty else {
            throw SSHTrustError(.malformed, "the public key does not start with its type")
        }
        self.type = type
        self.blob = blob
        self.comment = comment
    }

    /// Parses `TYPE BASE64 [COMMENT]`.
    public init(line: String) throws(SSHTrustError) {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count >= 2 else {
            throw SSHTrustError(.malformed, "expected an SSH public key such as \"ssh-ed25519 AAAAC3Nza… alice\", got \"\(Self.abbreviate(line))\"")
        }
        guard let data = Data(base64Encoded: fields[1]) else {
            throw SSHTrustError(.malformed, "the key of \"\(Self.abbreviate(line))\" is not valid base64")
        }
        try self.init(blob: Array(data), comment: fields.dropFirst(2).joined(separator: " "))
        guard type == fields[0] else {
            throw SSHTrustError(.malformed, "the key is written as \(fields[0]) but its data is a \(type) key")
        }
    }

    /// `SHA256:` and the unpadded base64 of the blob's SHA-256, as `ssh-keygen -l` prints it.
    public var fingerprint: String {
        "SHA256:" + Data(SHA256.hash(data: blob)).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    /// `ssh-ed25519 SHA256:…`.
    public var description: String { "\(type) \(fingerprint)" }

    /// Checks an SSH signature blob (`string type`, `string signature`) over `data`.
    /// Returns false when the signature does not match; throws when it cannot be checked at all.
    public func isValidSignature(_ signature: [UInt8], for data: [UInt8]) throws(SSHTrustError) -> Bool {
        var outer = SSHWireReader(signature)
        guard let signatureType = outer.readText(), let raw = outer.readString(), outer.isAtEnd else {
            throw SSHTrustError(.malformed, "the signature blob is malformed")
        }
        guard Self.verifiableTypes.contains(type) else {
            throw SSHTrustError(.unsupportedKeyType, "unsupported key type \(type): dcapply verifies \(Self.verifiableTypes.joined(separator: ", ")) signatures")
        }
        guard signatureType == type else {
            throw SSHTrustError(.malformed, "the signature is of type \(signatureType) but the key is \(type)")
        }
        var key = SSHWireReader(blob)
        _ = key.readString()  // the type, read in init
        do {
            if type == "ssh-ed25519" {
                guard let point = key.readString(), key.isAtEnd, point.count == 32 else { throw SSHTrustError(.malformed, "the ssh-ed25519 key is malformed") }
                guard raw.count == 64 else { return false }
                return try Curve25519.Signing.PublicKey(rawRepresentation: point).isValidSignature(raw, for: data)
            }
            guard let curve = key.readText(), type == "ecdsa-sha2-" + curve, let point = key.readString(), key.isAtEnd else {
                throw SSHTrustError(.malformed, "the \(type) key is malformed")
            }
            var numbers = SSHWireReader(raw)
            guard let r = numbers.readPositiveMPInt(), let s = numbers.readPositiveMPInt(), numbers.isAtEnd else { return false }
            switch curve {
            case "nistp256":
                guard let rs = Self.fixedWidth(r, s, width: 32) else { return false }
                return try P256.Signing.PublicKey(x963Representation: point).isValidSignature(P256.Signing.ECDSASignature(rawRepresentation: rs), for: data)
            case "nistp384":
                guard let rs = Self.fixedWidth(r, s, width: 48) else { return false }
                return try P384.Signing.PublicKey(x963Representation: point).isValidSignature(P384.Signing.ECDSASignature(rawRepresentation: rs), for: data)
            default:
                guard let rs = Self.fixedWidth(r, s, width: 66) else { return false }
                return try P521.Signing.PublicKey(x963Representation: point).isValidSignature(P521.Signing.ECDSASignature(rawRepresentation: rs), for: data)
            }
        } catch let error as SSHTrustError {
            throw error
        } catch {
            throw SSHTrustError(.malformed, "the \(type) key is not a valid point: \(error)")
        }
    }

    /// `r ‖ s`, each left-padded with zeros to the curve's width; nil when one is too long.
    static func fixedWidth(_ r: [UInt8], _ s: [UInt8], width: Int) -> [UInt8]? {
        guard r.count <= width, s.count <= width else { return nil }
        return [UInt8](repeating: 0, count: width - r.count) + r + [UInt8](repeating: 0, count: width - s.count) + s
    }

    static func abbreviate(_ text: String) -> String {
        text.count > 60 ? String(text.prefix(57)) + "…" : text
    }
}
