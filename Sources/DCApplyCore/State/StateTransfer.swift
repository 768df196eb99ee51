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

    /// One apply of the journal, its rows verbatim (timestamps as the stored text), so an apply
    /// interrupted before the copy is resumed in the new store as it would have been in the old.
    public struct JournalApply: Equatable, Sendable {
        /// One step's row.
        public struct Step: Equatable, Sendable {
            public var step: Int
            public var action: String
            public var resource: String
            public var state: String
            public var attempts: Int
            public var error: String?
            public var updatedAt: String

            public init(step: Int, action: String, resource: String, state: String, attempts: Int, error: String?, updatedAt: String) {
                self.step = step
                self.action = action
                self.resource = resource
                self.state = state
                self.attempts = attempts
                self.error = error
                self.updatedAt = updatedAt
            }
        }

        public var id: Int
        public var planJSON: String
        public var baseSerial: Int
        public var startedAt: String
        public var user: String
        public var host: String
        /// Nil while the apply is unfinished.
        public var finishedAt: String?
        public var historyID: Int?
        public var steps: [Step]

        public init(id: Int, planJSON: String, baseSerial: Int, startedAt: String, user: String, host: String, finishedAt: String?, historyID: Int?,
                    steps: [Step]) {
            self.id = id
            self.planJSON = planJSON
            self.baseSerial = baseSerial
            self.startedAt = startedAt
            self.user = user
            self.host = host
            self.finishedAt = finishedAt
            self.historyID = historyID
            self.steps = steps
        }
    }

    public var state: StoredState
    public var overrides: [String: NodeOverride]
    public var history: [ApplyRecord]
    public var audit: [AuditEntry]
    public var actuatorRecords: [ActuatorRecord]
    /// Every apply of the journal, finished or not, by id.
    public var journal: [JournalApply]

    public init(state: StoredState, overrides: [String: NodeOverride], history: [ApplyRecord], audit: [AuditEntry], actuatorRecords: [ActuatorRecord],
                journal: [JournalApply] = []) {
        self.state = state
        self.overrides = overrides
        self.history = history
        self.audit = audit
        self.actuatorRecords = actuatorRecords
        self.journal = journal
    }
}

/// A state store that can hand over and take in a whole ``StateSnapshot``.
///
/// Contract: `importSnapshot` writes everything in one transaction into a store that has never
/// been applied to (serial 0, no history, no audit entry), and refuses (throws) any other.
public protocol StateTransferable: StateStore {
    /// Every actuator record, of every Site and actuator.
    func allActuatorRecords() throws -> [StateSnapshot.ActuatorRecord]
    /// Every apply of the journal with its steps, by id.
    func allJournal() throws -> [StateSnapshot.JournalApply]
    func importSnapshot(_ snapshot: StateSnapshot) throws
}

extension StateTransferable {
    /// The snapshot of this store with its whole journal, refused while an apply runs (a lock
    /// holder that is alive, or on another host). An apply interrupted by a crash (its holder is
    /// dead) is copied as it stands, and the next apply on the new store resumes it.
    public func exportSnapshot() throws -> StateSnapshot {
        if let holder = try lockHolder(), holder.isAlive != false {
            throw DCApplyError(.locked, "refused: the source store is locked by \(holder); migrate when no apply runs")
        }
        return StateSnapshot(state: try load(), overrides: try overrides(), history: try history(), audit: try auditLog(),
                             actuatorRecords: try allActuatorRecords(), journal: try allJournal())
    }

    /// Refuses a destination that already holds applies.
    public func requireEmpty(_ name: String) throws {
        let stored = try load()
        guard stored.serial == 0, try history().isEmpty, try auditLog().isEmpty else {
            throw DCApplyError(.stateStore, "refused: the destination \(name) already holds applies (serial \(stored.serial)); migrate into a new store")
        }
    }
}
