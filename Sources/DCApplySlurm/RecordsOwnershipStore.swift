import DCApplyCore
import Foundation

/// Slurm ownership kept in the state store's actuator records, one key per object:
/// `partition:NAME` → its nodes, `reservation:NAME` → nodes and accounts, `replicas:NAME` → the
/// replicas a reservation was last written for (JSON values).
public struct RecordsOwnershipStore: SlurmOwnershipStore {
    public let records: ActuatorRecords

    public init(records: ActuatorRecords) {
        self.records = records
    }

    public func load() throws -> SlurmOwnership {
        var ownership = SlurmOwnership()
        let decoder = JSONDecoder()
        for (key, value) in try records.all() {
            if key.hasPrefix("partition:") {
                ownership.partitions[String(key.dropFirst("partition:".count))] = Set(try decoder.decode([String].self, from: Data(value.utf8)))
            } else if key.hasPrefix("reservation:") {
                ownership.reservations[String(key.dropFirst("reservation:".count))] = try decoder.decode(SlurmOwnership.Reservation.self, from: Data(value.utf8))
            }
        }
        return ownership
    }

    public func recordPartition(_ name: String, nodes: Set<String>?) throws {
        try records.set("partition:" + name, try nodes.map { try Self.json($0.sorted()) })
    }

    public func recordReservation(_ name: String, _ reservation: SlurmOwnership.Reservation?) throws {
        try records.set("reservation:" + name, try reservation.map { try Self.json($0) })
    }

    /// The replicas (index → nodes) a reservation is written for.
    public func recordReplicas(_ name: String, _ replicas: [Int: [String]]) throws {
        try records.set("replicas:" + name, try Self.json(Dictionary(uniqueKeysWithValues: replicas.map { (String($0.key), $0.value) })))
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
