/// What changed between two sets of manifests, resource by resource and field by field:
/// `HardwarePool/train-h100: spec.size.gpus 256 → 384`.
///
/// Pure: it takes file contents and compares the YAML trees, so it works on manifests that do
/// not validate (a reviewer still wants to see the change). Resources are keyed by
/// `Kind/name`; an Inventory document by `Inventory/<file>`. A list of mappings that each carry
/// a `name` is compared by name (`nodes[gpu-r01-n01].health`), other lists by index, and a
/// list of scalars as one value (`[rack, row]`).
public enum ManifestDiff {
    /// One field that differs; nil on a side means the field is absent there.
    public struct FieldChange: Sendable, Hashable {
        public var path: String
        public var before: String?
        public var after: String?

        public init(path: String, before: String?, after: String?) {
            self.path = path
            self.before = before
            self.after = after
        }
    }

    /// One resource that was added, removed or modified.
    public struct ResourceChange: Sendable, Hashable {
        public enum Kind: String, Sendable { case added, removed, modified }
        public var resource: String
        public var kind: Kind
        /// The fields that differ; for an added or removed resource, every field it has.
        public var fields: [FieldChange]
        /// Where the resource is declared: the head's file for added and modified, the base's for removed.
        public var location: SourceLocation?
    }

    /// Resources in both, changed fields only, in byte order of `Kind/name`.
    public static func compare(base: [SourceFile], head: [SourceFile], limits: InputLimits = .standard) -> [ResourceChange] {
        let before = resources(in: base, limits: limits)
        let after = resources(in: head, limits: limits)
        var changes: [ResourceChange] = []
        for address in Set(before.keys).union(after.keys).sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            switch (before[address], after[address]) {
            case (nil, let added?):
                changes.append(ResourceChange(resource: address, kind: .added, fields: added.fields.map { FieldChange(path: $0.key, before: nil, after: $0.value) }.sorted { $0.path < $1.path },
                                              location: added.location))
            case (let removed?, nil):
                changes.append(ResourceChange(resource: address, kind: .removed, fields: removed.fields.map { FieldChange(path: $0.key, before: $0.value, after: nil) }.sorted { $0.path < $1.path },
                                              location: removed.location))
            case (let old?, let new?):
                var fields: [FieldChange] = []
                for path in Set(old.fields.keys).union(new.fields.keys).sorted() where old.fields[path] != new.fields[path] {
                    fields.append(FieldChange(path: path, before: old.fields[path], after: new.fields[path]))
                }
                if !fields.isEmpty { changes.append(ResourceChange(resource: address, kind: .modified, fields: fields, location: new.location)) }
            case (nil, nil):
                break
            }
        }
        return changes
    }

    struct Resource {
        var fields: [String: String]
        var location: SourceLocation
    }

    /// Every resource of the files, flattened to field paths. Unreadable documents are skipped:
    /// validation reports them.
    static func resources(in sources: [SourceFile], limits: InputLimits) -> [String: Resource] {
        var found: [String: Resource] = [:]
        for source in sources {
            let (documents, _) = YAMLDocuments.parse(source, limits: limits)
            for (index, document) in documents.enumerated() {
                guard case .mapping = document.root, let kind = document.root.field("kind")?.text else { continue }
                let name: String
                if kind == "Inventory" {
                    name = documents.count == 1 ? source.path : "\(source.path)#\(index + 1)"
                } else if let declared = document.root.field("metadata")?.field("name")?.text {
                    name = declared
                } else {
                    continue
                }
                var fields: [String: String] = [:]
                for (key, value) in document.root.entries where key != "kind" && key != "apiVersion" {
                    flatten(value, path: key, into: &fields)
                }
                fields["metadata.name"] = nil
                found["\(kind)/\(name)"] = Resource(fields: fields, location: SourceLocation(file: source.path, line: document.root.line, column: document.root.column))
            }
        }
        return found
    }

    static func flatten(_ node: YAMLNode, path: String, into fields: inout [String: String]) {
        // Iterative: the composer bounds nesting, but nothing recursive runs on input anyway.
        var pending: [(YAMLNode, String)] = [(node, path)]
        while let (current, currentPath) = pending.popLast() {
            switch current {
            case .scalar(let scalar):
                fields[currentPath] = scalar.isNull ? "null" : scalar.text
            case .mapping(let mapping):
                if mapping.pairs.isEmpty { fields[currentPath] = "{}" }
                for pair in mapping.pairs { pending.append((pair.value, "\(currentPath).\(pair.key.text)")) }
            case .sequence(let sequence):
                if sequence.items.allSatisfy({ $0.scalar != nil }) {
                    fields[currentPath] = "[" + sequence.items.compactMap { $0.scalar?.text }.joined(separator: ", ") + "]"
                    continue
                }
                let names = sequence.items.map { $0.field("name")?.text }
                let keyedByName = names.allSatisfy { $0 != nil } && Set(names.compactMap { $0 }).count == names.count
                for (index, item) in sequence.items.enumerated() {
                    pending.append((item, keyedByName ? "\(currentPath)[\(names[index] ?? "")]" : "\(currentPath)[\(index)]"))
                }
            }
        }
    }
}
