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
        guard scalar.style == .plain else { return nil }
        let text = scalar.text
        let digits = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text.hasPrefix("+") ? String(digits) : text)
    }

    /// A plain integer too large for 64 bits: reported as out of range, not as a type error.
    static func isOverflowingInteger(_ scalar: YAMLScalar) -> Bool {
        guard scalar.style == .plain else { return false }
        let digits = scalar.text.hasPrefix("-") || scalar.text.hasPrefix("+") ? scalar.text.dropFirst() : Substring(scalar.text)
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber } && integer(scalar) == nil
    }

    static func number(_ scalar: YAMLScalar) -> Double? {
        guard scalar.style == .plain else { return nil }
        let text = scalar.text
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }),
              let value = Double(text), value.isFinite else { return nil }
        return value
    }

    static func boolean(_ scalar: YAMLScalar) -> Bool? {
        guard scalar.style == .plain else { return nil }
        switch scalar.text.lowercased() {
        case "true": return true
        case "false": return false
        default: return nil
        }
    }
}
