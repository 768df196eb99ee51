/// Checks a YAML node tree against a ``FieldType``: shapes, types, ranges, formats, required and
/// unknown fields. Every problem becomes a diagnostic with its field path; nothing throws.
struct SchemaValidator {
    let file: String
    private(set) var diagnostics: [Diagnostic] = []
    private var budget: Int
    private var budgetExhausted = false
    private let limits: InputLimits

    init(file: String, limits: InputLimits = .standard) {
        self.file = file
        self.limits = limits
        self.budget = limits.maxNodesPerDocument
    }

    func location(of node: YAMLNode) -> SourceLocation { node.location(in: file) }

    mutating func error(_ message: String, _ node: YAMLNode, _ path: String) {
        diagnostics.append(.error(message, at: location(of: node), field: path))
    }

    mutating func validate(_ node: YAMLNode, as type: FieldType, path: String) {
        guard !budgetExhausted else { return }
        budget -= 1
        if budget < 0 {
            budgetExhausted = true
            error("document is too large (over \(limits.maxNodesPerDocument) values once aliases are expanded)", node, path)
            return
        }
        switch type {
        case .string(let format):
            guard let text = scalarText(node, path: path, expected: format.expectation) else { return }
            if format == .dnsLabel, text.utf8.count > 63 {
                error("is \(text.utf8.count) characters long; a DNS label has at most 63", node, path)
            } else if !format.check(text) {
                // A value where a secret reference belongs may be the secret itself: never echo it.
                error("expected \(format.expectation), got \(format == .secretReference ? "a literal value (not shown)" : quoted(text))", node, path)
            }
        case .enumeration(let values):
            guard let text = scalarText(node, path: path, expected: "one of \(values.joined(separator: ", "))") else { return }
            if !values.contains(text) {
                let hint = Names.closest(to: text, in: values).map { "; did you mean \(quoted($0))?" } ?? ""
                error("expected one of \(values.joined(separator: ", ")), got \(quoted(text))\(hint)", node, path)
            }
        case .integer(let minimum, let maximum):
            if case .scalar(let scalar) = node, YAMLValue.isOverflowingInteger(scalar) {
                return error("is out of range, got \(scalar.text)", node, path)
            }
            guard case .scalar(let scalar) = node, let value = YAMLValue.integer(scalar) else {
                return error("expected \(minimum == 0 ? "a non-negative integer" : "an integer"), got \(describe(node))", node, path)
            }
            if value < minimum { error("must be at least \(minimum), got \(value)", node, path) }
            if let maximum, value > maximum { error("must be at most \(maximum), got \(value)", node, path) }
        case .number(let minimum, let exclusive):
            guard case .scalar(let scalar) = node, let value = YAMLValue.number(scalar) else {
                return error("expected a number, got \(describe(node))", node, path)
            }
            if exclusive ? value <= minimum : value < minimum {
                error("must be \(exclusive ? "greater than" : "at least") \(format(minimum)), got \(scalar.text)", node, path)
            }
        case .boolean:
            guard case .scalar(let scalar) = node, YAMLValue.boolean(scalar) != nil else {
                return error("expected true or false, got \(describe(node))", node, path)
            }
        case .integerOrString:
            guard case .scalar(let scalar) = node, !YAMLValue.isNull(scalar) else {
                return error("expected an integer or a string, got \(describe(node))", node, path)
            }
        case .object(let schema):
            validateObject(node, schema: schema, path: path)
        case .map(let keyFormat, let valueType):
            guard let mapping = mappingOrEmpty(node, path: path) else { return }
            for (key, value) in mapping.pairs {
                let keyPath = path.isEmpty ? key.text : "\(path).\(key.text)"
                if !keyFormat.check(key.text) {
                    error("key \(quoted(key.text)) is not valid: expected \(keyFormat.expectation)", .scalar(key), keyPath)
                }
                validate(value, as: valueType, path: keyPath)
            }
        case .list(let elementType, let minItems):
            if case .scalar(let scalar) = node, YAMLValue.isNull(scalar) {
                if minItems > 0 { error("must list at least \(minItems) item\(minItems == 1 ? "" : "s")", node, path) }
                return
            }
            guard case .sequence(let sequence) = node else {
                return error("expected a list, got \(describe(node))", node, path)
            }
            if sequence.items.count < minItems { error("must list at least \(minItems) item\(minItems == 1 ? "" : "s")", node, path) }
            for (index, element) in sequence.items.enumerated() {
                validate(element, as: elementType, path: "\(path)[\(index)]")
            }
        }
    }

    private mutating func validateObject(_ node: YAMLNode, schema: ObjectSchema, path: String) {
        guard let mapping = mappingOrEmpty(node, path: path) else { return }
        var present: [String] = []
        var suggested: Set<String> = []
        let known = schema.fields.map(\.name)
        for (key, value) in mapping.pairs {
            let name = key.text
            let fieldPath = path.isEmpty ? name : "\(path).\(name)"
            guard let field = schema.field(name) else {
                let suggestion = Names.closest(to: name, in: known)
                if let suggestion { suggested.insert(suggestion) }
                let hint = suggestion.map { "; did you mean \(quoted($0))?" }
                    ?? "; valid fields: \(known.joined(separator: ", "))"
                error("unknown field \(quoted(name))\(hint)", .scalar(key), fieldPath)
                continue
            }
            if case .scalar(let scalar) = value, YAMLValue.isNull(scalar), !field.required { continue }
            present.append(name)
            validate(value, as: field.type, path: fieldPath)
        }
        // A field reported as misspelt is not reported again as missing.
        for field in schema.fields where field.required && !present.contains(field.name) && !suggested.contains(field.name) {
            let fieldPath = path.isEmpty ? field.name : "\(path).\(field.name)"
            if mapping.pairs.contains(where: { $0.key.text == field.name }) { continue }  // present but null or invalid: reported above
            error("required field is missing (\(field.summary))", node, fieldPath)
        }
        if !schema.exactlyOneOf.isEmpty {
            let chosen = schema.exactlyOneOf.filter(present.contains)
            if chosen.count != 1 && !(chosen.isEmpty && schema.exactlyOneOf.contains(where: suggested.contains)) {
                let options = schema.exactlyOneOf.joined(separator: ", ")
                error(chosen.isEmpty ? "needs exactly one of \(options)" : "takes exactly one of \(options), got \(chosen.joined(separator: " and "))", node, path)
            }
        }
        let exclusive = schema.atMostOneOf.filter(present.contains)
        if exclusive.count > 1 {
            error("takes at most one of \(schema.atMostOneOf.joined(separator: ", ")), got \(exclusive.joined(separator: " and "))", node, path)
        }
    }

    /// The mapping, treating a null scalar as empty; reports anything else.
    private mutating func mappingOrEmpty(_ node: YAMLNode, path: String) -> YAMLMapping? {
        switch node {
        case .mapping(let mapping): return mapping
        case .scalar(let scalar) where YAMLValue.isNull(scalar): return YAMLMapping(pairs: [], line: scalar.line, column: scalar.column)
        default:
            error("expected a mapping, got \(describe(node))", node, path)
            return nil
        }
    }

    private mutating func scalarText(_ node: YAMLNode, path: String, expected: String) -> String? {
        guard case .scalar(let scalar) = node, !YAMLValue.isNull(scalar) else {
            error("expected \(expected), got \(describe(node))", node, path)
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
