import Foundation

/// The Slurm objects dcapply created, each as it last left it: what may be changed or
/// deleted, and what observation is compared with to find drift.
public struct SlurmOwnership: Hashable, Sendable, Codable {
    public struct Reservation: Hashable, Sendable, Codable {
        public var nodes: Set<String>
        public var accounts: [String]

        public init(nodes: Set<String>, accounts: [String]) {
            self.nodes = nodes
            self.accounts = accounts
        }
    }

    /// Partition name → its nodes as applied.
    public var partitions: [String: Set<String>]
    /// Reservation name → as applied.
    public var reservations: [String: Reservation]

    public init(partitions: [String: Set<String>] = [:], reservations: [String: Reservation] = [:]) {
        self.partitions = partitions
        self.reservations = reservations
    }
}
