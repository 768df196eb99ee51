import Foundation

/// The text of one input file and the path it is shown under.
public struct SourceFile: Hashable, Sendable {
    public var path: String
    public var text: String
    /// The path inside the directory the user named (the file name for a file argument): what
    /// the manifests' digest covers, so `./m/` and `m` give the same digest.
    public var relativePath: String

    public init(path: String, text: String, relativePath: String? = nil) {
        self.path = path
        self.text = text
        self.relativePath = relativePath ?? path
    }
}

/// Limits that keep hostile or broken input from crashing or hanging a run.
public struct InputLimits: Sendable {
    /// Largest file read, in bytes.
    public var maxFileBytes: Int = 32 << 20
    /// Deepest nesting of collections (estimated before parsing, so the parser cannot overflow).
    public var maxNesting: Int = 200
    /// Most YAML nodes visited in one document, aliases expanded (stops "billion laughs").
    public var maxNodesPerDocument: Int = 2_000_000

    public init() {}
    public static let standard = InputLimits()
}

/// Reads input files, turning I/O and encoding failures into diagnostics.
public enum SourceReader {
    /// Reads a file as UTF-8 text; `displayPath` is what messages show.
    public static func read(_ url: URL, displayPath: String, limits: InputLimits = .standard) -> Result<SourceFile, Diagnostic> {
        let start = SourceLocation(file: displayPath, line: 1, column: 1)
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        if size > limits.maxFileBytes {
            return .failure(.error("file is \(size / (1 << 20)) MiB; input files are limited to \(limits.maxFileBytes >> 20) MiB", at: start))
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            return .failure(.error("cannot read the file: \(error.localizedDescription)", at: start))
        }
        if data.count > limits.maxFileBytes {
            return .failure(.error("file is larger than \(limits.maxFileBytes >> 20) MiB", at: start))
        }
        return decode(data, displayPath: displayPath)
    }

    /// Decodes bytes as UTF-8, naming the position of the first invalid byte.
    public static func decode(_ data: Data, displayPath: String) -> Result<SourceFile, Diagnostic> {
        let bytes = [UInt8](data)
        if let bad = firstInvalidUTF8Offset(bytes) {
            let (line, column) = lineAndColumn(of: bad, in: bytes)
            return .failure(.error(String(format: "not UTF-8 text: invalid byte 0x%02X at offset %d (is this a binary file?)", bytes[bad], bad),
                                   at: SourceLocation(file: displayPath, line: line, column: column)))
        }
        if let nul = bytes.firstIndex(of: 0) {
            let (line, column) = lineAndColumn(of: nul, in: bytes)
            return .failure(.error("not text: NUL byte at offset \(nul) (is this a binary file?)",
                                   at: SourceLocation(file: displayPath, line: line, column: column)))
        }
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        return .success(SourceFile(path: displayPath, text: text))
    }

    static func lineAndColumn(of offset: Int, in bytes: [UInt8]) -> (Int, Int) {
        var line = 1, lineStart = 0
        for index in 0..<min(offset, bytes.count) where bytes[index] == 10 {
            line += 1
            lineStart = index + 1
        }
        return (line, offset - lineStart + 1)
    }

    static func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int? {
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            let length: Int
            switch lead {
            case 0x00...0x7F: index += 1; continue
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: return index
            }
            guard index + length <= bytes.count else { return index }
            for continuation in 1..<length where bytes[index + continuation] & 0xC0 != 0x80 { return index }
            let second = bytes[index + 1]
            if (lead == 0xE0 && second < 0xA0) || (lead == 0xED && second > 0x9F)
                || (lead == 0xF0 && second < 0x90) || (lead == 0xF4 && second > 0x8F) { return index }
            index += length
        }
        return nil
    }
}
