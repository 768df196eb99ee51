@testable import DCApplyGit
import DCApplyCore
import Foundation
import Testing

/// Signed commits made by `git` with `ssh-keygen` keys, checked through libgit2.
@Suite("Commit signatures and rights on real repositories", .timeLimit(.minutes(5)))
struct TrustGitTests {
    /// A repository whose first commit (signed by alice) holds the quickstart and the
    /// AccessPolicies: alice manages everything, bob manages `llm-*` Workloads.
    final class Setup {
        let fixture: GitFixture
        let keys: SSHKeyFixture
        let alice: SSHKeyFixture.Key, bob: SSHKeyFixture.Key, mallory: SSHKeyFixture.Key
        let first: String

        init() throws {
            fixture = try GitFixture()
            keys = try SSHKeyFixture()
            alice = try keys.make("alice")
            bob = try keys.make("bob", type: "ecdsa", bits: 256)
            mallory = try keys.make("mallory")
            try fixture.addQuickstart()
            try fixture.write("manifests/access.yaml", TrustManifests.policies(alice: alice.publicLine, bob: bob.publicLine))
            first = try fixture.commit("Quickstart with access policies", signedWith: alice, author: "Alice", email: "alice@example.com")
        }

        func authorize(from applied: String?, trusted: TrustedSigners? = nil) throws -> TrustReport {
            let repository = try LibGit2Repository.open(fixture.work.path)
            return try repository.authorize(from: applied, to: try repository.resolve("HEAD"), paths: ["manifests"], trustedSigners: trusted)
        }

        func fingerprint(_ key: SSHKeyFixture.Key) throws -> String { try SSHPublicKey(line: key.publicLine).fingerprint }
    }

    @Test func aCommitSignedByAManagerIsAllowed() throws {
        let setup = try Setup()
        try setup.fixture.edit("manifests/site.yaml", replacing: "size: {nodes: 4}", with: "size: {nodes: 5}")
        try setup.fixture.commit("Five nodes", signedWith: setup.alice, author: "Alice", email: "alice@example.com")
        try setup.fixture.edit("manifests/site.yaml", replacing: "replicas: 4", with: "replicas: 2")
        try setup.fixture.commit("Two replicas", signedWith: setup.bob, author: "Bob", email: "bob@example.com")
        let report = try setup.authorize(from: setup.first)
        #expect(report.isAllowed, "\(report.summary())")
        #expect(report.commits.map(\.signer) == ["alice@example.com", "bob@example.com"])
        #expect(report.commits.map { $0.changedResources.map(\.description) } == [["HardwarePool/train"], ["Workload/llm-train"]])
        if case .accessPolicies(let policies, _) = report.anchor {
            #expect(policies.map(\.metadata.name) == ["admins", "ml-research"])
        } else {
            Issue.record("expected the applied revision's AccessPolicies, got \(report.anchor.description)")
        }
    }

    @Test func anUnsignedCommitIsRefused() throws {
        let setup = try Setup()
        try setup.fixture.edit("manifests/site.yaml", replacing: "replicas: 4", with: "replicas: 2")
        let unsigned = try setup.fixture.commit("Two replicas", signedWith: nil, author: "Bob", email: "bob@example.com")
        let report = try setup.authorize(from: setup.first)
        #expect(report.summary() == "commit \(unsigned.prefix(12)) by Bob <bob@example.com> changes Workload/llm-train but is not signed; it must be signed with the SSH key of a member granted `manage` on it ({kinds: [Workload], names: [llm-train], verbs: [manage]})")
    }

    @Test func aCommitSignedByAnUnknownKeyIsRefused() throws {
        let setup = try Setup()
        try setup.fixture.edit("manifests/site.yaml", replacing: "replicas: 4", with: "replicas: 2")
        let forged = try setup.fixture.commit("Two replicas", signedWith: setup.mallory, author: "Bob", email: "bob@example.com")
        let report = try setup.authorize(from: setup.first)
        #expect(report.summary() == "commit \(forged.prefix(12)) by Bob <bob@example.com> changes Workload/llm-train but is signed by key \(try setup.fingerprint(setup.mallory)) (ssh-ed25519), which no AccessPolicy of revision \(setup.first.prefix(12)) lists as a member's key")
    }

