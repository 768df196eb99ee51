import DCApplyGit
import Foundation
import Testing

/// `dcapply serve --trusted-signers` and `dcapply diff` on signed commits made by git.
@Suite("Signed commits through serve and diff", .serialized, .timeLimit(.minutes(5)))
struct TrustServeTests {
    static func condition(_ status: [String: Any], _ type: String, _ field: String = "status") -> String? {
        (status["conditions"] as? [[String: Any]])?.first { $0["type"] as? String == type }?[field] as? String
    }

    /// Pushes the fixture and starts serve with an allowed-signers file holding `line`.
    static func serve(_ setup: TrustGitTests.Setup, trusting line: String) async throws -> (ServeDaemon, URL) {
        let signers = setup.fixture.root.appendingPathComponent("allowed_signers")
        try line.write(to: signers, atomically: true, encoding: .utf8)
        try setup.fixture.push()
        let daemon = try ServeDaemon(fixture: setup.fixture, interval: "1s", extra: ["--trusted-signers", signers.path])
        try await daemon.waitUntilListening()
        return (daemon, signers)
    }

    @Test func serveAppliesAManagersCommitAndRefusesOthersWhole() async throws {
        let setup = try TrustGitTests.Setup()
        let (daemon, _) = try await Self.serve(setup, trusting: "alice@example.com namespaces=\"git\" \(setup.alice.publicLine)\n")
        try await daemon.waitFor("the first revision, signed by a trusted signer") { $0["lastAppliedRevision"] as? String == setup.first }

        // Bob may manage llm-* Workloads only; his change to the pool is refused whole.
        try setup.fixture.edit("manifests/site.yaml", replacing: "size: {nodes: 4}", with: "size: {nodes: 3}")
        let bobs = try setup.fixture.commit("Three nodes", signedWith: setup.bob, author: "Bob", email: "bob@example.com")
        try setup.fixture.push()
        try await daemon.waitFor("the refusal of bob's commit") { $0["refusedRevision"] as? String == bobs }
        var status = try daemon.status()
        #expect(status["lastAppliedRevision"] as? String == setup.first)
        let error = status["lastError"] as? String ?? ""
        #expect(error.hasPrefix("revision \(bobs.prefix(12)) refused, staying on the last good revision: 1 commit is not allowed to change what it changes"))
        #expect(error.contains("commit \(bobs.prefix(12)) by bob@example.com (key \(try setup.fingerprint(setup.bob))) changes HardwarePool/train, but no AccessPolicy of revision \(setup.first.prefix(12)) grants bob@example.com `manage` on HardwarePool/train"))
        #expect(Self.condition(status, "Stalled") == "True")
        #expect(Self.condition(status, "Stalled", "reason") == "Unauthorized")
        #expect(Self.condition(status, "Ready") == "False")

        // Alice reverts it and bob changes what he may: both are applied.
        try setup.fixture.edit("manifests/site.yaml", replacing: "size: {nodes: 3}", with: "size: {nodes: 4}")
        try setup.fixture.commit("Back to four nodes", signedWith: setup.alice, author: "Alice", email: "alice@example.com")
        try setup.fixture.edit("manifests/site.yaml", replacing: "replicas: 4", with: "replicas: 2")
        let allowed = try setup.fixture.commit("Two replicas", signedWith: setup.bob, author: "Bob", email: "bob@example.com")
        try setup.fixture.push()
        try await daemon.waitFor("the cured revision") { $0["lastAppliedRevision"] as? String == allowed }
        status = try daemon.status()
        #expect(status["lastError"] == nil)
        #expect(Self.condition(status, "Stalled") == "False")
        // The audit log names the signers of what was applied.
        let audit = try DCApplyBinary.run(["audit", "show", "-o", "json", "--state", "sqlite:" + setup.fixture.root.appendingPathComponent("state.db").path],
                                          in: setup.fixture.root)
        let entries = try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(entries.contains { ($0["actor"] as? String) == "bob@example.com (signed revision \(allowed.prefix(12)))" },
                "\(entries.map { $0["actor"] ?? "" })")
        #expect(try DCApplyBinary.run(["audit", "verify", "--state", "sqlite:" + setup.fixture.root.appendingPathComponent("state.db").path],
                                      in: setup.fixture.root).status == 0)

        // An unsigned commit is refused.
        try setup.fixture.edit("manifests/site.yaml", replacing: "replicas: 2", with: "replicas: 3")
        let unsigned = try setup.fixture.commit("Three replicas", signedWith: nil, author: "Bob", email: "bob@example.com")
        try setup.fixture.push()
        try await daemon.waitFor("the refusal of the unsigned commit") { $0["refusedRevision"] as? String == unsigned }
        status = try daemon.status()
        #expect(status["lastAppliedRevision"] as? String == allowed)
        #expect((status["lastError"] as? String)?.contains("commit \(unsigned.prefix(12)) by Bob <bob@example.com> changes Workload/llm-train but is not signed") == true)
        #expect(daemon.stop() == 0)
    }

    @Test func serveRefusesAFirstRevisionNoTrustedSignerSigned() async throws {
        let setup = try TrustGitTests.Setup()
        let (daemon, signers) = try await Self.serve(setup, trusting: "bob@example.com \(setup.bob.publicLine)\n")
        try await daemon.waitFor("the refusal of the first revision") { $0["refusedRevision"] as? String == setup.first }
        let status = try daemon.status()
        #expect(status["lastAppliedRevision"] == nil)
        #expect((status["lastError"] as? String)?.contains("is signed by key \(try setup.fingerprint(setup.alice)) (ssh-ed25519), which is not in the trusted signers file \(signers.path)") == true)
        #expect(try daemon.request("readyz").status == 503)
        #expect(daemon.stop() == 0)
    }

    @Test func serveRefusesToStartOnAMalformedTrustedSignersFile() throws {
        let fixture = try GitFixture()
        let signers = fixture.root.appendingPathComponent("allowed_signers")
        try "alice@example.com ssh-ed25519 ***\n".write(to: signers, atomically: true, encoding: .utf8)
        let result = try DCApplyBinary.run(["serve", "--repo", fixture.remote.path, "--branch", "main", "--trusted-signers", signers.path,
                                            "--state", "memory:", "--cache", fixture.root.appendingPathComponent("cache").path], in: fixture.root)
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: \(signers.path):1: the key of \"ssh-ed25519 ***\" is not valid base64"), "\(result.stderr)")
    }

    @Test func diffShowsTheVerdictPerCommitBeforeMerge() throws {
        let setup = try TrustGitTests.Setup()
        try setup.fixture.push()
        try setup.fixture.git(["checkout", "-q", "-b", "resize"])
        try setup.fixture.edit("manifests/site.yaml", replacing: "replicas: 4", with: "replicas: 2")
        let allowed = try setup.fixture.commit("Two replicas", signedWith: setup.bob, author: "Bob", email: "bob@example.com")
        try setup.fixture.edit("manifests/site.yaml", replacing: "size: {nodes: 4}", with: "size: {nodes: 3}")
        let refused = try setup.fixture.commit("Three nodes", signedWith: setup.bob, author: "Bob", email: "bob@example.com")

        let markdown = try DCApplyBinary.run(["diff", "--base", "main", "--output", "markdown", "--state", "memory:", "--detailed-exitcode"], in: setup.fixture.work)
        #expect(markdown.status == 2, "the verdict is shown; the exit code is the contract's: \(markdown.stderr)")
        let message = "commit \(refused.prefix(12)) by bob@example.com (key \(try setup.fingerprint(setup.bob))) changes HardwarePool/train, but no AccessPolicy of revision \(setup.first.prefix(12)) grants bob@example.com `manage` on HardwarePool/train: add {kinds: [HardwarePool], names: [train], verbs: [manage]} to a policy bob@example.com is a member of"
        let lines = markdown.stdout.components(separatedBy: "\n")
        let section = try #require(lines.firstIndex(of: "#### ⛔ Would be refused: 1 commit, 1 change not allowed"), "\(markdown.stdout)")
        #expect(Array(lines[section...].prefix(5)) == [
            "#### ⛔ Would be refused: 1 commit, 1 change not allowed", "",
            "`dcapply serve` would refuse this revision whole and stay on the last good one:", "",
            "- \(message)",
        ])
        #expect(lines.contains("| `\(allowed.prefix(12))` | `Two replicas` | `bob@example.com` | `Workload/llm-train` | ✅ allowed |"))
        #expect(lines.contains("| `\(refused.prefix(12))` | `Three nodes` | `bob@example.com` | `HardwarePool/train` | ⛔ refused: 1 change not allowed |"))

        let text = try DCApplyBinary.run(["diff", "--base", "main", "--state", "memory:", "--fail-if-refused"], in: setup.fixture.work)
        #expect(text.status == 1, "--fail-if-refused makes a refusal fail the check")
        #expect(text.stdout.contains("Would be refused:\n  - \(message)"), "\(text.stdout)")
        #expect(text.stdout.contains("  ✓ \(allowed.prefix(12)) Two replicas (bob@example.com): allowed"))

        let json = try DCApplyBinary.run(["diff", "--base", "main", "--output", "json", "--state", "memory:"], in: setup.fixture.work)
        #expect(json.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let trust = try #require(document["trust"] as? [String: Any])
        #expect(trust["allowed"] as? Bool == false)
        let commits = try #require(trust["commits"] as? [[String: Any]])
        #expect(commits.map { $0["signer"] as? String } == ["bob@example.com", "bob@example.com"])
        #expect(commits.map { $0["allowed"] as? Bool } == [true, false])
        let refusal = try #require((commits.last?["refusals"] as? [[String: Any]])?.first)
        #expect(refusal["resource"] as? String == "HardwarePool/train")
        #expect(refusal["missingRule"] as? String == "{kinds: [HardwarePool], names: [train], verbs: [manage]}")
    }
}
