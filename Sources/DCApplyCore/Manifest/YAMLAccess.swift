/// Read access to a node tree that has already passed ``SchemaValidator``.
extension YAMLNode {
    func field(_ name: String) -> YAMLNode? {
        guard case .mapping(let mapping) = self else { return nil }
        for pair in mapping.pairs where pair.key.text == name {
            if case .scalar(let scalar) = pair.value, scalar.isNull { return nil }
            return pair.value
        }
        return nil
    }

    var text: String? {
        guard case .scalar(let scalar) = self, !scalar.isNull else { return nil }
        return scalar.text
    }

    var integer: Int? { scalar.flatMap(YAMLValue.integer) }
    var number: Double? { scalar.flatMap(YAMLValue.number) }
    var boolean: Bool? { scalar.flatMap(YAMLValue.boolean) }

    var elements: [YAMLNode] {
        if case .sequence(let sequence) = self { return sequence.items }
        return []
    }

    var entries: [(key: String, value: YAMLNode)] {
        guard case .mapping(let mapping) = self else { return [] }
        return mapping.pairs.map { ($0.key.text, $0.value) }
    }

    var textList: [String] { elements.compactMap(\.text) }

    var textMap: [String: String] {
        guard case .mapping(let mapping) = self else { return [:] }
        var map: [String: String] = [:]
        map.reserveCapacity(mapping.pairs.count)
        for pair in mapping.pairs { map[pair.key.text] = pair.value.text ?? "" }
        return map
    }

    var numberMap: [String: Double] {
        guard case .mapping(let mapping) = self else { return [:] }
        var map: [String: Double] = [:]
        map.reserveCapacity(mapping.pairs.count)
        for pair in mapping.pairs { if let number = pair.value.number { map[pair.key.text] = number } }
        return map
    }
}
