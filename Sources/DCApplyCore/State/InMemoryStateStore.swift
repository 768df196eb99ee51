import Foundation
import Synchronization

/// A state store in memory, for tests of the layers above it.
public final class InMemoryStateStore: StateStore {
    private struct Contents {
        var state = StoredState()
        var overrides: [String: NodeOverride] = [:]
        var history: [ApplyRecord] = []
    }

    private let contents = Mutex(Contents())

    public init() {}

    public func load() throws -> StoredState { contents.withLock { $0.state } }

    public func commitApply(target: TargetState, estimatedW: [String: Double], powerStates: [String: PowerState], record: ApplyRecord, expectedSerial: Int) throws -> StoredState {
        try contents.withLock { contents in
            guard contents.state.serial == expectedSerial else {
                throw DCApplyError(.stateStore, "the state changed since the plan was made (serial \(contents.state.serial), plan made at \(expectedSerial)); plan again")
            }
            contents.state = StoredState(target: target, serial: expectedSerial + 1, manifestDigest: record.manifestDigest,
                                         revision: record.revision, estimatedW: estimatedW)
            for (node, power) in powerStates { contents.overrides[node, default: NodeOverride()].powerState = power }
            var stored = record
            stored.id = contents.history.count + 1
            stored.serial = expectedSerial + 1
            contents.history.append(stored)
            return contents.state
        }
    }

    public func history() throws -> [ApplyRecord] { contents.withLock { $0.history } }

    public func overrides() throws -> [String: NodeOverride] { contents.withLock { $0.overrides } }

    public func setOverride(node: String, health: Health??, powerState: PowerState??) throws {
        contents.withLock { contents in
            var override = contents.overrides[node] ?? NodeOverride()
            if let health { override.health = health }
            if let powerState { override.powerState = powerState }
            contents.overrides[node] = override
        }
    }
}
