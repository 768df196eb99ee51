import CLibYAML

/// Builds ``YAMLNode`` documents from libyaml's event stream, iteratively (no recursion, so no
/// stack to overflow), refusing what no manifest needs: nesting deeper than a limit, aliases
/// that expand past a budget ("billion laughs"), and keys that are not scalars. Duplicate keys
/// are reported at the repeated key and the rest of the file is still read.
struct YAMLComposer {
    let file: String
    let limits: InputLimits

    private struct Frame {
        enum Kind { case mapping, sequence }
        var kind: Kind
        var line: Int
        var column: Int
        var anchor: String?
        var items: [YAMLNode] = []
        var pairs: [(key: YAMLScalar, value: YAMLNode)] = []
        var pendingKey: YAMLScalar?
        /// Set when the key at hand was not a scalar: its value is skipped.
        var skipValue = false
        /// Where each key of a large mapping sits in `pairs` (built once it has
        /// ``Frame/indexThreshold`` pairs; a small mapping's keys are found by a scan).
        var keyIndex: [String: Int] = [:]
        var size = 1

        static let indexThreshold = 16

        /// The earlier pair with this key, if any.
        func firstPair(withKey key: String) -> YAMLScalar? {
            if pairs.count < Self.indexThreshold {
                for pair in pairs where pair.key.text == key { return pair.key }
                return nil
            }
            return keyIndex[key].map { pairs[$0].key }
        }

        mutating func appendPair(_ key: YAMLScalar, _ value: YAMLNode) {
            pairs.append((key, value))
            if pairs.count == Self.indexThreshold {
                for (index, pair) in pairs.enumerated() { keyIndex[pair.key.text] = index }
            } else if pairs.count > Self.indexThreshold {
                keyIndex[key.text] = pairs.count - 1
            }
        }

        /// The step from this collection to the child being built: its key, or `[index]`.
        var segment: String? {
            kind == .mapping ? pendingKey?.text : "[\(items.count)]"
        }
    }

    /// The field path of the collection being built on top of `stack`, for messages.
    private func fieldPath(_ stack: [Frame]) -> [String] { stack.compactMap(\.segment) }

    func compose(_ text: String) -> (documents: [YAMLDocument], diagnostics: [Diagnostic]) {
        var documents: [YAMLDocument] = []
        var diagnostics: [Diagnostic] = []
        var bytes = Array(text.utf8)
        if bytes.isEmpty { return ([], []) }
        bytes.withUnsafeMutableBufferPointer { buffer in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else {
                diagnostics.append(.error("YAML: out of memory", at: SourceLocation(file: file, line: 1, column: 1)))
                return
            }
            defer { yaml_parser_delete(&parser) }
            // A libyaml with a nesting limit of its own has it raised above ours (see CLibYAML's
            // shim.h); Debian's 0.2.5 has none (its stacks are on the heap, bounded by the input
            // size limit), so ours, below, decides.
            dcapply_yaml_raise_nesting_limit(Int32(max(2000, limits.maxNesting * 10)))
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)

            var stack: [Frame] = []
            // One pairs buffer per depth, reused from mapping to mapping: a mapping's pairs are
            // gathered there and copied out once at its end, at their exact size, instead of
            // growing a new array 1, 2, 4, 8 for every mapping (decision 443).
            var scratchPairs: [[(key: YAMLScalar, value: YAMLNode)]] = []
            var anchors: [String: (node: YAMLNode, size: Int)] = [:]
            var root: YAMLNode?
            var documentSize = 0
            var abandoned = false  // the document broke a limit: skip to its end

            func at(_ line: Int, _ column: Int) -> SourceLocation { SourceLocation(file: file, line: line, column: column) }
            func mark(_ m: yaml_mark_t) -> (Int, Int) { (Int(m.line) + 1, Int(m.column) + 1) }
            func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
                pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            }

            /// Hands a finished node to its parent (or makes it the root).
            func deliver(_ node: YAMLNode, size: Int, anchor: String?) {
                if let anchor { anchors[anchor] = (node, size) }
                guard !stack.isEmpty else {
                    root = node
                    return
                }
                // The parent is changed in place: a Frame is not moved out and back per value.
                let top = stack.count - 1
                if let (key, first) = updateParent(&stack[top], node, size: size) {
                    let path = (fieldPath(Array(stack[..<top])) + [key.text]).joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
                    diagnostics.append(.error("duplicate key \(quoted(key.text)); first at line \(first.line), column \(first.column)",
                                              at: at(key.line, key.column), field: path))
                }
            }

