import Foundation

/// A reservation as `scontrol -o show reservation` reports it.
public struct SlurmReservation: Hashable, Sendable {
    public var name: String
    public var nodes: Set<String>
    public var accounts: [String]
    public var users: [String]
    /// `EndTime`, when it could be read.
    public var endTime: Date?

    public init(name: String, nodes: Set<String>, accounts: [String] = [], users: [String] = [], endTime: Date? = nil) {
        self.name = name
        self.nodes = nodes
        self.accounts = accounts
        self.users = users
        self.endTime = endTime
    }
}
