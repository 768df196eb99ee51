@testable import DCApplyCore
import Foundation
import Testing

/// The StateStore contract, for the SQLite store and the in-memory one alike.
struct StateStoreTests {
    enum Kind: String, CaseIterable { case sqlite, memory }

    static func makeStore(_ kind: Kind) throws -> any StateStore {
        switch kind {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-store-\(UUID().uuidString)")
            return try SQLiteStateStore(path: directory.appendingPathComponent("nested/state.db").path)
        case .memory:
            return InMemoryStateStore()
        }
    }

    static let target = TargetState(
        nodes: ["a": .init(pool: "p", powerState: .on), "b": .init(pool: nil, powerState: .off)],
        workloads: ["w": .init(replicas: [ReplicaPlacement(index: 1, nodes: ["a", "b"]), ReplicaPlacement(index: 0, nodes: ["a"])], unplaced: 2)],
        storageTiers: ["hot": .init(drives: [DriveAddress(node: "a", drive: "nvme0")], rawTiB: 7.68, satisfied: true)],
        grants: ["team": ["p", "q"]])

    static func record(_ summary: String = "Plan: 1 to assign.") -> ApplyRecord {
        ApplyRecord(startedAt: Date(timeIntervalSince1970: 1_800_000_000), finishedAt: Date(timeIntervalSince1970: 1_800_000_001),
                    user: "alice", host: "laptop", revision: nil, manifestDigest: "abc", planDigest: "def", summary: summary, changeCount: 1)
    }

    @Test(arguments: Kind.allCases)
    func newStoreIsEmptyAtSerialZero(kind: Kind) throws {
        let stored = try Self.makeStore(kind).load()
        #expect(stored.serial == 0)
        #expect(stored.target == .empty)
        #expect(try Self.makeStore(kind).history().isEmpty)
    }

    @Test(arguments: Kind.allCases)
    func appliedTargetRoundTrips(kind: Kind) throws {
        let store = try Self.makeStore(kind)
        let stored = try store.commitApply(target: Self.target, estimatedW: ["a": 9100], powerStates: ["b": .off], record: Self.record(), expectedSerial: 0)
        #expect(stored.serial == 1)
        let loaded = try store.load()
        #expect(loaded.target == Self.target)
        #expect(loaded.serial == 1)
        #expect(loaded.manifestDigest == "abc")
        #expect(loaded.estimatedW["a"] == 9100)
        #expect(try store.overrides()["b"]?.powerState == .off)
        let history = try store.history()
        #expect(history.map(\.serial) == [1])
        #expect(history.first?.user == "alice")
    }

    @Test(arguments: Kind.allCases)
    func applyFromAStalePlanIsRefusedAndChangesNothing(kind: Kind) throws {
        let store = try Self.makeStore(kind)
        _ = try store.commitApply(target: Self.target, estimatedW: ["a": 9100], powerStates: [:], record: Self.record(), expectedSerial: 0)
        #expect(throws: DCApplyError.self) {
            _ = try store.commitApply(target: .empty, estimatedW: [:], powerStates: [:], record: Self.record(), expectedSerial: 0)
        }
        #expect(try store.load().target == Self.target)
        #expect(try store.history().count == 1)
    }

    @Test(arguments: Kind.allCases)
    func overridesPersistUntilCleared(kind: Kind) throws {
        let store = try Self.makeStore(kind)
        try store.setOverride(node: "a", health: .some(.failed), powerState: nil)
        try store.setOverride(node: "a", health: nil, powerState: .some(.off))
        #expect(try store.overrides()["a"] == NodeOverride(health: .failed, powerState: .off))
        try store.setOverride(node: "a", health: .some(nil), powerState: nil)
        #expect(try store.overrides()["a"] == NodeOverride(health: nil, powerState: .off))
    }

    @Test func sqliteStoreSurvivesReopening() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-reopen-\(UUID().uuidString).db").path
        _ = try SQLiteStateStore(path: path).commitApply(target: Self.target, estimatedW: ["a": 9100], powerStates: [:], record: Self.record(), expectedSerial: 0)
        let reopened = try SQLiteStateStore(path: path)
        #expect(try reopened.load().target == Self.target)
        #expect(try reopened.load().serial == 1)
    }

    @Test func unknownStateURLsAreRefusedWithAHint() {
        #expect(throws: DCApplyError.self) { _ = try StateStores.open("mysql://x") }
        #expect(throws: DCApplyError.self) { _ = try StateStores.open("postgres://db/dcapply") }
    }
}
