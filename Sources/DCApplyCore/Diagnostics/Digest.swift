import Crypto
import Foundation

/// Content digests for plans and manifests.
public enum Digest {
    public static func sha256(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
