import Foundation

/// One line of a git/OpenSSH allowed-signers file: who (principals) may sign with which key.
public struct AllowedSigner: Sendable, Hashable {
    /// The principals as written, such as `alice@example.com` or `*@example.com`.
    public var principals: [String]
    /// The namespaces the key may sign for; nil when the line does not restrict them.
    public var namespaces: [String]?
    public var validAfter: Date?
    public var validBefore: Date?
    public var key: SSHPublicKey
    /// The line in its file, for messages.
    public var line: Int

    /// Whether this line lets its key sign in `namespace` at `time` (a commit's committer time,
    /// as git checks it).
    public func permits(namespace: String, at time: Date) -> Bool {
        if let namespaces, !namespaces.contains(namespace) { return false }
        if let validAfter, time < validAfter { return false }
        if let validBefore, time >= validBefore { return false }
        return true
    }

    public var principal: String { principals.joined(separator: ",") }
}

/// The allowed-signers format of `ssh-keygen(1)` (git's `gpg.ssh.allowedSignersFile`):
///
///     # comment
///     alice@example.com ssh-ed25519 AAAAC3Nza… alice
///     bob@example.com,robert@example.com namespaces="git" ecdsa-sha2-nistp256 AAAAE2Vj…
///
/// Principals, optional comma-separated options (`namespaces="…"`, `valid-after="…"`,
/// `valid-before="…"`, `cert-authority`), the key type, the key and a comment. Timestamps are
/// `YYYYMMDD[HHMM[SS]]`, read as UTC (with or without a trailing `Z`).
public enum AllowedSigners {
    /// The usable lines of a file. A malformed line throws (a typo in a trust file must not
    /// quietly drop a signer); `cert-authority` lines are skipped with a warning, since dcapply
    /// does not check SSH certificates.
    public static func parse(_ text: String, file: String = "allowed signers") throws(SSHTrustError) -> (signers: [AllowedSigner], warnings: [String]) {
        var signers: [AllowedSigner] = []
        var warnings: [String] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r")))
            if line.isEmpty || line.hasPrefix("#") { continue }
            let number = index + 1
            func fail(_ message: String) -> SSHTrustError { SSHTrustError(.malformed, "\(file):\(number): \(message)") }
            let tokens = tokenize(line)
            guard tokens.count >= 3 else { throw fail("expected principals, optional options, a key type and a key") }
            var principals = tokens[0].split(separator: ",").map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            principals.removeAll { $0.isEmpty }
            if principals.isEmpty { throw fail("no principal") }
            var keyStart = 1
            var namespaces: [String]?
            var validAfter: Date?, validBefore: Date?
            var isCertificateAuthority = false
            if !looksLikeKeyType(tokens[1]) {
                keyStart = 2
                for option in splitOptions(tokens[1]) {
                    let (name, value) = option
                    switch name.lowercased() {
                    case "cert-authority": isCertificateAuthority = true
                    case "namespaces":
                        guard let value else { throw fail("namespaces needs a value, such as namespaces=\"git\"") }
                        namespaces = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    case "valid-after", "valid-before":
                        guard let value, let date = timestamp(value) else { throw fail("\(name) needs a time such as \"20260101\" or \"202601011200Z\"") }
                        if name.lowercased() == "valid-after" { validAfter = date } else { validBefore = date }
                    default:
                        throw fail("unknown option \"\(name)\"")
                    }
                }
            }
            guard tokens.count > keyStart + 1 else { throw fail("expected a key type and a key after the principals") }
            let key: SSHPublicKey
            do throws(SSHTrustError) {
                key = try SSHPublicKey(line: tokens[keyStart...].joined(separator: " "))
            } catch {
                throw fail(error.message)
            }
            if isCertificateAuthority {
                warnings.append("\(file):\(number): cert-authority lines are skipped: dcapply does not check SSH certificates")
                continue
            }
            signers.append(AllowedSigner(principals: principals, namespaces: namespaces, validAfter: validAfter, validBefore: validBefore,
                                         key: key, line: number))
        }
        return (signers, warnings)
    }

    /// Splits on spaces and tabs outside double quotes, keeping the quotes.
    static func tokenize(_ line: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        var quoted = false
        for character in line {
            if character == "\"" { quoted.toggle() }
            if !quoted && (character == " " || character == "\t") {
                if !current.isEmpty { tokens.append(current); current = "" }
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    /// `namespaces="git,file",cert-authority` → [("namespaces", "git,file"), ("cert-authority", nil)].
    static func splitOptions(_ text: String) -> [(String, String?)] {
        var options: [String] = []
        var current = ""
        var quoted = false
        for character in text {
            if character == "\"" { quoted.toggle(); continue }
            if character == "," && !quoted { options.append(current); current = ""; continue }
            current.append(character)
        }
        options.append(current)
        return options.filter { !$0.isEmpty }.map { option in
            guard let equals = option.firstIndex(of: "=") else { return (option, nil) }
            return (String(option[..<equals]), String(option[option.index(after: equals)...]))
        }
    }

    static func looksLikeKeyType(_ token: String) -> Bool {
        token.hasPrefix("ssh-") || token.hasPrefix("ecdsa-") || token.hasPrefix("sk-") || token.hasPrefix("rsa-")
    }

    /// `YYYYMMDD`, `YYYYMMDDHHMM` or `YYYYMMDDHHMMSS`, optionally ending in `Z`; read as UTC.
    static func timestamp(_ text: String) -> Date? {
        let digits = text.hasSuffix("Z") || text.hasSuffix("z") ? String(text.dropLast()) : text
        guard [8, 12, 14].contains(digits.count), digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        let numbers = Array(digits).map { Int(String($0)) ?? 0 }
        func value(_ from: Int, _ count: Int) -> Int { numbers[from..<from + count].reduce(0) { $0 * 10 + $1 } }
        var components = DateComponents()
        components.year = value(0, 4)
        components.month = value(4, 2)
        components.day = value(6, 2)
        components.hour = digits.count >= 12 ? value(8, 2) : 0
        components.minute = digits.count >= 12 ? value(10, 2) : 0
        components.second = digits.count == 14 ? value(12, 2) : 0
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        guard let date = calendar.date(from: components), calendar.dateComponents([.month, .day], from: date) == DateComponents(month: components.month, day: components.day) else {
            return nil
        }
        return date
    }
}
