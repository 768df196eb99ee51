@testable import DCApplyCore
import Foundation
import Synchronization

/// What happened during an apply, in order: journal batches written, actions started, provider calls.
enum JournalEvent: Sendable {
    case batch([JournalStep])
    case started(Int)
    case call(String)
}

/// A state store that forwards to another and writes each journal batch's steps one by one
/// (the protocol's default, non-atomic way), logging each batch; it can die (throw
/// `SimulatedCrash`) after writing only the first `keep` steps of its `batch`-th batch: a torn batch.
final class JournalSpyStore: StateStore {
    let inner: any StateStore
    let timeline: Mutex<[JournalEvent]>
    private let tear: (batch: Int, keep: Int)?
    private let batches = Mutex(0)

    init(_ inner: any StateStore, tear: (batch: Int, keep: Int)? = nil) {
        self.inner = inner
        self.tear = tear
        timeline = Mutex([])
    }

    func log(_ event: JournalEvent) { timeline.withLock { $0.append(event) } }

    func recordSteps(apply: Int, _ steps: [JournalEntry]) throws {
        let number = batches.withLock { count -> Int in
            count += 1
            return count
        }
        for (position, entry) in steps.enumerated() {
            if let tear, tear.batch == number, position == tear.keep { throw Failpoints.SimulatedCrash() }
            try inner.recordStep(apply: apply, entry.step, change: entry.change)
        }
        log(.batch(steps.map(\.step)))
    }

    func recordStep(apply: Int, _ step: JournalStep, change: Change) throws { try recordSteps(apply: apply, [JournalEntry(step, change: change)]) }
    func load() throws -> StoredState { try inner.load() }
    func commitApply(target: TargetState, estimatedW: [String: Double], powerStates: [String: PowerState], record: ApplyRecord, expectedSerial: Int) throws -> StoredState {
        try inner.commitApply(target: target, estimatedW: estimatedW, powerStates: powerStates, record: record, expectedSerial: expectedSerial)
    }
    func history() throws -> [ApplyRecord] { try inner.history() }
    func auditLog() throws -> [AuditEntry] { try inner.auditLog() }
    func acquireLock(_ holder: LockHolder, isStale: (LockHolder) -> Bool) throws -> LockHolder? { try inner.acquireLock(holder, isStale: isStale) }
    func releaseLock(_ holder: LockHolder) throws { try inner.releaseLock(holder) }
    func lockHolder() throws -> LockHolder? { try inner.lockHolder() }
    func breakLock() throws { try inner.breakLock() }
    func beginApply(planJSON: String, baseSerial: Int, user: String, host: String, startedAt: Date) throws -> Int {
        try inner.beginApply(planJSON: planJSON, baseSerial: baseSerial, user: user, host: host, startedAt: startedAt)
    }
    func unfinishedApply() throws -> UnfinishedApply? { try inner.unfinishedApply() }
    func finishApply(_ id: Int, target: TargetState, estimatedW: [String: Double], powerStates: [String: PowerState], record: ApplyRecord) throws -> StoredState {
        try inner.finishApply(id, target: target, estimatedW: estimatedW, powerStates: powerStates, record: record)
    }
    func overrides() throws -> [String: NodeOverride] { try inner.overrides() }
    func setOverride(node: String, health: Health??, powerState: PowerState??) throws { try inner.setOverride(node: node, health: health, powerState: powerState) }
    func actuatorRecords(site: String, actuator: String) throws -> [String: String] { try inner.actuatorRecords(site: site, actuator: actuator) }
    func setActuatorRecord(site: String, actuator: String, key: String, value: String?) throws {
        try inner.setActuatorRecord(site: site, actuator: actuator, key: key, value: value)
    }
}

/// A provider whose hardware is a local store, logging each call to a spy's timeline.
struct TimelineProvider: HardwareProvider {
    let spy: JournalSpyStore
    let local: LocalProvider
    let recorder: RecordingProvider

    func observe(site: Site) async throws -> (nodes: [ObservedNode], diagnostics: [Diagnostic]) { ([], []) }
    func setPower(_ state: PowerState, node: String, site: Site) async throws {
        spy.log(.call(node))
        try await recorder.setPower(state, node: node, site: site)
        try local.setPower(state, node: node, site: site)
    }
}
