@testable import DCApplyGit
import Foundation
import Testing

@Suite("SSH signatures (SSHSIG) checked in process", .timeLimit(.minutes(5)))
struct SSHSignatureTests {
    static let message = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor Ada <ada@example.com> 1700000000 +0000\n\nA commit\n"

    @Test(arguments: [("ed25519", nil), ("ecdsa", 256), ("ecdsa", 384), ("ecdsa", 521)] as [(String, Int?)])
    func verifiesASignatureMadeBySSHKeygen(type: String, bits: Int?) throws {
        let keys = try SSHKeyFixture()
        let key = try keys.make("alice", type: type, bits: bits)
        let armored = try keys.sign(Self.message, with: key)
        let signature = try SSHSignature(armored: armored)
        #expect(signature.namespace == "git")
        let signer = try signature.verify(Array(Self.message.utf8), namespace: "git")
        let listed = try SSHPublicKey(line: key.publicLine)
        #expect(signer.blob == listed.blob)
        #expect(listed.comment == "alice")
        #expect(listed.fingerprint == (try keys.fingerprint(of: key)))
    }

    @Test func refusesASignatureOverAnotherMessage() throws {
        let keys = try SSHKeyFixture()
        let armored = try keys.sign(Self.message, with: try keys.make("alice"))
        #expect {
            try SSHSignature(armored: armored).verify(Array((Self.message + "tampered").utf8), namespace: "git")
        } throws: { ($0 as? SSHTrustError)?.code == .badSignature }
    }

    @Test func refusesASignatureMadeForAnotherNamespace() throws {
        let keys = try SSHKeyFixture()
        let armored = try keys.sign(Self.message, with: try keys.make("alice"), namespace: "file")
        #expect {
            try SSHSignature(armored: armored).verify(Array(Self.message.utf8), namespace: "git")
        } throws: { ($0 as? SSHTrustError)?.message == "the signature was made for namespace \"file\", not \"git\"" }
    }

    @Test func anRSASignatureIsUnsupportedNotACrash() throws {
        let keys = try SSHKeyFixture()
        let armored = try keys.sign(Self.message, with: try keys.make("carol", type: "rsa", bits: 2048))
        let verdict = CommitSignatureVerdict.check(GitCommitSignature(signature: armored, signedPayload: Self.message))
        guard case .unsupported(let reason) = verdict else {
            Issue.record("expected unsupported, got \(verdict)")
            return
        }
        #expect(reason.hasPrefix("unsupported key type ssh-rsa"))
    }

    @Test func noSingleByteChangeOrTruncationVerifies() throws {
        let keys = try SSHKeyFixture()
        for key in [try keys.make("ed", type: "ed25519"), try keys.make("ec", type: "ecdsa", bits: 256)] {
            let armored = try keys.sign(Self.message, with: key)
            let blob = Array(try #require(Data(base64Encoded: armored.split(separator: "\n").dropFirst().dropLast().joined())))
            #expect(throws: Never.self) { try SSHSignature(blob: blob).verify(Array(Self.message.utf8), namespace: "git") }
            for index in blob.indices {
                var changed = blob
                changed[index] ^= 0x01
                #expect(throws: SSHTrustError.self, "byte \(index) changed") { try SSHSignature(blob: changed).verify(Array(Self.message.utf8), namespace: "git") }
                #expect(throws: SSHTrustError.self, "cut at \(index)") { try SSHSignature(blob: Array(blob.prefix(index))).verify(Array(Self.message.utf8), namespace: "git") }
            }
        }
    }

    /// A fixed-seed generator, so a failure replays.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func randomBlobsAreRefusedNeverTrusted() {
        var random = SplitMix(state: 7)
        let prefixes: [[UInt8]] = [[], Array("SSHSIG".utf8), Array("SSHSIG".utf8) + [0, 0, 0, 1], Array("SSHSIG".utf8) + [0, 0, 0, 1, 0, 0, 0, 11] + Array("ssh-ed25519".utf8)]
        for round in 0..<4000 {
            let tail = (0..<Int.random(in: 0...160, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            let blob = prefixes[round % prefixes.count] + tail
            #expect(throws: SSHTrustError.self) { try SSHSignature(blob: blob).verify(tail, namespace: "git") }
            // A random key blob with a random signature blob: an error or false, never a crash or true.
            if let key = try? SSHPublicKey(blob: blob) { #expect((try? key.isValidSignature(tail, for: blob)) != true) }
        }
    }

    static let malformed: [(String, String)] = [
        ("", "not an SSH signature: expected the text between -----BEGIN SSH SIGNATURE----- and -----END SSH SIGNATURE-----"),
        ("-----BEGIN SSH SIGNATURE-----\n-----END SSH SIGNATURE-----", "not an SSH signature: expected the text between -----BEGIN SSH SIGNATURE----- and -----END SSH SIGNATURE-----"),
        ("-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH SIGNATURE-----", "the SSH signature is not valid base64"),
        ("-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----", "the SSH signature is truncated"),
        ("-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAv////8=\n-----END SSH SIGNATURE-----", "SSH signature version 2 is not supported (only 1)"),
        ("-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAf////8=\n-----END SSH SIGNATURE-----", "the SSH signature is truncated"),
        ("-----BEGIN SSH SIGNATURE-----\nWFhYWFhYAAAAAQ==\n-----END SSH SIGNATURE-----", "the SSH signature does not start with SSHSIG"),
    ]

    @Test(arguments: malformed)
    func aMalformedSignatureIsAClearError(armored: String, message: String) {
        #expect { try SSHSignature(armored: armored) } throws: { ($0 as? SSHTrustError)?.message == message }
    }

    @Test func otherSignatureFormatsAreNamed() {
        #expect(CommitSignatureVerdict.check(nil) == .unsigned)
        let pgp = CommitSignatureVerdict.check(GitCommitSignature(signature: "-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----", signedPayload: ""))
        #expect(pgp == .unsupported("signed with OpenPGP, which dcapply does not check; sign with an SSH key (git config gpg.format ssh)"))
        #expect(CommitSignatureVerdict.check(GitCommitSignature(signature: "garbage", signedPayload: "")) == .invalid("the signature is neither SSH nor OpenPGP"))
    }

    static let badKeys: [(String, String)] = [
        ("ssh-ed25519", "expected an SSH public key such as \"ssh-ed25519 AAAAC3Nza… alice\", got \"ssh-ed25519\""),
        ("ssh-ed25519 ***", "the key of \"ssh-ed25519 ***\" is not valid base64"),
        ("ecdsa-sha2-nistp256 AAAAC3NzaC1lZDI1NTE5AAAAIJqaZq6zW1ZCVbEBgkOjlpW6uu5zOE00+0CP0+F/p71I", "the key is written as ecdsa-sha2-nistp256 but its data is a ssh-ed25519 key"),
        ("ssh-ed25519 AAAA", "the public key does not start with its type"),
    ]

    @Test(arguments: badKeys)
    func aMalformedPublicKeyIsAClearError(line: String, message: String) {
        #expect { try SSHPublicKey(line: line) } throws: { ($0 as? SSHTrustError)?.message == message }
    }

    @Test func readsAnAllowedSignersFile() throws {
        let ed = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJqaZq6zW1ZCVbEBgkOjlpW6uu5zOE00+0CP0+F/p71I"
        let text = """
            # operators
            alice@example.com \(ed) alice laptop

            "bob@example.com,robert@example.com" namespaces="git,file",valid-after="20260101",valid-before="202701011200Z" \(ed)
            ca@example.com cert-authority \(ed)
            """
        let (signers, warnings) = try AllowedSigners.parse(text, file: "signers")
        #expect(signers.count == 2)
        #expect(signers[0].principals == ["alice@example.com"])
        #expect(signers[0].key.comment == "alice laptop")
        #expect(signers[0].namespaces == nil)
        #expect(signers[1].principals == ["bob@example.com", "robert@example.com"])
        #expect(signers[1].namespaces == ["git", "file"])
        #expect(signers[1].permits(namespace: "git", at: Date(timeIntervalSince1970: 1_780_000_000)))   // 2026-05
        #expect(!signers[1].permits(namespace: "git", at: Date(timeIntervalSince1970: 1_760_000_000)))  // 2025-10
        #expect(!signers[1].permits(namespace: "git", at: Date(timeIntervalSince1970: 1_830_000_000)))  // 2027-12
        #expect(warnings == ["signers:5: cert-authority lines are skipped: dcapply does not check SSH certificates"])
    }

    static let badSignerLines: [(String, String)] = [
        ("alice@example.com", "signers:1: expected principals, optional options, a key type and a key"),
        ("alice@example.com namespaces=\"git\" ssh-ed25519", "signers:1: expected a key type and a key after the principals"),
        ("alice@example.com bogus=1 ssh-ed25519 AAAA", "signers:1: unknown option \"bogus\""),
        ("alice@example.com valid-after=\"2026\" ssh-ed25519 AAAA", "signers:1: valid-after needs a time such as \"20260101\" or \"202601011200Z\""),
        ("alice@example.com ssh-ed25519 ***", "signers:1: the key of \"ssh-ed25519 ***\" is not valid base64"),
    ]

    @Test(arguments: badSignerLines)
    func aMalformedAllowedSignersLineIsRefused(line: String, message: String) {
        #expect { try AllowedSigners.parse(line, file: "signers") } throws: { ($0 as? SSHTrustError)?.message == message }
    }
}
