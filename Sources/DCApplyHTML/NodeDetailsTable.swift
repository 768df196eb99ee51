/// The node details as the page carries them: one array per node, with every string that many
/// nodes share (state, pool, GPUs, labels, drives, source file, change) kept once in `strings`
/// and named by its index. At 10,000 nodes this is about a quarter of the same data as objects.
///
/// A node is `[name, state, pool, gpus, [drawW, maxW], [replica…], [label…], [drive…], file, "line:column", change]`,
/// where state, pool, gpus, labels, drives, file and change are indexes into `strings`.
struct NodeDetailsTable: Encodable {
    var strings: [String] = []
    var nodes: [Row] = []
    private var index: [String: Int] = [:]

    enum CodingKeys: String, CodingKey { case strings, nodes }

    /// One node's array.
    struct Row: Encodable {
        var name: String
        var state: Int
        var pool: Int
        var gpus: Int
        var power: [Int]
        var replicas: [String]
        var labels: [Int]
        var drives: [Int]
        var file: Int
        var position: String
        var change: Int

        func encode(to encoder: any Encoder) throws {
            var container = encoder.unkeyedContainer()
            try container.encode(name)
            try container.encode(state)
            try container.encode(pool)
            try container.encode(gpus)
            try container.encode(power)
            try container.encode(replicas)
            try container.encode(labels)
            try container.encode(drives)
            try container.encode(file)
            try container.encode(position)
            try container.encode(change)
        }
    }

    init(_ details: [NodeDetail]) {
        for detail in details {
            let source = detail.source.split(separator: ":", maxSplits: 1).map(String.init)
            nodes.append(Row(name: detail.name, state: intern(detail.state), pool: intern(detail.pool), gpus: intern(detail.gpus),
                             power: [Int(detail.drawW.rounded()), Int(detail.maxW.rounded())], replicas: detail.replicas,
                             labels: detail.labels.map { intern($0) }, drives: detail.drives.map { intern($0) },
                             file: intern(source.first ?? ""), position: source.count > 1 ? source[1] : "", change: intern(detail.change)))
        }
    }

    private mutating func intern(_ text: String) -> Int {
        if let known = index[text] { return known }
        strings.append(text)
        index[text] = strings.count - 1
        return strings.count - 1
    }
}