    @Test func aMemberWithoutManageOnTheChangedResourceIsRefused() throws {
        let setup = try Setup()
        try setup.fixture.edit("manifests/site.yaml", replacing: "size: {nodes: 4}", with: "size: {nodes: 5}")
        let commit = try setup.fixture.commit("Five nodes", signedWith: setup.bob, author: "Bob", email: "bob@example.com")
        let report = try setup.authorize(from: setup.first)
        let refusal = try #require(report.refusals.first)
        #expect(report.refusals.count == 1)
        #expect(refusal.commit == commit)
        #expect(refusal.resource == "HardwarePool/train")
        #expect(refusal.missingRule == "{kinds: [HardwarePool], names: [train], verbs: [manage]}")
        #expect(refusal.message == "commit \(commit.prefix(12)) by bob@example.com (key \(try setup.fingerprint(setup.bob))) changes HardwarePool/train, but no AccessPolicy of revision \(setup.first.prefix(12)) grants bob@example.com `manage` on HardwarePool/train: add {kinds: [HardwarePool], names: [train], verbs: [manage]} to a policy bob@example.com is a member of")
    }

    @Test func aCommitThatAddsItsOwnAuthorToAnAccessPolicyIsRefused() throws {
        let setup = try Setup()
        // Mallory adds herself, with her own key, to the admins, and signs that with her key.
        try setup.fixture.edit("manifests/access.yaml", replacing: "  members:\n    - user: alice@example.com",
                               with: "  members:\n    - user: mallory@example.com\n      keys: [\"\(setup.mallory.publicLine)\"]\n    - user: alice@example.com")
        try setup.fixture.commit("Add mallory", signedWith: setup.mallory, author: "Mallory", email: "mallory@example.com")
        var report = try setup.authorize(from: setup.first)
        #expect(report.refusals.map(\.resource) == ["AccessPolicy/admins"])
        #expect(report.summary().contains("is signed by key \(try setup.fingerprint(setup.mallory)) (ssh-ed25519), which no AccessPolicy of revision"))

        // Bob, a member, grants his own group manage on HardwarePools: he lacks manage on the policy.
        try setup.fixture.git(["reset", "-q", "--hard", setup.first])
        try setup.fixture.edit("manifests/access.yaml", replacing: "      names: [\"llm-*\"]", with: "      names: [\"*\"]")
        try setup.fixture.commit("Widen ml-research", signedWith: setup.bob, author: "Bob", email: "bob@example.com")
        report = try setup.authorize(from: setup.first)
        #expect(report.refusals.map(\.resource) == ["AccessPolicy/ml-research"])
        #expect(report.summary().contains("grants bob@example.com `manage` on AccessPolicy/ml-research"))
    }

    @Test func aRevertedRefusedChangeNoLongerCounts() throws {
        let setup = try Setup()
        try setup.fixture.edit("manifests/site.yaml", replacing: "size: {nodes: 4}", with: "size: {nodes: 5}")
        try setup.fixture.commit("Five nodes", signedWith: setup.bob, author: "Bob", email: "bob@example.com")
        #expect(!(try setup.authorize(from: setup.first).isAllowed))
        try setup.fixture.git(["revert", "--no-edit", "HEAD"])
        let report = try setup.authorize(from: setup.first)
        #expect(report.isAllowed, "\(report.summary())")
        #expect(report.commits.allSatisfy { $0.changedResources.isEmpty })
    }

    @Test func anInventoryChangeNeedsManageOnItsSite() throws {
        let setup = try Setup()
        try setup.fixture.edit("manifests/inventory.yaml", replacing: "health: healthy", with: "health: failed")
        try setup.fixture.commit("A node fails", signedWith: setup.bob, author: "Bob", email: "bob@example.com")
        let report = try setup.authorize(from: setup.first)
        #expect(report.refusals.map(\.resource) == ["Site/lab"])
        #expect(report.summary().contains("changes Site/lab (inventory manifests/inventory.yaml), but no AccessPolicy"))
    }

