import Crypto
import Foundation

/// Checks the HMAC-SHA256 signature a git host sends with a webhook: GitHub's
/// `X-Hub-Signature-256: sha256=<hex>`, or Gitea's and Forgejo's `X-Gitea-Signature: <hex>`.
public struct WebhookSignature: Sendable {
    private let secret: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: secret) }

    /// `secret` is the shared secret as configured on the git host (a trailing newline from a
    /// secret file is not part of it).
    public init(secret: String) {
        self.secret = Array(secret.trimmingCharacters(in: .newlines).utf8)
    }

    /// The header names that carry a signature, in the order they are tried.
    public static let headers = ["X-Hub-Signature-256", "X-Gitea-Signature", "X-Gogs-Signature"]

    /// The signature a host would send for `body`, as hex.
    public func sign(_ body: some DataProtocol) -> String {
        HMAC<SHA256>.authenticationCode(for: body, using: key).map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `header` (with or without the `sha256=` prefix) is the signature of `body`;
    /// compared in constant time.
    public func isValid(_ header: String?, body: some DataProtocol) -> Bool {
        guard var text = header?.trimmingCharacters(in: .whitespaces) else { return false }
        if text.lowercased().hasPrefix("sha256=") { text.removeFirst(7) }
        guard let signature = Self.bytes(hex: text), signature.count == SHA256.byteCount else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: body, using: key)
    }

    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
