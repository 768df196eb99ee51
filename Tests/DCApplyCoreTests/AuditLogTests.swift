@testable import DCApplyCore
import Foundation
import Testing

struct AuditLogTests {
    static func chain(_ count: Int) -> [AuditEntry] {
        var entries: [AuditEntry] = []
        for id in 1...count {
            entries.append(AuditChain.seal(AuditEntry(id: id, at: Date(timeIntervalSince1970: Double(id) * 60), actor: "alice@example.com",
                                                      revision: "rev\(id)", planDigest: "plan\(id)", status: "completed",
                                                      actions: ["0\tassign\tNode/n\(id)\tdone\t1"], previousHash: ""), after: entries.last))
        }
        return entries
    }

    @Test func anIntactChainVerifiesAndNamesItsHead() {
        let entries = Self.chain(4)
        #expect(AuditChain.verify(entries) == .intact(entries: 4, head: entries[3].hash))
        #expect(AuditChain.verify([]) == .intact(entries: 0, head: AuditChain.genesis))
        #expect(AuditChain.verify(entries, expectedHead: entries[3].hash) == .intact(entries: 4, head: entries[3].hash))
    }

    @Test(arguments: 0..<4)
    func editingAnyFieldOfAnEntryBreaksTheChainAtThatEntry(index: Int) {
        let edits: [(String, (inout AuditEntry) -> Void)] = [
            ("actor", { $0.actor = "mallory" }), ("at", { $0.timestamp += "x" }), ("revision", { $0.revision = nil }),
            ("planDigest", { $0.planDigest += "x" }), ("status", { $0.status = "partial" }),
            ("actions", { $0.actions.append("1\tpowerOff\tNode/x\tdone\t1") }), ("previousHash", { $0.previousHash = String(repeating: "f", count: 64) }),
        ]
        for (field, edit) in edits {
            var entries = Self.chain(4)
            edit(&entries[index])
            guard case .broken(let entry, _) = AuditChain.verify(entries) else {
                Issue.record("editing \(field) of entry \(index + 1) went unnoticed")
                continue
            }
            #expect(entry == index + 1, "editing \(field)")
        }
    }

    @Test func removingOrReorderingEntriesIsNoticed() {
        var entries = Self.chain(4)
        entries.remove(at: 1)
        #expect(AuditChain.verify(entries) == .broken(entry: 3, reason: "entries 2…2 are missing"))
        #expect(AuditChain.verify(Array(Self.chain(4).dropFirst())) == .broken(entry: 2, reason: "entries 1…1 are missing"))
        let full = Self.chain(4)
        guard case .broken(let at, _) = AuditChain.verify(Array(full.dropLast()), expectedHead: full[3].hash) else {
            Issue.record("a truncated log passed against the recorded head")
            return
        }
        #expect(at == 3)
    }

    @Test func fieldsCannotBeShiftedBetweenEachOther() {
        // Length-prefixed encoding: moving a character from one field to the next changes the hash.
        let a = AuditEntry(id: 1, at: Date(timeIntervalSince1970: 0), actor: "ab", revision: "c", planDigest: "p", status: "s", actions: [], previousHash: AuditChain.genesis)
        var b = a
        b.actor = "a"
        b.revision = "bc"
        #expect(AuditChain.hash(of: a) != AuditChain.hash(of: b))
    }

    @Test(arguments: StateStoreTests.Kind.allCases)
    func everyApplyAppendsAnEntryWithItsActionsAndOutcomes(_ kind: StateStoreTests.Kind) async throws {
        let store = try StateStoreTests.makeStore(kind)
        let site = ExecutorTests.site()
        let plan = site.plan()
        _ = try await Executor(store: store, logger: ExecutorTests.logger,
                               options: ApplyOptions(parallelism: 2, failpoints: try Failpoints(parsing: "provider.call=terminal@1"), actor: "alice@example.com"))
            .apply(plan, desired: site.desired, observed: site.observed, provider: { _ in RecordingProvider() })
        let log = try store.auditLog()
        #expect(log.count == 1)
        let entry = try #require(log.first)
        #expect(entry.actor == "alice@example.com" && entry.status == "partial")
        #expect(entry.planDigest == Digest.sha256(plan.json))
        #expect(entry.actions.count == plan.changes.count, "every action is listed with its outcome")
        #expect(entry.actions.contains { $0.contains("failed") && $0.contains("injected terminal error") })
        #expect(AuditChain.verify(log) == .intact(entries: 1, head: entry.hash))
    }
}
