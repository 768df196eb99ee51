import Foundation

/// Slurm hostlists (`gpu-r01-n[01-03,05],login1`), expanded and compressed in Swift so that
/// dcapply never calls `scontrol show hostnames` per object.
///
/// Compression groups names by the text before their last run of digits (and after it) and
/// joins consecutive numbers of the same width, as `scontrol show hostlist` does for sorted,
/// unique input: `n01,n02,n03,n05` → `n[01-03,05]`, `n9,n10` → `n[9-10]`.
public enum Hostlist {
    /// A hostlist that cannot be read.
    public struct SyntaxError: Error, CustomStringConvertible, Equatable {
        public var hostlist: String
        public var description: String { "cannot read the Slurm hostlist \"\(hostlist)\"" }
    }

    /// The names of a hostlist, in the order written. `""` and `(null)` are empty.
    public static func expand(_ hostlist: String) throws -> [String] {
        let text = hostlist.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, text != "(null)" else { return [] }
        var names: [String] = []
        for item in try topLevelItems(text) where !item.isEmpty {
            names += try expandItem(item, whole: hostlist)
        }
        return names
    }

    /// The shortest usual hostlist for `names`: sorted, duplicates dropped, consecutive
    /// numbers in brackets. Empty for no names.
    public static func compress<S: Sequence>(_ names: S) -> String where S.Element == String {
        var groups: [String: (prefix: String, suffix: String, numbers: [Numbered])] = [:]
        var plain: [String] = []
        for name in Set(names) {
            guard let split = splitNumber(name) else { plain.append(name); continue }
            let key = split.prefix + "\u{0}" + split.suffix
            groups[key, default: (split.prefix, split.suffix, [])].numbers.append(Numbered(text: split.digits, value: split.value))
        }
        var items: [(sortKey: String, text: String)] = plain.map { ($0, $0) }
        for (_, group) in groups {
            let sorted = group.numbers.sorted { ($0.value, $0.text.count) < ($1.value, $1.text.count) }
            var ranges: [(first: Numbered, last: Numbered)] = []
            for number in sorted {
                if let last = ranges.last, number.value == last.last.value + 1, sameWidth(last.first.text, number.text) {
                    ranges[ranges.count - 1].last = number
                } else {
                    ranges.append((number, number))
                }
            }
            let text: String
            if ranges.count == 1, ranges[0].first.value == ranges[0].last.value {
                text = group.prefix + ranges[0].first.text + group.suffix
            } else {
                let inner = ranges.map { $0.first.value == $0.last.value ? $0.first.text : "\($0.first.text)-\($0.last.text)" }
                text = group.prefix + "[" + inner.joined(separator: ",") + "]" + group.suffix
            }
            items.append((group.prefix + "\u{0}" + (sorted.first?.text ?? ""), text))
        }
        return items.sorted { $0.sortKey < $1.sortKey }.map(\.text).joined(separator: ",")
    }

    private struct Numbered {
        var text: String
        var value: Int
    }

    /// Numbers are joined in one range when written with the same width, or both without a
    /// leading zero (`9` and `10`).
    private static func sameWidth(_ first: String, _ next: String) -> Bool {
        if first.count == next.count { return true }
        return !first.hasPrefix("0") && !next.hasPrefix("0") || first == "0"
    }

    /// `gpu-r01-n05` → (`gpu-r01-n`, `05`, 5, ``): the last run of digits.
    private static func splitNumber(_ name: String) -> (prefix: String, digits: String, value: Int, suffix: String)? {
        let characters = Array(name)
        guard var end = characters.lastIndex(where: \.isASCIIDigit) else { return nil }
        end += 1
        var start = end - 1
        while start > 0, characters[start - 1].isASCIIDigit { start -= 1 }
        let digits = String(characters[start..<end])
        // Longer runs do not fit an Int: keep such a name as it is.
        guard digits.count <= 18, let value = Int(digits) else { return nil }
        return (String(characters[..<start]), digits, value, String(characters[end...]))
    }

    /// Splits on commas outside brackets.
    private static func topLevelItems(_ text: String) throws -> [String] {
        var items: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            switch character {
            case "[": depth += 1; current.append(character)
            case "]":
                depth -= 1
                guard depth >= 0 else { throw SyntaxError(hostlist: text) }
                current.append(character)
            case "," where depth == 0: items.append(current); current = ""
            default: current.append(character)
            }
        }
        guard depth == 0 else { throw SyntaxError(hostlist: text) }
        items.append(current)
        return items
    }

    /// `n[01-02]x[1-2]` → the product, in order.
    private static func expandItem(_ item: String, whole: String) throws -> [String] {
        guard let open = item.firstIndex(of: "[") else { return [item] }
        guard let close = item[open...].firstIndex(of: "]") else { throw SyntaxError(hostlist: whole) }
        let prefix = String(item[..<open])
        let rest = String(item[item.index(after: close)...])
        let tails = try expandItem(rest, whole: whole)
        var names: [String] = []
        for part in item[item.index(after: open)..<close].split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }),
                  let low = Int(bounds[0]), let high = Int(bounds[bounds.count - 1]), low <= high, high - low < 1_000_000
            else { throw SyntaxError(hostlist: whole) }
            let width = bounds[0].count
            for value in low...high {
                let digits = String(value)
                let padded = String(repeating: "0", count: max(0, width - digits.count)) + digits
                for tail in tails { names.append(prefix + padded + tail) }
            }
        }
        return names
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
