/// Checks a YAML node tree against a ``FieldType``: shapes, types, ranges, formats, required and
/// unknown fields. Every problem becomes a diagnostic with its field path; nothing throws.
///
/// The field path (`nodes[3].power.maxW`) is kept as a stack of segments and spelt out only
/// for a diagnostic: building a string per value cost a large share of reading a big inventory.
struct SchemaValidator {
    let file: String
    private(set) var diagnostics: [Diagnostic] = []
    private var budget: Int
    private var budgetExhausted = false
    private let limits: InputLimits
    /// The path given to ``validate(_:as:path:)``, then one segment per level below it.
    private var basePath = ""
    private var segments: [PathSegment] = []

    private enum PathSegment {
        case key(String)
        case index(Int)
    }

    init(file: String, limits: InputLimits = .standard) {
        self.file = file
        self.limits = limits
        self.budget = limits.maxNodesPerDocument
    }

    func location(of node: YAMLNode) -> SourceLocation { node.location(in: file) }

    /// The field path of the value being checked: keys joined by `.`, list indexes as `[i]`.
    private var path: String {
        var text = basePath
        for segment in segments {
            switch segment {
            case .key(let name): text = text.isEmpty ? name : "\(text).\(name)"
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }

    private mutating func error(_ message: String, _ node: YAMLNode) {
        diagnostics.append(.error(message, at: location(of: node), field: path))
    }

    /// Reports at the field `name` below the current path.
    private mutating func error(_ message: String, _ node: YAMLNode, field name: String) {
        segments.append(.key(name))
        error(message, node)
        segments.removeLast()
    }

    mutating func validate(_ node: YAMLNode, as type: FieldType, path: String) {
        let saved = (basePath, segments)
        basePath = path
        segments = []
        check(node, as: type)
        (basePath, segments) = saved
    }

    private mutating func check(_ node: YAMLNode, as type: FieldType) {
        guard !budgetExhausted else { return }
        budget -= 1
        if budget < 0 {
            budgetExhausted = true
            error("document is too large (over \(limits.maxNodesPerDocument) values once aliases are expanded)", node)
            return
        }
        switch type {
        case .string(let format):
            guard let text = scalarText(node, expected: format) else { return }
            if format == .dnsLabel, text.utf8.count > 63 {
                error("is \(text.utf8.count) characters long; a DNS label has at most 63", node)
            } else if !format.check(text) {
                // A value where a secret reference belongs may be the secret itself: never echo it.
                error("expected \(format.expectation), got \(format == .secretReference ? "a literal value (not shown)" : quoted(text))", node)
            }
        case .enumeration(let values):
            guard case .scalar(let scalar) = node, !YAMLValue.isNull(scalar) else {
                return error("expected one of \(values.joined(separator: ", ")), got \(describe(node))", node)
            }
            let text = scalar.text
            if !values.contains(text) {
                let hint = Names.closest(to: text, in: values).map { "; did you mean \(quoted($0))?" } ?? ""
                error("expected one of \(values.joined(separator: ", ")), got \(quoted(text))\(hint)", node)
            }
        case .integer(let minimum, let maximum):
            if case .scalar(let scalar) = node, YAMLValue.isOverflowingInteger(scalar) {
                return error("is out of range, got \(scalar.text)", node)
            }
            guard case .scalar(let scalar) = node, let value = YAMLValue.integer(scalar) else {
                return error("expected \(minimum == 0 ? "a non-negative integer" : "an integer"), got \(describe(node))", node)
            }
            if value < minimum { error("must be at least \(minimum), got \(value)", node) }
            if let maximum, value > maximum { error("must be at most \(maximum), got \(value)", node) }
        case .number(let minimum, let exclusive):
            guard case .scalar(let scalar) = node, let value = YAMLValue.number(scalar) else {
                return error("expected a number, got \(describe(node))", node)
            }
            if exclusive ? value <= minimum : value < minimum {
                error("must be \(exclusive ? "greater than" : "at least") \(format(minimum)), got \(scalar.text)", node)
            }
        case .boolean:
            guard case .scalar(let scalar) = node, YAMLValue.boolean(scalar) != nil else {
                return error("expected true or false, got \(describe(node))", node)
            }
        case .integerOrString:
            guard case .scalar(let scalar) = node, !YAMLValue.isNull(scalar) else {
                return error("expected an integer or a string, got \(describe(node))", node)
            }
        case .object(let schema):
            validateObject(node, schema: schema)
        case .map(let keyFormat, let valueType):
            guard let mapping = mappingOrEmpty(node) else { return }
            for (key, value) in mapping.pairs {
                segments.append(.key(key.text))
                if !keyFormat.check(key.text) {
                    error("key \(quoted(key.text)) is not valid: expected \(keyFormat.expectation)", .scalar(key))
                }
                check(value, as: valueType)
                segments.removeLast()
            }
        case .list(let elementType, let minItems):
            if case .scalar(let scalar) = node, YAMLValue.isNull(scalar) {
                if minItems > 0 { error("must list at least \(minItems) item\(minItems == 1 ? "" : "s")", node) }
                return
            }
            guard case .sequence(let sequence) = node else {
                return error("expected a list, got \(describe(node))", node)
            }
            if sequence.items.count < minItems { error("must list at least \(minItems) item\(minItems == 1 ? "" : "s")", node) }
            for (index, element) in sequence.items.enumerated() {
                segments.append(.index(index))
                check(element, as: elementType)
                segments.removeLast()
            }
        }
    }

    private mutating func validateObject(_ node: YAMLNode, schema: ObjectSchema) {
        guard let mapping = mappingOrEmpty(node) else { return }
        var present: [String] = []
        present.reserveCapacity(mapping.pairs.count)
        var suggested: Set<String> = []
        for (key, value) in mapping.pairs {
            let name = key.text
            guard let field = schema.field(name) else {
                let known = schema.fields.map(\.name)
                let suggestion = Names.closest(to: name, in: known)
                if let suggestion { suggested.insert(suggestion) }
                let hint = suggestion.map { "; did you mean \(quoted($0))?" }
                    ?? "; valid fields: \(known.joined(separator: ", "))"
                error("unknown field \(quoted(name))\(hint)", .scalar(key), field: name)
                continue
            }
            if case .scalar(let scalar) = value, YAMLValue.isNull(scalar), !field.required { continue }
            present.append(name)
            segments.append(.key(name))
            check(value, as: field.type)
            segments.removeLast()
        }
        // A field reported as misspelt is not reported again as missing.
        for field in schema.fields where field.required && !present.contains(field.name) && !suggested.contains(field.name) {
            if mapping.pairs.contains(where: { $0.key.text == field.name }) { continue }  // present but null or invalid: reported above
            error("required field is missing (\(field.summary))", node, field: field.name)
        }
        if !schema.exactlyOneOf.isEmpty {
            let chosen = schema.exactlyOneOf.filter(present.contains)
            if chosen.count != 1 && !(chosen.isEmpty && schema.exactlyOneOf.contains(where: suggested.contains)) {
                let options = schema.exactlyOneOf.joined(separator: ", ")
                error(chosen.isEmpty ? "needs exactly one of \(options)" : "takes exactly one of \(options), got \(chosen.joined(separator: " and "))", node)
            }
        }
        if !schema.atMostOneOf.isEmpty {
            let exclusive = schema.atMostOneOf.filter(present.contains)
            if exclusive.count > 1 {
                error("takes at most one of \(schema.atMostOneOf.joined(separator: ", ")), got \(exclusive.joined(separator: " and "))", node)
            }
        }
    }

    /// The mapping, treating a null scalar as empty; reports anything else.
    private mutating func mappingOrEmpty(_ node: YAMLNode) -> YAMLMapping? {
        switch node {
        case .mapping(let mapping): return mapping
        case .scalar(let scalar) where YAMLValue.isNull(scalar): return YAMLMapping(pairs: [], line: scalar.line, column: scalar.column)
        default:
            error("expected a mapping, got \(describe(node))", node)
            return nil
        }
    }

    private mutating func scalarText(_ node: YAMLNode, expected format: StringFormat) -> String? {
        guard case .scalar(let scalar) = node, !YAMLValue.isNull(scalar) else {
            error("expected \(format.expectation), got \(describe(node))", node)
            return nil
        }
        return scalar.text
    }
}

func quoted(_ text: String) -> String {
    let shown = text.count > 60 ? String(text.prefix(57)) + "..." : text
    return "\"\(shown)\""
}

/// A short description of a YAML value for messages: `a list`, `the string "abc"`, `-1`.
func describe(_ node: YAMLNode) -> String {
    switch node {
    case .mapping: return "a mapping"
    case .sequence: return "a list"
    case .scalar(let scalar):
        if YAMLValue.isNull(scalar) { return "nothing (null)" }
        if scalar.style == .plain { return quoted(scalar.text) }
        return "the string \(quoted(scalar.text))"
    }
}

func format(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
}
