/// Name rules of the contract.
public enum Names {
    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
    public static func isDNSLabel(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        func alnum(_ b: UInt8) -> Bool { (b >= 97 && b <= 122) || (b >= 48 && b <= 57) }
        guard let first = bytes.first, let last = bytes.last, alnum(first), alnum(last) else { return false }
        return bytes.allSatisfy { alnum($0) || $0 == 45 }
    }

    /// `[a-zA-Z][a-zA-Z0-9]*`
    public static func isResourceKey(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCIILetter else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCIILetter || ("0"..."9").contains($0) }
    }

    /// Kubernetes-like label keys: alphanumerics with `-_./`, at most 253 characters.
    public static func isLabelKey(_ text: String) -> Bool {
        guard (1...253).contains(text.utf8.count) else { return false }
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last,
              first.isASCIIAlphanumeric, last.isASCIIAlphanumeric else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || "-_./".unicodeScalars.contains($0) }
    }

    /// `env:NAME` or `file:PATH`.
    public static func isSecretReference(_ text: String) -> Bool {
        if text.hasPrefix("env:") {
            let name = text.dropFirst(4)
            guard let first = name.unicodeScalars.first, first.isASCIILetter || first == "_" else { return false }
            return name.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || $0 == "_" }
        }
        return text.hasPrefix("file:") && text.count > 5
    }

    /// The closest candidate within a small edit distance, for "did you mean".
    public static func closest(to word: String, in candidates: [String]) -> String? {
        let lowered = word.lowercased()
        var best: (String, Int)?
        for candidate in candidates {
            if candidate.lowercased() == lowered { return candidate }
            let distance = editDistance(lowered, candidate.lowercased())
            let limit = max(1, min(3, candidate.count / 3))
            if distance <= limit, distance < (best?.1 ?? .max) { best = (candidate, distance) }
            else if candidate.lowercased().hasPrefix(lowered) || lowered.hasPrefix(candidate.lowercased()),
                    min(lowered.count, candidate.count) >= 4, best == nil {
                best = (candidate, limit)
            }
        }
        return best?.0
    }

    /// Levenshtein distance.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

extension Unicode.Scalar {
    var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
    var isASCIIAlphanumeric: Bool { isASCIILetter || ("0"..."9").contains(self) }
}

/// Durations written as `90s`, `5m`, `1h30m`, `250ms`.
public enum Duration {
    /// Seconds, or nil when the text is not a duration.
    public static func parse(_ text: String) -> Double? {
        var total = 0.0, number = "", index = text.startIndex, sawUnit = false
        while index < text.endIndex {
            let character = text[index]
            if character.isASCII, character.isNumber || (character == "." && !number.contains(".")) {
                number.append(character)
                index = text.index(after: index)
                continue
            }
            guard let value = Double(number) else { return nil }
            let rest = text[index...]
            let (unit, length): (Double, Int) = rest.hasPrefix("ms") ? (0.001, 2)
                : rest.hasPrefix("s") ? (1, 1) : rest.hasPrefix("m") ? (60, 1) : rest.hasPrefix("h") ? (3600, 1) : (0, 0)
            guard length > 0 else { return nil }
            total += value * unit
            number = ""
            sawUnit = true
            index = text.index(index, offsetBy: length)
        }
        return sawUnit && number.isEmpty ? total : nil
    }
}
