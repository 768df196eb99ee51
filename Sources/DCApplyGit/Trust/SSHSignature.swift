import Crypto
import Foundation

/// An SSH signature in OpenSSH's SSHSIG format (`ssh-keygen -Y sign`, and git with
/// `gpg.format=ssh`), armored between `-----BEGIN SSH SIGNATURE-----` and
/// `-----END SSH SIGNATURE-----`.
///
/// The blob (OpenSSH `PROTOCOL.sshsig`): the 6 bytes `SSHSIG`, `uint32` version 1, then the
/// `string`s public key, namespace, reserved, hash algorithm (`sha256` or `sha512`) and
/// signature. What is signed is not the message but `SSHSIG`, the namespace, reserved, the
/// hash algorithm and the hash of the message, so a signature made for one namespace (`file`,
/// `email`) is never valid for another (`git`).
public struct SSHSignature: Sendable, Hashable {
    public var publicKey: SSHPublicKey
    public var namespace: String
    public var reserved: [UInt8]
    public var hashAlgorithm: String
    /// The inner signature: `string` key type, `string` signature bytes.
    public var signature: [UInt8]

    static let magic = Array("SSHSIG".utf8)
    static let begin = "-----BEGIN SSH SIGNATURE-----"
    static let end = "-----END SSH SIGNATURE-----"

    /// Whether the text looks like an SSH signature at all (as opposed to OpenPGP or X.509).
    public static func isArmored(_ text: String) -> Bool {
        text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix(begin)
    }

    /// Parses the armored text.
    public init(armored text: String) throws(SSHTrustError) {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard lines.first == Self.begin, lines.last == Self.end, lines.count >= 3 else {
            throw SSHTrustError(.malformed, "not an SSH signature: expected the text between \(Self.begin) and \(Self.end)")
        }
        guard let data = Data(base64Encoded: lines.dropFirst().dropLast().joined()) else {
            throw SSHTrustError(.malformed, "the SSH signature is not valid base64")
        }
        try self.init(blob: Array(data))
    }

    /// Parses the decoded blob.
    public init(blob: [UInt8]) throws(SSHTrustError) {
        var reader = SSHWireReader(blob)
        guard reader.readBytes(Self.magic.count) == Self.magic else {
            throw SSHTrustError(.malformed, "the SSH signature does not start with SSHSIG")
        }
        guard let version = reader.readUInt32() else { throw SSHTrustError(.malformed, "the SSH signature is truncated") }
        guard version == 1 else { throw SSHTrustError(.malformed, "SSH signature version \(version) is not supported (only 1)") }
        guard let key = reader.readString(), let namespace = reader.readText(), let reserved = reader.readString(),
              let hashAlgorithm = reader.readText(), let signature = reader.readString() else {
            throw SSHTrustError(.malformed, "the SSH signature is truncated")
        }
        guard reader.isAtEnd else { throw SSHTrustError(.malformed, "the SSH signature has trailing data") }
        self.publicKey = try SSHPublicKey(blob: key)
        self.namespace = namespace
        self.reserved = reserved
        self.hashAlgorithm = hashAlgorithm
        self.signature = signature
    }

    /// The bytes the inner signature covers for `message`, built exactly as OpenSSH builds them.
    public func signedData(for message: [UInt8]) throws(SSHTrustError) -> [UInt8] {
        let digest: [UInt8]
        switch hashAlgorithm {
        case "sha256": digest = Array(SHA256.hash(data: message))
        case "sha512": digest = Array(SHA512.hash(data: message))
        default: throw SSHTrustError(.malformed, "the SSH signature's hash algorithm \"\(hashAlgorithm)\" is not sha256 or sha512")
        }
        var writer = SSHWireWriter()
        writer.writeRaw(Self.magic)
        writer.writeString(namespace)
        writer.writeString(reserved)
        writer.writeString(hashAlgorithm)
        writer.writeString(digest)
        return writer.bytes
    }

    /// Checks the signature over `message` in `namespace` and returns the key that made it.
    /// Who that key belongs to is the caller's question.
    @discardableResult
    public func verify(_ message: [UInt8], namespace expected: String) throws(SSHTrustError) -> SSHPublicKey {
        guard namespace == expected else {
            throw SSHTrustError(.wrongNamespace, "the signature was made for namespace \"\(namespace)\", not \"\(expected)\"")
        }
        guard try publicKey.isValidSignature(signature, for: try signedData(for: message)) else {
            throw SSHTrustError(.badSignature, "the signature by \(publicKey) does not match the signed data")
        }
        return publicKey
    }
}
