@testable import DCApplyGit
import DCApplyCore
import Foundation
import Testing

/// AccessPolicies for the trust tests: alice manages everything, bob manages `llm-*` Workloads.
enum TrustManifests {
    static let allKinds = "[Site, RedundancyPolicy, HardwarePool, Workload, StorageTier, AccessPolicy, EnergyPolicy]"

    static func policies(alice: String, bob: String, bobExtraRule: String = "") -> String {
        """
        apiVersion: dcapply/v1
        kind: AccessPolicy
        metadata: {name: admins}
        spec:
          members:
            - user: alice@example.com
              keys: ["\(alice)"]
          rules:
            - kinds: \(allKinds)
              verbs: [manage]
        ---
        apiVersion: dcapply/v1
        kind: AccessPolicy
        metadata: {name: ml-research}
        spec:
          members:
            - user: bob@example.com
              keys: ["\(bob)"]
          rules:
            - kinds: [Workload]
              names: ["llm-*"]
              verbs: [use, manage]\(bobExtraRule)

        """
    }
}

@Suite("The AccessPolicy manage rule, per commit")
struct CommitAuthorizerTests {
    static let appliedRevision = "9f2c1e0d4a11" + String(repeating: "0", count: 28)

    static func commit(_ id: String, author: String = "Bob", email: String = "bob@example.com") -> GitCommit {
        let person = GitPerson(name: author, email: email, time: Date(timeIntervalSince1970: 1_780_000_000))
        return GitCommit(id: id + String(repeating: "0", count: 40 - id.count), parents: [appliedRevision], author: person, committer: person, message: "change", signature: nil)
    }

    struct Keys {
        let alice: SSHPublicKey, bob: SSHPublicKey, mallory: SSHPublicKey
        let policies: [AccessPolicy]
    }

    static func keys() throws -> Keys {
        let fixture = try SSHKeyFixture()
        let alice = try fixture.make("alice"), bob = try fixture.make("bob", type: "ecdsa", bits: 256), mallory = try fixture.make("mallory")
        let source = SourceFile(path: "manifests/access.yaml", text: TrustManifests.policies(alice: alice.publicLine, bob: bob.publicLine))
        let state = ManifestParser().parse([source]).state
        return Keys(alice: try SSHPublicKey(line: alice.publicLine), bob: try SSHPublicKey(line: bob.publicLine),
                    mallory: try SSHPublicKey(line: mallory.publicLine), policies: state.accessPolicies.values.sorted { $0.metadata.name < $1.metadata.name })
    }

    static func changes(_ resources: String...) -> [ChangedResource] { resources.map(ChangedResource.init(parsing:)) }

    @Test func aMemberMayChangeWhatARuleGrantsThemManageOn() throws {
        let keys = try Self.keys()
        let report = CommitAuthorizer.authorize([
            CommitToAuthorize(commit: Self.commit("aaaa"), signature: .verified(keys.alice), changedResources: Self.changes("HardwarePool/train", "AccessPolicy/ml-research")),
            CommitToAuthorize(commit: Self.commit("bbbb"), signature: .verified(keys.bob), changedResources: Self.changes("Workload/llm-train")),
        ], anchor: .accessPolicies(keys.policies, revision: Self.appliedRevision))
        #expect(report.isAllowed)
        #expect(report.commits.map(\.signer) == ["alice@example.com", "bob@example.com"])
        #expect(report.warnings.isEmpty)
    }

    @Test func aMemberWithoutManageOnTheResourceIsRefused() throws {
        let keys = try Self.keys()
        let report = CommitAuthorizer.authorize([
            CommitToAuthorize(commit: Self.commit("1a2b3c4d5e6f"), signature: .verified(keys.bob), changedResources: Self.changes("HardwarePool/train", "Workload/llm-train")),
        ], anchor: .accessPolicies(keys.policies, revision: Self.appliedRevision))
        #expect(!report.isAllowed)
        #expect(report.refusals.map(\.resource) == ["HardwarePool/train"])
        #expect(report.refusals.first?.missingRule == "{kinds: [HardwarePool], names: [train], verbs: [manage]}")
        #expect(report.summary() == "commit 1a2b3c4d5e6f by bob@example.com (key \(keys.bob.fingerprint)) changes HardwarePool/train, but no AccessPolicy of revision 9f2c1e0d4a11 grants bob@example.com `manage` on HardwarePool/train: add {kinds: [HardwarePool], names: [train], verbs: [manage]} to a policy bob@example.com is a member of")
    }

    @Test func anUnsignedCommitIsRefused() throws {
        let keys = try Self.keys()
        let report = CommitAuthorizer.authorize([
            CommitToAuthorize(commit: Self.commit("1a2b3c4d5e6f"), signature: .unsigned, changedResources: Self.changes("Workload/llm-train")),
        ], anchor: .accessPolicies(keys.policies, revision: Self.appliedRevision))
        #expect(report.summary() == "commit 1a2b3c4d5e6f by Bob <bob@example.com> changes Workload/llm-train but is not signed; it must be signed with the SSH key of a member granted `manage` on it ({kinds: [Workload], names: [llm-train], verbs: [manage]})")
    }

