import DCApplyCore
import DCApplyGit
import DCApplyServer
import Foundation
import Testing

/// The trust gate over the in-memory repository: with `--trusted-signers` and no AccessPolicy,
/// an unsigned first revision is refused whole before it is read. (Signed commits are checked
/// against real git and ssh-keygen in DCApplyGitTests.TrustServeTests.)
@Suite("GitOpsLoop and the trust gate in process")
struct TrustLoopTests {
    /// An allowed-signers line for a made-up Ed25519 key.
    static var signersLine: String {
        func string(_ bytes: [UInt8]) -> [UInt8] {
            let count = UInt32(bytes.count)
            return [UInt8(count >> 24), UInt8(count >> 16 & 0xff), UInt8(count >> 8 & 0xff), UInt8(count & 0xff)] + bytes
        }
        let blob = string(Array("ssh-ed25519".utf8)) + string((1...32).map { UInt8($0) })
        return "ada@example.com ssh-ed25519 \(Data(blob).base64EncodedString())"
    }

    @Test func anUnsignedFirstRevisionIsRefusedWhole() async throws {
        var serve = ServeHarness()
        let signers = try AllowedSigners.parse(Self.signersLine).signers
        #expect(signers.count == 1)
        serve.loop = GitOpsLoop(repository: serve.git, branch: "main", paths: ["manifests"], interval: 30, selfHeal: true,
                                reconciler: serve.loop.reconciler, state: serve.state, logger: serve.loop.logger,
                                trust: TrustGate(trustedSigners: TrustedSigners(signers: signers, file: "allowed_signers")))
        serve.loop.clock = serve.clock
        let first = serve.git.commit(try ServeHarness.quickstart(), message: "Quickstart site")
        let decision = await serve.loop.pass(.start)
        guard case .refuse(first, "Unauthorized", let message) = decision else {
            Issue.record("expected an Unauthorized refusal, got \(decision)")
            return
        }
        #expect(message.hasPrefix("1 commit is not allowed to change what it changes (checked against "), "\(message)")
        #expect(serve.status.condition("Stalled")?.reason == "Unauthorized")
        #expect(serve.status.lastAppliedRevision == nil)
        #expect(try serve.store.load().revision == nil)
        #expect(serve.metric("dcapply_revisions_refused_total") == "1")
    }
}
