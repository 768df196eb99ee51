import Foundation

/// Everything dcapply reads from one Slurm controller, by name.
public struct SlurmObservation: Hashable, Sendable {
    public var nodes: [String: SlurmNode]
    public var partitions: [String: SlurmPartition]
    public var reservations: [String: SlurmReservation]

    public init(nodes: [String: SlurmNode] = [:], partitions: [String: SlurmPartition] = [:], reservations: [String: SlurmReservation] = [:]) {
        self.nodes = nodes
        self.partitions = partitions
        self.reservations = reservations
    }
}

extension SlurmObservation {
    /// A Slurm output dcapply could not read.
    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The nodes of `sinfo --json` (22.05: openapi v0.0.38, one entry per node).
    public static func nodes(sinfoJSON data: Data) throws -> [String: SlurmNode] {
        struct Document: Decodable {
            var errors: [Entry]?
            var nodes: [Node]
            struct Entry: Decodable { var error: String? }
        }
        struct Node: Decodable {
            var name: String
            var state: String?
            var state_flags: [String]?
            var reason: String?
            var features: String?
            var active_features: String?
        }
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: data)
        } catch {
            throw ParseError(description: "sinfo --json printed something that is not its node list: \(error)")
        }
        if let message = document.errors?.compactMap(\.error).first(where: { !$0.isEmpty }) {
            throw ParseError(description: "sinfo --json reported an error: \(message)")
        }
        var nodes: [String: SlurmNode] = [:]
        for node in document.nodes {
            nodes[node.name] = SlurmNode(name: node.name, state: node.state ?? "unknown", flags: Set(node.state_flags ?? []),
                                         reason: node.reason ?? "", availableFeatures: featureList(node.features),
                                         activeFeatures: featureList(node.active_features))
        }
        return nodes
    }

    /// Partitions of `scontrol -o show partition`.
    public static func partitions(scontrolOutput: String) throws -> [String: SlurmPartition] {
        var partitions: [String: SlurmPartition] = [:]
        for record in SlurmRecord.records(scontrolOutput) {
            guard let name = record["PartitionName"] else { continue }
            let nodes = try Hostlist.expand(record["Nodes"] ?? "")
            partitions[name] = SlurmPartition(name: name, nodes: Set(nodes), state: record["State"] ?? "")
        }
        return partitions
    }

    /// Reservations of `scontrol -o show reservation`.
    public static func reservations(scontrolOutput: String) throws -> [String: SlurmReservation] {
        var reservations: [String: SlurmReservation] = [:]
        for record in SlurmRecord.records(scontrolOutput) {
            guard let name = record["ReservationName"] else { continue }
            let nodes = try Hostlist.expand(record["Nodes"] ?? "")
            reservations[name] = SlurmReservation(name: name, nodes: Set(nodes), accounts: list(record["Accounts"]), users: list(record["Users"]),
                                                  endTime: record["EndTime"].flatMap(SlurmTime.parse))
        }
        return reservations
    }

    static func featureList(_ text: String?) -> [String] {
        list(text)
    }

    static func list(_ text: String?) -> [String] {
        guard let text, text != "(null)" else { return [] }
        return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// Slurm's local timestamps (`2027-12-04T17:44:14`).
enum SlurmTime {
    static func parse(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone.current
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return formatter.date(from: text)
    }
}
