/// One loss to rehearse: a single node (`node=gpu-r01-n01`), or every node whose label has a
/// value (`rack=r07`, `row=2`, `leafSwitch=leaf-a1`).
///
/// Pure: it names nodes and marks them failed in a copy of the observed state; it never writes
/// to a store or a provider.
public struct FailureScenario: Hashable, Sendable, CustomStringConvertible {
    /// What fails.
    public enum Target: Hashable, Sendable {
        /// One node, by name.
        case node(String)
        /// Every node whose label `key` has `value`.
        case label(key: String, value: String)
    }

    public var target: Target

    public init(_ target: Target) {
        self.target = target
    }

    /// Parses `node=NAME` or `LABELKEY=VALUE`. The key `node` always means the node's name.
    public init(parsing text: String) throws {
        guard let equals = text.firstIndex(of: "=") else {
            throw DCApplyError(.usage, "cannot read the failure \(quoted(text)): expected key=value, such as rack=r07 or node=gpu-r01-n01")
        }
        let key = String(text[..<equals]).trimmingWhitespace()
        let value = String(text[text.index(after: equals)...]).trimmingWhitespace()
        guard !key.isEmpty else {
            throw DCApplyError(.usage, "cannot read the failure \(quoted(text)): the key before '=' is empty; use node=NAME or a label key such as rack=r07")
        }
        guard !value.isEmpty else {
            throw DCApplyError(.usage, "cannot read the failure \(quoted(text)): the value after '=' is empty, as in \(key)=VALUE")
        }
        if key == "node" {
            target = .node(value)
            return
        }
        guard Names.isLabelKey(key) else {
            throw DCApplyError(.usage, "cannot read the failure \(quoted(text)): \(quoted(key)) is not a label key (letters, digits and -_./, starting and ending with a letter or digit)")
        }
        target = .label(key: key, value: value)
    }

    /// `node=NAME` or `key=value`, as written on the command line.
    public var description: String {
        switch target {
        case .node(let name): "node=\(name)"
        case .label(let key, let value): "\(key)=\(value)"
        }
    }

    /// Whether the scenario takes this node down.
    public func matches(_ node: ObservedNode) -> Bool {
        switch target {
        case .node(let name): node.name == name
        case .label(let key, let value): node.labels[key] == value
        }
    }

    /// The names of the nodes this scenario takes down, sorted; throws when it names none, with
    /// what does exist and a "did you mean".
    public func nodes(in observed: ObservedState) throws -> [String] {
        let matched = observed.sortedNodes.filter(matches).map(\.name)
        guard matched.isEmpty else { return matched }
        switch target {
        case .node(let name):
            let hint = Names.closest(to: name, in: observed.sortedNodes.map(\.name)).map { "; did you mean \(quoted($0))?" } ?? ""
            throw DCApplyError(.usage, "no node \(quoted(name)) in the inventory\(hint)")
        case .label(let key, let value):
            let values = Set(observed.nodes.values.compactMap { $0.labels[key] }).sorted()
            if values.isEmpty {
                let keys = Set(observed.nodes.values.flatMap(\.labels.keys)).sorted()
                let hint = Names.closest(to: key, in: keys).map { "; did you mean \(quoted($0))?" } ?? ""
                let known = keys.isEmpty ? "no node has labels" : "labels on nodes: \(Self.list(keys))"
                throw DCApplyError(.usage, "no node has the label \(quoted(key)) (\(known))\(hint)")
            }
            let hint = Names.closest(to: value, in: values).map { "; did you mean \(quoted("\(key)=\($0)"))?" } ?? ""
            throw DCApplyError(.usage, "no node has \(key)=\(value) (\(key) values: \(Self.list(values)))\(hint)")
        }
    }

    /// A copy of `observed` with every matching node's health set to failed.
    public func apply(to observed: ObservedState) -> ObservedState {
        var result = observed
        for (name, node) in observed.nodes where matches(node) {
            result.nodes[name]?.health = .failed
        }
        return result
    }

    /// Every scenario applied in turn: the union of their losses.
    public static func apply(_ scenarios: [FailureScenario], to observed: ObservedState) -> ObservedState {
        scenarios.reduce(observed) { $1.apply(to: $0) }
    }

    /// At most twelve names, then how many more: a room can hold hundreds of racks.
    static func list(_ names: [String]) -> String {
        let shown = names.prefix(12).joined(separator: ", ")
        return names.count > 12 ? "\(shown) and \(names.count - 12) more" : shown
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