    @Test func aCommitSignedByAnUnknownKeyIsRefused() throws {
        let keys = try Self.keys()
        let report = CommitAuthorizer.authorize([
            CommitToAuthorize(commit: Self.commit("1a2b3c4d5e6f", author: "Mallory", email: "bob@example.com"), signature: .verified(keys.mallory), changedResources: Self.changes("Workload/llm-train")),
        ], anchor: .accessPolicies(keys.policies, revision: Self.appliedRevision))
        #expect(report.summary() == "commit 1a2b3c4d5e6f by Mallory <bob@example.com> changes Workload/llm-train but is signed by key \(keys.mallory.fingerprint) (ssh-ed25519), which no AccessPolicy of revision 9f2c1e0d4a11 lists as a member's key")
    }

    @Test func aCommitThatChangesNoResourceNeedsNoSignature() throws {
        let keys = try Self.keys()
        let report = CommitAuthorizer.authorize([CommitToAuthorize(commit: Self.commit("cccc"), signature: .unsigned, changedResources: [])],
                                                anchor: .accessPolicies(keys.policies, revision: Self.appliedRevision))
        #expect(report.isAllowed)
        #expect(report.commits.first?.verdict == "allowed (changes no manifest)")
    }

    @Test func anInventoryChangeNeedsManageOnItsSite() throws {
        let keys = try Self.keys()
        let inventory = ChangedResource(ResourceAddress(.site, "lab"), inventoryPath: "manifests/inventory.yaml")
        let report = CommitAuthorizer.authorize([CommitToAuthorize(commit: Self.commit("dddd"), signature: .verified(keys.bob), changedResources: [inventory])],
                                                anchor: .accessPolicies(keys.policies, revision: Self.appliedRevision))
        #expect(report.refusals.first?.message.contains("changes Site/lab (inventory manifests/inventory.yaml), but no AccessPolicy of revision 9f2c1e0d4a11 grants bob@example.com `manage` on Site/lab") == true)
    }

    @Test func withNoAnchorEverythingIsAllowedWithOneWarning() {
        let report = CommitAuthorizer.authorize([
            CommitToAuthorize(commit: Self.commit("aaaa"), signature: .unsigned, changedResources: Self.changes("HardwarePool/train")),
            CommitToAuthorize(commit: Self.commit("bbbb"), signature: .unsigned, changedResources: Self.changes("Workload/llm-train")),
        ], anchor: .none)
        #expect(report.isAllowed)
        #expect(report.warnings == [TrustAnchor.uncheckedWarning])
    }

    @Test func trustedSignersVouchForAFirstRevision() throws {
        let keys = try Self.keys()
        let line = "alice@example.com namespaces=\"git\" \(keys.alice.type) \(Data(keys.alice.blob).base64EncodedString())\nbob@example.com namespaces=\"file\" \(keys.bob.type) \(Data(keys.bob.blob).base64EncodedString())"
        let (signers, _) = try AllowedSigners.parse(line, file: "trusted.signers")
        let anchor = TrustAnchor.choose(appliedRevision: nil, policies: [], trustedSigners: TrustedSigners(signers: signers, file: "trusted.signers"))
        let items = [keys.alice, keys.bob, keys.mallory].enumerated().map { index, key in
            CommitToAuthorize(commit: Self.commit("e\(index)"), signature: .verified(key), changedResources: Self.changes("Site/lab"))
        }
        let report = CommitAuthorizer.authorize(items, anchor: anchor)
        #expect(report.commits.map(\.isAllowed) == [true, false, false])
        #expect(report.commits[0].signer == "alice@example.com")
        #expect(report.commits[1].refusals.first?.message.contains("whose line in trusted.signers does not allow signing git commits") == true)
        #expect(report.commits[2].refusals.first?.message.hasSuffix("which is not in the trusted signers file trusted.signers") == true)
    }

    @Test func theAppliedRevisionsPoliciesWinOverTheTrustedSignersFile() throws {
        let keys = try Self.keys()
        let anchor = TrustAnchor.choose(appliedRevision: Self.appliedRevision, policies: keys.policies, trustedSigners: TrustedSigners(signers: [], file: "trusted.signers"))
        guard case .accessPolicies = anchor else {
            Issue.record("expected the AccessPolicies, got \(anchor.description)")
            return
        }
        guard case .trustedSigners = TrustAnchor.choose(appliedRevision: Self.appliedRevision, policies: [], trustedSigners: TrustedSigners(signers: [], file: "f")) else {
            Issue.record("an applied revision without policies falls back to the trusted signers")
            return
        }
    }
}
