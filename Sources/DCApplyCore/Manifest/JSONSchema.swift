import Foundation

/// The JSON Schema (draft 2020-12) of the manifests, generated from ``ManifestSchemas``.
public enum JSONSchema {
    public static func manifests() -> String {
        var definitions: [String: Any] = [:]
        for kind in Kind.allCases {
            definitions[kind.rawValue] = object(ManifestSchemas.document(of: kind))
        }
        definitions["Inventory"] = object(ManifestSchemas.inventory)
        let root: [String: Any] = [
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://dcapply.dev/schemas/v1/manifests.json",
            "title": "dcapply manifests, \(ManifestSchemas.apiVersion)",
            "oneOf": (Kind.allCases.map(\.rawValue) + ["Inventory"]).map { ["$ref": "#/$defs/\($0)"] },
            "$defs": definitions,
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    static func object(_ schema: ObjectSchema) -> [String: Any] {
        var properties: [String: Any] = [:]
        for field in schema.fields {
            var property = type(field.type)
            property["description"] = field.summary
            properties[field.name] = property
        }
        var result: [String: Any] = ["type": "object", "properties": properties, "additionalProperties": false]
        let required = schema.fields.filter(\.required).map(\.name)
        if !required.isEmpty { result["required"] = required }
        if !schema.exactlyOneOf.isEmpty { result["oneOf"] = schema.exactlyOneOf.map { ["required": [$0]] } }
        if schema.atMostOneOf.count > 1 {
            result["not"] = ["required": schema.atMostOneOf]
        }
        return result
    }

    static func type(_ type: FieldType) -> [String: Any] {
        switch type {
        case .string(let format):
            // Plain scalars (`row: 1`) are read as their text, as the validator does.
            var result: [String: Any] = ["type": format == .any ? ["string", "number", "boolean"] : "string"]
            if let pattern = format.jsonPattern { result["pattern"] = pattern }
            if format == .dnsLabel { result["maxLength"] = 63 }
            return result
        case .enumeration(let values): return ["type": "string", "enum": values]
        case .integer(let minimum, let maximum):
            var result: [String: Any] = ["type": "integer", "minimum": minimum]
            if let maximum { result["maximum"] = maximum }
            return result
        case .number(let minimum, let exclusive):
            return exclusive ? ["type": "number", "exclusiveMinimum": minimum] : ["type": "number", "minimum": minimum]
        case .boolean: return ["type": "boolean"]
        case .object(let schema): return object(schema)
        case .map(let key, let value):
            var result: [String: Any] = ["type": "object", "additionalProperties": self.type(value)]
            if let pattern = key.jsonPattern { result["propertyNames"] = ["pattern": pattern] }
            return result
        case .list(let element, let minItems):
            var result: [String: Any] = ["type": "array", "items": self.type(element)]
            if minItems > 0 { result["minItems"] = minItems }
            return result
        case .integerOrString: return ["type": ["integer", "string"]]
        }
    }
}