    @Test func aCleanMergeIsJudgedByTheCommitsItMerges() throws {
        let setup = try Setup()
        try setup.fixture.git(["checkout", "-q", "-b", "feature"])
        try setup.fixture.edit("manifests/site.yaml", replacing: "replicas: 4", with: "replicas: 2")
        try setup.fixture.commit("Two replicas", signedWith: setup.bob, author: "Bob", email: "bob@example.com")
        try setup.fixture.git(["checkout", "-q", "main"])
        try setup.fixture.edit("manifests/site.yaml", replacing: "size: {nodes: 4}", with: "size: {nodes: 5}")
        try setup.fixture.commit("Five nodes", signedWith: setup.alice, author: "Alice", email: "alice@example.com")
        // An unsigned merge (as a forge's merge button may make) that changes nothing itself.
        try setup.fixture.git(["merge", "-q", "--no-edit", "--no-ff", "feature"])
        let report = try setup.authorize(from: setup.first)
        #expect(report.isAllowed, "\(report.summary())")
        #expect(report.commits.count == 3)
        #expect(report.commits.last?.changedResources == [])
    }

    @Test func policiesWithoutKeysRefuseEveryChangeAndSaySo() throws {
        let fixture = try GitFixture()
        try fixture.addQuickstart()
        try fixture.write("manifests/access.yaml", """
            apiVersion: dcapply/v1
            kind: AccessPolicy
            metadata: {name: tenants}
            spec:
              members: [{user: carol@example.com}]
              rules: [{kinds: [HardwarePool], verbs: [use]}, {kinds: [Workload], verbs: [manage]}]

            """)
        let first = try fixture.commit("Tenants only")
        try fixture.edit("manifests/site.yaml", replacing: "replicas: 4", with: "replicas: 2")
        try fixture.commit("Two replicas")
        let repository = try LibGit2Repository.open(fixture.work.path)
        let report = try repository.authorize(from: first, to: try repository.resolve("HEAD"), paths: ["manifests"], trustedSigners: nil)
        #expect(report.refusals.map(\.resource) == ["Workload/llm-train"])
        #expect(report.warnings == ["the AccessPolicies in force list no member keys, so every commit that changes a resource is refused: add keys to the members who manage the site"])
    }

    @Test func tenantOnlyPoliciesLeaveTheManageCheckOffWithAWarning() throws {
        let fixture = try GitFixture()
        try fixture.addQuickstart()
        try fixture.write("manifests/access.yaml", """
            apiVersion: dcapply/v1
            kind: AccessPolicy
            metadata: {name: tenants}
            spec:
              members: [{user: carol@example.com}]
              rules: [{kinds: [HardwarePool], verbs: [use]}]

            """)
        let first = try fixture.commit("Tenants only")
        try fixture.edit("manifests/site.yaml", replacing: "replicas: 4", with: "replicas: 2")
        try fixture.commit("Two replicas")
        let repository = try LibGit2Repository.open(fixture.work.path)
        let report = try repository.authorize(from: first, to: try repository.resolve("HEAD"), paths: ["manifests"], trustedSigners: nil)
        #expect(report.isAllowed, "policies that grant only `use` configure tenancy; no one could ever be granted `manage`")
        #expect(report.warnings == [TrustAnchor.uncheckedWarning])
    }

    @Test func theFirstRevisionIsTrustedOnlyThroughTheTrustedSignersFile() throws {
        let setup = try Setup()
        let aliceOnly = TrustedSigners(signers: try AllowedSigners.parse("alice@example.com \(setup.alice.publicLine)").signers, file: "signers")
        let report = try setup.authorize(from: nil, trusted: aliceOnly)
        #expect(report.isAllowed, "\(report.summary())")
        #expect(report.commits.first?.signer == "alice@example.com")

        let bobOnly = TrustedSigners(signers: try AllowedSigners.parse("bob@example.com \(setup.bob.publicLine)").signers, file: "signers")
        let refused = try setup.authorize(from: nil, trusted: bobOnly)
        #expect(refused.refusals.contains { $0.resource == "AccessPolicy/admins" })
        #expect(refused.summary().contains("which is not in the trusted signers file signers"))

        let unchecked = try setup.authorize(from: nil)
        #expect(unchecked.isAllowed)
        #expect(unchecked.warnings == [TrustAnchor.uncheckedWarning])
    }
}
