import Foundation

/// Everything a state store holds that outlives an apply, for `dcapply state migrate`: the
/// applied target and serial, node overrides, the history, the audit chain verbatim (ids,
/// timestamps and hashes, so it verifies the same) and the actuator records.
public struct StateSnapshot: Sendable {
    /// One actuator record: the Site it belongs to, the actuator, the key and its value.
    public struct ActuatorRecord: Hashable, Sendable {
        public var site: String
        public var actuator: String
        public var key: String
        public var value: String

        public init(site: String, actuator: String, key: String, value: String) {
            self.site = site
            self.actuator = actuator
            self.key = key
            self.value = value
        }
    }

    public var state: StoredState
    public var overrides: [String: NodeOverride]
    public var history: [ApplyRecord]
    public var audit: [AuditEntry]
    public var actuatorRecords: [ActuatorRecord]

    public init(state: StoredState, overrides: [String: NodeOverride], history: [ApplyRecord], audit: [AuditEntry], actuatorRecords: [ActuatorRecord]) {
        self.state = state
        self.overrides = overrides
        self.history = history
        self.audit = audit
        self.actuatorRecords = actuatorRecords
    }
}

/// A state store that can hand over and take in a whole ``StateSnapshot``.
///
/// Contract: `importSnapshot` writes everything in one transaction into a store that has never
/// been applied to (serial 0, no history, no audit entry), and refuses (throws) any other.
public protocol StateTransferable: StateStore {
    /// Every actuator record, of every Site and actuator.
    func allActuatorRecords() throws -> [StateSnapshot.ActuatorRecord]
    func importSnapshot(_ snapshot: StateSnapshot) throws
}

extension StateTransferable {
    /// The snapshot of this store, refused while it is locked or an apply is unfinished (the
    /// journal of a finished apply lives on in its history record and audit entry).
    public func exportSnapshot() throws -> StateSnapshot {
        if let holder = try lockHolder() {
            throw DCApplyError(.locked, "refused: the source store is locked by \(holder); migrate when no apply runs")
        }
        if let open = try unfinishedApply() {
            throw DCApplyError(.stateStore, "refused: apply \(open.id) in the source store is unfinished; finish it (apply again) first")
        }
        return StateSnapshot(state: try load(), overrides: try overrides(), history: try history(), audit: try auditLog(),
                             actuatorRecords: try allActuatorRecords())
    }

    /// Refuses a destination that already holds applies.
    public func requireEmpty(_ name: String) throws {
        let stored = try load()
        guard stored.serial == 0, try history().isEmpty, try auditLog().isEmpty else {
            throw DCApplyError(.stateStore, "refused: the destination \(name) already holds applies (serial \(stored.serial)); migrate into a new store")
        }
    }
}
