/// A YAML value with its position: what the manifest reader works on.
///
/// dcapply composes this tree itself from libyaml's events (``YAMLComposer``) so that depth,
/// alias expansion and mapping keys are bounded and checked before anything recursive runs.
public enum YAMLNode: Sendable {
    case scalar(YAMLScalar)
    case mapping(YAMLMapping)
    case sequence(YAMLSequence)

    public var line: Int {
        switch self {
        case .scalar(let scalar): scalar.line
        case .mapping(let mapping): mapping.line
        case .sequence(let sequence): sequence.line
        }
    }

    public var column: Int {
        switch self {
        case .scalar(let scalar): scalar.column
        case .mapping(let mapping): mapping.column
        case .sequence(let sequence): sequence.column
        }
    }

    public var scalar: YAMLScalar? {
        if case .scalar(let scalar) = self { return scalar }
        return nil
    }

    func location(in file: String) -> SourceLocation { SourceLocation(file: file, line: line, column: column) }
}

public struct YAMLScalar: Sendable {
    public enum Style: Sendable { case plain, singleQuoted, doubleQuoted, literal, folded }
    public var text: String
    public var style: Style
    public var line: Int
    public var column: Int

    /// Plain `~`, `null` or nothing. (A `switch` on the text: an array literal here was built
    /// on every call, and this is asked several times per value of a large inventory.)
    public var isNull: Bool {
        guard style == .plain else { return false }
        switch text {
        case "", "~", "null", "Null", "NULL": return true
        default: return false
        }
    }
}

public struct YAMLMapping: Sendable {
    /// Keys are scalars; the composer rejects others.
    public var pairs: [(key: YAMLScalar, value: YAMLNode)]
    public var line: Int
    public var column: Int
}

public struct YAMLSequence: Sendable {
    public var items: [YAMLNode]
    public var line: Int
    public var column: Int
}
