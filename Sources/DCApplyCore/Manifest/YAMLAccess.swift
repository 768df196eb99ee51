import Yams

/// Read access to a node tree that has already passed ``SchemaValidator``.
extension Yams.Node {
    func field(_ name: String) -> Yams.Node? {
        guard case .mapping(let mapping) = self else { return nil }
        for (key, value) in mapping where key.scalar?.string == name {
            if case .scalar(let scalar) = value, YAMLValue.isNull(scalar) { return nil }
            return value
        }
        return nil
    }

    var text: String? {
        guard case .scalar(let scalar) = self, !YAMLValue.isNull(scalar) else { return nil }
        return scalar.string
    }

    var integer: Int? { scalar.flatMap(YAMLValue.integer) }
    var number: Double? { scalar.flatMap(YAMLValue.number) }
    var boolean: Bool? { scalar.flatMap(YAMLValue.boolean) }

    var elements: [Yams.Node] {
        if case .sequence(let sequence) = self { return Array(sequence) }
        return []
    }

    var entries: [(key: String, value: Yams.Node)] {
        guard case .mapping(let mapping) = self else { return [] }
        return mapping.compactMap { pair in pair.key.scalar.map { ($0.string, pair.value) } }
    }

    var textList: [String] { elements.compactMap(\.text) }

    var textMap: [String: String] {
        var map: [String: String] = [:]
        for (key, value) in entries { map[key] = value.text ?? "" }
        return map
    }

    var numberMap: [String: Double] {
        var map: [String: Double] = [:]
        for (key, value) in entries { if let number = value.number { map[key] = number } }
        return map
    }
}
