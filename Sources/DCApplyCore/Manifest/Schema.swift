/// A declarative description of a manifest's fields.
///
/// One table drives both validation (types, ranges, unknown fields with "did you mean") and the
/// JSON Schema that `dcapply schema` prints, so the two cannot drift apart.
public indirect enum FieldType: Sendable {
    /// Any scalar, read as text; `format` adds a check.
    case string(StringFormat = .any)
    case enumeration([String])
    case integer(minimum: Int = 0, maximum: Int? = nil)
    case number(minimum: Double = 0, exclusiveMinimum: Bool = false)
    case boolean
    case object(ObjectSchema)
    case map(key: StringFormat, value: FieldType)
    case list(FieldType, minItems: Int = 0)
    /// An integer, or a string such as "r01" (inventory template racks).
    case integerOrString
}

/// Checks on strings.
public enum StringFormat: Sendable, Equatable {
    case any
    case dnsLabel
    case labelKey
    case resourceKey
    case duration
    case secretReference

    /// What a valid value looks like, for messages.
    var expectation: String {
        switch self {
        case .any: "a string"
        case .dnsLabel: "a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"
        case .labelKey: "a label key: letters, digits, '-', '_', '.', '/', at most 253 characters"
        case .resourceKey: "a resource key made of [a-zA-Z][a-zA-Z0-9]*"
        case .duration: "a duration such as 90s, 5m or 1h30m"
        case .secretReference: "a reference env:NAME or file:PATH (never a literal secret)"
        }
    }

    /// nil when valid, else the reason.
    func check(_ value: String) -> Bool {
        switch self {
        case .any: true
        case .dnsLabel: Names.isDNSLabel(value)
        case .labelKey: Names.isLabelKey(value)
        case .resourceKey: Names.isResourceKey(value)
        case .duration: Duration.parse(value) != nil
        case .secretReference: Names.isSecretReference(value)
        }
    }

    var jsonPattern: String? {
        switch self {
        case .any: nil
        case .dnsLabel: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
        case .labelKey: "^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$"
        case .resourceKey: "^[a-zA-Z][a-zA-Z0-9]*$"
        case .duration: "^([0-9]+(ms|s|m|h))+$"
        case .secretReference: "^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$"
        }
    }
}

/// One field of an object.
public struct FieldSchema: Sendable {
    public var name: String
    public var type: FieldType
    public var required: Bool
    public var summary: String

    public init(_ name: String, _ type: FieldType, required: Bool = false, _ summary: String) {
        self.name = name
        self.type = type
        self.required = required
        self.summary = summary
    }
}

/// The fields of a YAML mapping, and which of them exclude each other.
public struct ObjectSchema: Sendable {
    public var fields: [FieldSchema]
    /// Exactly one of these fields must be present.
    public var exactlyOneOf: [String]
    /// At most one of these fields may be present.
    public var atMostOneOf: [String]

    public init(_ fields: [FieldSchema], exactlyOneOf: [String] = [], atMostOneOf: [String] = []) {
        self.fields = fields
        self.exactlyOneOf = exactlyOneOf
        self.atMostOneOf = atMostOneOf
    }

    public func field(_ name: String) -> FieldSchema? { fields.first { $0.name == name } }
}
