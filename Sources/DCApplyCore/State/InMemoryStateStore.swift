import Foundation
import Synchronization

/// A state store in memory, for tests of the layers above it.
public final class InMemoryStateStore: StateStore {
    private struct Contents {
        var state = StoredState()
        var overrides: [String: NodeOverride] = [:]
        var history: [ApplyRecord] = []
        var lock: LockHolder?
        var journals: [UnfinishedApply] = []
        var finished: Set<Int> = []
        var audit: [AuditEntry] = []
        /// The change each journalled step is, by journal id and step: for the audit lines.
        var stepChanges: [Int: [Int: Change]] = [:]
        /// By site, then actuator.
        var actuatorRecords: [String: [String: [String: String]]] = [:]
    }

    private let contents = Mutex(Contents())

    public init() {}

    public func load() throws -> StoredState { contents.withLock { $0.state } }

    public func commitApply(target: TargetState, estimatedW: [String: Double], powerStates: [String: PowerState], record: ApplyRecord, expectedSerial: Int) throws -> StoredState {
        try commit(target: target, estimatedW: estimatedW, powerStates: powerStates, record: record, expectedSerial: expectedSerial, pendingAudit: [])
    }

    private func commit(target: TargetState, estimatedW: [String: Double], powerStates: [String: PowerState], record: ApplyRecord, expectedSerial: Int,
                        pendingAudit: [String]) throws -> StoredState {
        try contents.withLock { contents in
            guard contents.state.serial == expectedSerial else {
                throw DCApplyError.staleState(stored: contents.state.serial, planned: expectedSerial)
            }
            contents.state = StoredState(target: target, serial: expectedSerial + 1, manifestDigest: record.manifestDigest,
                                         revision: record.revision, estimatedW: estimatedW)
            for (node, power) in powerStates { contents.overrides[node, default: NodeOverride()].powerState = power }
            var stored = record
            stored.id = contents.history.count + 1
            stored.serial = expectedSerial + 1
            contents.history.append(stored)
            contents.audit.append(AuditChain.seal(AuditEntry(id: contents.audit.count + 1, at: record.finishedAt, actor: record.actor ?? "\(record.user)@\(record.host)",
                                                             revision: record.revision, planDigest: record.planDigest, status: record.status.rawValue,
                                                             actions: pendingAudit, previousHash: ""), after: contents.audit.last))
            return contents.state
        }
    }

    public func history() throws -> [ApplyRecord] { contents.withLock { $0.history } }

    public func auditLog() throws -> [AuditEntry] { contents.withLock { $0.audit } }

    public func acquireLock(_ holder: LockHolder, isStale: (LockHolder) -> Bool) throws -> LockHolder? {
        let (current, takenOver): (LockHolder?, Bool) = contents.withLock { contents in
            if let current = contents.lock {
                guard isStale(current) else { return (current, false) }
                contents.lock = holder
                return (current, true)
            }
            contents.lock = holder
            return (nil, false)
        }
        guard let current else { return nil }
        if takenOver { return current }
        throw DCApplyError.locked(by: current, path: "memory:")
    }

    public func releaseLock(_ holder: LockHolder) throws {
        contents.withLock { if $0.lock?.host == holder.host && $0.lock?.pid == holder.pid { $0.lock = nil } }
    }

    public func lockHolder() throws -> LockHolder? { contents.withLock { $0.lock } }

    public func breakLock() throws { contents.withLock { $0.lock = nil } }

    public func beginApply(planJSON: String, baseSerial: Int, user: String, host: String, startedAt: Date) throws -> Int {
        try contents.withLock { contents in
            guard contents.state.serial == baseSerial else {
                throw DCApplyError.staleState(stored: contents.state.serial, planned: baseSerial)
            }
            let id = contents.journals.count + 1
            contents.journals.append(UnfinishedApply(id: id, planJSON: planJSON, baseSerial: baseSerial, startedAt: startedAt, user: user, host: host, steps: [:]))
            return id
        }
    }

    public func recordStep(apply: Int, _ step: JournalStep, change: Change) throws {
        try recordSteps(apply: apply, [JournalEntry(step, change: change)])
    }

    public func recordSteps(apply: Int, _ steps: [JournalEntry]) throws {
        contents.withLock { contents in
            guard contents.journals.indices.contains(apply - 1) else { return }
            for entry in steps {
                var step = entry.step
                step.error = step.error.map(Secrets.redact)
                contents.journals[apply - 1].steps[step.index] = step
                contents.stepChanges[apply, default: [:]][step.index] = entry.change
            }
        }
    }

    public func unfinishedApply() throws -> UnfinishedApply? {
        contents.withLock { contents in contents.journals.last { !contents.finished.contains($0.id) } }
    }

    public func finishApply(_ id: Int, target: TargetState, estimatedW: [String: Double], powerStates: [String: PowerState], record: ApplyRecord) throws -> StoredState {
        guard let journal = contents.withLock({ contents in contents.journals.first { $0.id == id && !contents.finished.contains(id) } }) else {
            throw DCApplyError(.stateStore, "apply \(id) is not open in the journal")
        }
        let changes = contents.withLock { $0.stepChanges[id] ?? [:] }
        let lines = journal.steps.keys.sorted().compactMap { index -> String? in
            guard let step = journal.steps[index], let change = changes[index] else { return nil }
            return AuditChain.actionLine(step: index, action: change.action.rawValue, resource: AuditChain.describe(change),
                                         state: step.state.rawValue, attempts: step.attempts, error: step.error)
        }
        let state = try commit(target: target, estimatedW: estimatedW, powerStates: powerStates, record: record, expectedSerial: journal.baseSerial, pendingAudit: lines)
        contents.withLock { _ = $0.finished.insert(id) }
        return state
    }

    public func overrides() throws -> [String: NodeOverride] { contents.withLock { $0.overrides } }

    public func setOverride(node: String, health: Health??, powerState: PowerState??) throws {
        contents.withLock { contents in
            var override = contents.overrides[node] ?? NodeOverride()
            if let health { override.health = health }
            if let powerState { override.powerState = powerState }
            contents.overrides[node] = override
        }
    }

    public func actuatorRecords(site: String, actuator: String) throws -> [String: String] {
        contents.withLock { $0.actuatorRecords[site]?[actuator] ?? [:] }
    }

    public func setActuatorRecord(site: String, actuator: String, key: String, value: String?) throws {
        contents.withLock { $0.actuatorRecords[site, default: [:]][actuator, default: [:]][key] = value }
    }
}
