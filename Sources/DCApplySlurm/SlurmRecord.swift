import Foundation

/// One record of `scontrol -o show partition|reservation|node`: space-separated `Key=Value`
/// pairs on one line.
///
/// Values may hold spaces: a word that does not start a new `Key=` belongs to the value
/// before it, and everything after `Reason=` (always last) is the reason, without the
/// `[user@time]` suffix Slurm appends. `(null)` reads as an empty value.
public struct SlurmRecord: Hashable, Sendable {
    /// Values by key; `(null)` is stored as `""`.
    public var fields: [String: String]

    public init(fields: [String: String]) {
        self.fields = fields
    }

    public subscript(key: String) -> String? { fields[key] }

    /// Reads one line.
    public init(line: String) {
        var fields: [String: String] = [:]
        var key: String?
        var value = ""
        func finish() {
            guard let key else { return }
            fields[key] = Self.clean(key: key, value)
        }
        let words = line.split(separator: " ", omittingEmptySubsequences: false)
        for word in words {
            if key != "Reason", let equals = word.firstIndex(of: "="), Self.isKey(word[..<equals]) {
                finish()
                key = String(word[..<equals])
                value = String(word[word.index(after: equals)...])
            } else if key != nil {
                value += " " + word
            }
        }
        finish()
        self.fields = fields
    }

    /// The records of a whole `scontrol -o show …` output, one per non-empty line.
    public static func records(_ output: String) -> [SlurmRecord] {
        output.split(whereSeparator: \.isNewline).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map { SlurmRecord(line: String($0)) }
    }

    private static func isKey(_ text: Substring) -> Bool {
        guard let first = text.first, first.isLetter, first.isASCII else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }
    }

    private static func clean(key: String, _ raw: String) -> String {
        var value = raw.trimmingCharacters(in: .whitespaces)
        if key == "Reason" { value = stripReasonSuffix(value) }
        return value == "(null)" ? "" : value
    }

    /// `xid 79: gpu fell off bus [root@2026-12-04T17:44:14]` → `xid 79: gpu fell off bus`.
    static func stripReasonSuffix(_ reason: String) -> String {
        guard reason.hasSuffix("]"), let open = reason.lastIndex(of: "[") else { return reason }
        let inner = reason[reason.index(after: open)..<reason.index(before: reason.endIndex)]
        guard inner.contains("@") else { return reason }
        return reason[..<open].trimmingCharacters(in: .whitespaces)
    }
}
