/// A parsed YAML document with the file it came from.
public struct YAMLDocument: Sendable {
    public var file: String
    public var root: YAMLNode
    /// Where the document starts.
    public var start: SourceLocation
}

/// Splits a file into YAML documents, turning syntax errors into diagnostics.
public enum YAMLDocuments {
    public static func parse(_ source: SourceFile, limits: InputLimits = .standard) -> (documents: [YAMLDocument], diagnostics: [Diagnostic]) {
        YAMLComposer(file: source.path, limits: limits).compose(source.text)
    }
}

/// Scalar interpretation under the contract's rules (YAML 1.2 core schema, strict: a quoted
/// "8" is a string, not an integer).
enum YAMLValue {
    static func isNull(_ scalar: YAMLScalar) -> Bool { scalar.isNull }

    static func integer(_ scalar: YAMLScalar) -> Int? {
        guard scalar.style == .plain, isSignedDigits(scalar.text) else { return nil }
        let text = scalar.text
        return Int(text.hasPrefix("+") ? String(text.dropFirst()) : text)
    }

    /// `[+-]?[0-9]+`, checked on the UTF-8 bytes (an ASCII digit is the only ASCII character
    /// `Character.isNumber` accepts).
    private static func isSignedDigits(_ text: String) -> Bool {
        var utf8 = text.utf8[...]
        if let first = utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") { utf8 = utf8.dropFirst() }
        return !utf8.isEmpty && utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// A plain integer too large for 64 bits: reported as out of range, not as a type error.
    static func isOverflowingInteger(_ scalar: YAMLScalar) -> Bool {
        scalar.style == .plain && isSignedDigits(scalar.text) && integer(scalar) == nil
    }

    static func number(_ scalar: YAMLScalar) -> Double? {
        guard scalar.style == .plain else { return nil }
        let text = scalar.text
        // Digits, signs, `.`, `e` and `E` only (checked on the bytes: all are ASCII).
        guard !text.isEmpty, text.utf8.allSatisfy({ byte in
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
        }), let value = Double(text), value.isFinite else { return nil }
        return value
    }

    static func boolean(_ scalar: YAMLScalar) -> Bool? {
        guard scalar.style == .plain else { return nil }
        let text = scalar.text
        // ASCII text is lowercased byte by byte; other text (which could lowercase into ASCII) as before.
        let lowered = text.utf8.allSatisfy { $0 < 0x80 }
            ? String(decoding: text.utf8.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 }, as: UTF8.self)
            : text.lowercased()
        switch lowered {
        case "true": return true
        case "false": return false
        default: return nil
        }
    }
}
