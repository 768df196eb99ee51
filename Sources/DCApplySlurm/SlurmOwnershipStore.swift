import Foundation

/// Where the Slurm actuator keeps what it created.
///
/// Contract: `load` returns every object recorded; `record` stores one object as applied
/// (nil removes it) and is durable when it returns, so dcapply records an object before it
/// creates it and a crash cannot leave an object it made but does not own.
public protocol SlurmOwnershipStore: Sendable {
    func load() throws -> SlurmOwnership
    func recordPartition(_ name: String, nodes: Set<String>?) throws
    func recordReservation(_ name: String, _ reservation: SlurmOwnership.Reservation?) throws
}

/// An ownership store in memory, for tests.
public final class InMemorySlurmOwnershipStore: SlurmOwnershipStore, @unchecked Sendable {
    private let lock = NSLock()
    private var value: SlurmOwnership

    public init(_ initial: SlurmOwnership = SlurmOwnership()) {
        value = initial
    }

    public func load() throws -> SlurmOwnership { lock.withLock { value } }
    public func recordPartition(_ name: String, nodes: Set<String>?) throws { lock.withLock { value.partitions[name] = nodes } }
    public func recordReservation(_ name: String, _ reservation: SlurmOwnership.Reservation?) throws {
        lock.withLock { value.reservations[name] = reservation }
    }
}