            /// Adds the node to its parent; returns the key and its first occurrence when the
            /// key is a duplicate (the caller reports it: the stack is borrowed here).
            func updateParent(_ parent: inout Frame, _ node: YAMLNode, size: Int) -> (key: YAMLScalar, first: YAMLScalar)? {
                parent.size = min(parent.size &+ size, Int.max / 2)
                switch parent.kind {
                case .sequence:
                    parent.items.append(node)
                case .mapping:
                    if parent.skipValue {
                        parent.skipValue = false
                    } else if let key = parent.pendingKey {
                        parent.pendingKey = nil
                        if let first = parent.firstPair(withKey: key.text) {
                            return (key, first)
                        } else {
                            parent.appendPair(key, node)
                        }
                    } else if case .scalar(let key) = node {
                        parent.pendingKey = key
                    } else {
                        diagnostics.append(.error("mapping keys must be strings, got \(node.kindDescription)", at: at(node.line, node.column)))
                        parent.skipValue = true
                    }
                }
                return nil
            }

            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    var (line, column) = mark(parser.problem_mark)
                    if parser.error == YAML_READER_ERROR {
                        // Reader errors carry a byte offset, not a mark.
                        (line, column) = SourceReader.lineAndColumn(of: Int(parser.problem_offset), in: Array(buffer))
                    }
                    var problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
                    var context = parser.context.map { " \(String(cString: $0))" } ?? ""
                    if problem.hasPrefix("Maximum nesting level") {
                        problem = "nesting is deeper than libyaml's limit; no input file needs this"
                        context = ""
                    } else if parser.error == YAML_READER_ERROR, parser.problem_value >= 0 {
                        problem += String(format: " (character 0x%02X)", parser.problem_value)
                    }
                    diagnostics.append(.error("YAML syntax: \(problem)\(context)", at: at(line, column)))
                    return
                }
                defer { yaml_event_delete(&event) }
                let (line, column) = mark(event.start_mark)
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return
                case YAML_DOCUMENT_START_EVENT:
                    stack = []; anchors = [:]; root = nil; documentSize = 0; abandoned = false
                case YAML_DOCUMENT_END_EVENT:
                    if !abandoned, let root, !(root.scalar?.isNull ?? false) {
                        documents.append(YAMLDocument(file: file, root: root, start: root.location(in: file)))
                    }
                case _ where abandoned:
                    continue
                case YAML_SCALAR_EVENT:
                    let scalar = event.data.scalar
                    let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
                    var style: YAMLScalar.Style
                    switch scalar.style {
                    case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
                    case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
                    case YAML_LITERAL_SCALAR_STYLE: style = .literal
                    case YAML_FOLDED_SCALAR_STYLE: style = .folded
                    default: style = .plain
                    }
                    if let tag = scalar.tag, Self.isStringTag(tag) {
                        style = .doubleQuoted  // `!!str 8` is a string
                    }
                    documentSize += 1
                    deliver(.scalar(YAMLScalar(text: text, style: style, line: line, column: column)), size: 1, anchor: string(scalar.anchor))
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    if stack.count >= limits.maxNesting {
                        diagnostics.append(.error("nesting is deeper than \(limits.maxNesting) levels; no input file needs this", at: at(line, column)))
                        return  // the rest of the file cannot be read reliably
                    }
                    let isSequence = event.type == YAML_SEQUENCE_START_EVENT
                    let anchor = isSequence ? string(event.data.sequence_start.anchor) : string(event.data.mapping_start.anchor)
                    documentSize += 1
                    var frame = Frame(kind: isSequence ? .sequence : .mapping, line: line, column: column, anchor: anchor)
                    if !isSequence, stack.count < scratchPairs.count { swap(&frame.pairs, &scratchPairs[stack.count]) }
                    stack.append(frame)
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    guard var frame = stack.popLast() else { continue }
                    let node: YAMLNode
                    if frame.kind == .sequence {
                        node = .sequence(YAMLSequence(items: frame.items, line: frame.line, column: frame.column))
                    } else {
                        var pairs: [(key: YAMLScalar, value: YAMLNode)] = []
                        pairs.reserveCapacity(frame.pairs.count)
                        pairs.append(contentsOf: frame.pairs)
                        node = .mapping(YAMLMapping(pairs: pairs, line: frame.line, column: frame.column))
                        frame.pairs.removeAll(keepingCapacity: true)
                        while scratchPairs.count <= stack.count { scratchPairs.append([]) }
                        swap(&frame.pairs, &scratchPairs[stack.count])
                    }
                    deliver(node, size: frame.size, anchor: frame.anchor)
                case YAML_ALIAS_EVENT:
                    let name = string(event.data.alias.anchor) ?? ""
                    guard let (node, size) = anchors[name] else {
                        diagnostics.append(.error("alias *\(name) refers to no anchor defined before it", at: at(line, column)))
                        abandoned = true
                        stack = []
                        continue
                    }
                    documentSize = min(documentSize &+ size, Int.max / 2)
                    if documentSize > limits.maxNodesPerDocument {
                        diagnostics.append(.error("aliases expand this document past \(limits.maxNodesPerDocument) values; no input file needs this", at: at(line, column)))
                        abandoned = true
                        stack = []
                        continue
                    }
                    deliver(node, size: size, anchor: nil)
                default:
                    break
                }
            }
        }
        return (documents, diagnostics)
    }
}

extension YAMLComposer {
    private static let stringTag = Array("tag:yaml.org,2002:str".utf8)

    /// Whether libyaml's NUL-terminated tag is `tag:yaml.org,2002:str` (compared in place:
    /// most scalars have no tag, and a tag need not become a String).
    static func isStringTag(_ tag: UnsafePointer<yaml_char_t>) -> Bool {
        for (offset, byte) in stringTag.enumerated() where tag[offset] != byte { return false }
        return tag[stringTag.count] == 0
    }
}

extension YAMLNode {
    var kindDescription: String {
        switch self {
        case .scalar: "a scalar"
        case .mapping: "a mapping"
        case .sequence: "a list"
        }
    }
}
