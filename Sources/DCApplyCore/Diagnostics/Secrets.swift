import Foundation
import Synchronization

/// Every secret value this process has read (BMC passwords, webhook secrets, git tokens), so
/// that what it prints, logs or stores can be scrubbed of them as a last line of defence.
///
/// Secrets are taken by reference (`env:`, `file:`) and kept out of messages by design; this
/// catches what design missed (a library's error that quotes a URL, a header echoed back). A
/// value shorter than `minimumLength` is not registered: replacing a short string everywhere
/// would garble ordinary text, and such a secret is too weak to matter.
public enum Secrets {
    public static let minimumLength = 6
    public static let mask = "[redacted]"

    private static let known = Mutex<[String]>([])

    /// Remembers a secret value (and its Basic-auth and URL-encoded forms).
    public static func register(_ value: String) {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.count >= minimumLength else { return }
        var forms = [trimmed]
        if let encoded = trimmed.addingPercentEncoding(withAllowedCharacters: .urlPasswordAllowed), encoded != trimmed { forms.append(encoded) }
        known.withLock { list in
            for form in forms where !list.contains(form) { list.append(form) }
            // Longest first, so a secret that contains another is masked whole.
            list.sort { $0.count > $1.count }
        }
    }

    /// Remembers the password of a URL's userinfo (`https://user:token@host/…`).
    public static func registerUserinfo(of url: String) {
        guard let components = URLComponents(string: url) else { return }
        if let password = components.password { register(password) }
        if let user = components.user, components.password == nil, user.count >= 20 { register(user) }  // a bare token as user
    }

    /// The text with every registered secret replaced by `[redacted]`.
    public static func redact(_ text: String) -> String {
        let secrets = known.withLock { $0 }
        guard !secrets.isEmpty else { return text }
        var text = text
        for secret in secrets where text.contains(secret) {
            text = text.replacingOccurrences(of: secret, with: mask)
        }
        return text
    }

    /// A URL as it may be shown: without userinfo.
    public static func displayURL(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.user != nil || components.password != nil else { return url }
        components.user = nil
        components.password = nil
        return components.string ?? url
    }

    /// For tests: forget everything registered.
    public static func reset() { known.withLock { $0.removeAll() } }
}
