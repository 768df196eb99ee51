import Yams

/// A parsed YAML document with the file it came from.
public struct YAMLDocument: @unchecked Sendable {
    public var file: String
    public var root: Yams.Node
    /// Where the document starts.
    public var start: SourceLocation
}

/// Splits a file into YAML documents, turning syntax errors into diagnostics.
///
/// libyaml and Yams compose recursively, so nesting is estimated first and absurd depth is
/// refused before the parser sees it.
public enum YAMLDocuments {
    public static func parse(_ source: SourceFile, limits: InputLimits = .standard) -> (documents: [YAMLDocument], diagnostics: [Diagnostic]) {
        if let (depth, line) = excessiveNesting(source.text, limit: limits.maxNesting) {
            return ([], [.error("nesting is at least \(depth) levels deep here; manifests are limited to \(limits.maxNesting)",
                               at: SourceLocation(file: source.path, line: line, column: 1))])
        }
        var documents: [YAMLDocument] = []
        do {
            let parser = try Parser(yaml: source.text)
            while let root = try parser.nextRoot() {
                if case .scalar(let scalar) = root, YAMLValue.isNull(scalar) { continue }
                let mark = root.mark
                documents.append(YAMLDocument(file: source.path, root: root,
                                              start: SourceLocation(file: source.path, line: mark?.line ?? 1, column: mark?.column ?? 1)))
            }
        } catch let error as YamlError {
            return (documents, [diagnostic(for: error, file: source.path)])
        } catch {
            return (documents, [.error("cannot parse YAML: \(error)", at: SourceLocation(file: source.path, line: 1, column: 1))])
        }
        return (documents, [])
    }

    static func diagnostic(for error: YamlError, file: String) -> Diagnostic {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: max(mark.line, 1), column: max(mark.column, 1)) }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            let detail = context.map { " \($0.text)" } ?? ""
            return .error("YAML syntax: \(problem)\(detail)", at: at(mark))
        case let .reader(problem, offset, value, yaml):
            let bytes = Array(yaml.utf8)
            let (line, column) = SourceReader.lineAndColumn(of: offset ?? 0, in: bytes)
            return .error("YAML: \(problem) (character 0x\(String(value, radix: 16)))", at: SourceLocation(file: file, line: line, column: column))
        case let .duplicatedKeysInMapping(duplicates, context):
            return .error("duplicate key \(duplicates.map { "\"\($0)\"" }.joined(separator: ", ")) in one mapping", at: at(context.mark))
        default:
            return .error("YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }

    /// A cheap upper bound on collection nesting per line: indentation, compact `- ` and `? `
    /// indicators, and open flow brackets (outside quotes). Returns the depth and line when the
    /// bound exceeds the limit.
    static func excessiveNesting(_ text: String, limit: Int) -> (Int, Int)? {
        var flow = 0, line = 1
        var indent = 0, atLineStart = true, compact = 0
        var quote: UInt8? = nil, previous: UInt8 = 10, inComment = false
        for byte in text.utf8 {
            if byte == 10 {
                line += 1; indent = 0; compact = 0; atLineStart = true; inComment = false
                if quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") { /* multi-line quoted scalars continue */ }
                previous = byte
                continue
            }
            if inComment { continue }
            if atLineStart {
                if byte == 32 { indent += 1; previous = byte; continue }
                atLineStart = false
            }
            if let open = quote {
                if byte == open && previous != UInt8(ascii: "\\") { quote = nil }
            } else {
                switch byte {
                case UInt8(ascii: "#") where previous == 32 || previous == 10: inComment = true
                case UInt8(ascii: "\""), UInt8(ascii: "'"): if previous == 32 || previous == 10 || previous == UInt8(ascii: "[") || previous == UInt8(ascii: "{") || previous == UInt8(ascii: ",") || previous == UInt8(ascii: ":") { quote = byte }
                case UInt8(ascii: "["), UInt8(ascii: "{"): flow += 1
                case UInt8(ascii: "]"), UInt8(ascii: "}"): flow = max(0, flow - 1)
                case UInt8(ascii: "-"), UInt8(ascii: "?"): if previous == 32 || previous == 10 { compact += 1 }
                case UInt8(ascii: ":"): if previous != UInt8(ascii: ":") { compact += 1 }
                default: break
                }
            }
            previous = byte
            let depth = indent + flow + compact
            if depth > limit { return (depth, line) }
        }
        return nil
    }
}

/// Scalar interpretation under the contract's rules (YAML 1.2 core schema, strict).
enum YAMLValue {
    static func isNull(_ scalar: Yams.Node.Scalar) -> Bool {
        scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    static func integer(_ scalar: Yams.Node.Scalar) -> Int? {
        guard scalar.style == .plain else { return nil }
        let text = scalar.string
        let digits = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text.hasPrefix("+") ? String(digits) : text)
    }

    static func number(_ scalar: Yams.Node.Scalar) -> Double? {
        guard scalar.style == .plain else { return nil }
        let text = scalar.string
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }),
              let value = Double(text), value.isFinite else { return nil }
        return value
    }

    static func boolean(_ scalar: Yams.Node.Scalar) -> Bool? {
        guard scalar.style == .plain else { return nil }
        switch scalar.string.lowercased() {
        case "true": return true
        case "false": return false
        default: return nil
        }
    }
}
