import DCApplyCore
import DCApplyGit
import Foundation
import Testing

/// Issue 7: no secret value in any output, log, HTTP answer or state row.
@Suite(.timeLimit(.minutes(5))) struct SecretsTests {
    @Test func redactionMasksRegisteredSecretsAndURLUserinfo() {
        Secrets.register("hunter2-canary-value")
        Secrets.register("short")  // below the minimum: not registered, ordinary text stays readable
        #expect(Secrets.redact("auth failed for hunter2-canary-value at bmc") == "auth failed for [redacted] at bmc")
        #expect(Secrets.redact("a short word") == "a short word")
        #expect(Secrets.displayURL("https://bot:tok3n-canary-xyz@git.example.com/site.git") == "https://git.example.com/site.git")
        Secrets.registerUserinfo(of: "https://bot:tok3n-canary-xyz@git.example.com/site.git")
        #expect(Secrets.redact("fetch https://bot:tok3n-canary-xyz@git.example.com failed") == "fetch https://bot:[redacted]@git.example.com failed")
    }

    @Test func serveKeepsTheWebhookSecretAndGitTokenOutOfEverything() async throws {
        let webhookSecret = "whsec-canary-5Yq8Lr2PzW"
        let gitToken = "ghp_canaryToken9Tk93mZ0aQ"
        let fixture = try GitFixture()
        try fixture.addQuickstart()
        let first = try fixture.commit("Quickstart site")
        try fixture.push()
        let secretFile = fixture.root.appendingPathComponent("webhook-secret")
        try (webhookSecret + "\n").write(to: secretFile, atomically: true, encoding: .utf8)
        let daemon = try ServeDaemon(fixture: fixture, interval: "60s", extra: ["--webhook-secret-file", secretFile.path, "-vv"],
                                     environment: ["DCAPPLY_GIT_TOKEN": gitToken])
        try await daemon.waitUntilListening()
        try await daemon.waitFor("the first revision") { $0["lastAppliedRevision"] as? String == first }

        try fixture.edit("manifests/site.yaml", replacing: "\n  replicas: 4\n", with: "\n  replicas: 2\n")
        let second = try fixture.commit("Two replicas")
        try fixture.push()
        var transcript = ""
        // A forged hook that carries the secret itself in its body and a wrong signature.
        let forged = #"{"ref":"refs/heads/main","secret":"\#(webhookSecret)"}"#
        transcript += try daemon.request("hooks/git", post: forged, headers: ["X-Hub-Signature-256": "sha256=" + WebhookSignature(secret: "wrong").sign(Array(forged.utf8))]).body
        let body = #"{"ref":"refs/heads/main"}"#
        let good = try daemon.request("hooks/git", post: body, headers: ["X-Hub-Signature-256": "sha256=" + WebhookSignature(secret: webhookSecret).sign(Array(body.utf8))])
        #expect(good.status == 202)
        transcript += good.body
        try await daemon.waitFor("the webhook's revision", timeout: 10) { $0["lastAppliedRevision"] as? String == second }
        for path in ["status", "metrics", "healthz", "readyz"] { transcript += try daemon.request(path).body }
        #expect(daemon.stop() == 0)
        transcript += daemon.log

        let state = ["--state", "sqlite:" + fixture.root.appendingPathComponent("state.db").path]
        for arguments in [["state", "show", "-o", "json"], ["state", "history", "-o", "json"], ["audit", "show", "-v"], ["audit", "show", "-o", "json"],
                          ["audit", "verify"]] {
            let result = try DCApplyBinary.run(arguments + state + ["-vv"], in: fixture.root)
            transcript += result.stdout + result.stderr
        }
        #expect(transcript.contains("signature missing or wrong"), "the forged hook was refused")
        for secret in [webhookSecret, gitToken] {
            #expect(!transcript.contains(secret), "a secret in an output or log")
            for file in ["state.db", "state.db-wal"] {
                let bytes = FileManager.default.contents(atPath: fixture.root.appendingPathComponent(file).path) ?? Data()
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "a secret in \(file)")
            }
        }
    }
}
