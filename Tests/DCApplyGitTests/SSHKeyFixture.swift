import Foundation

/// SSH keys made with `ssh-keygen` in a temporary folder, removed when the fixture goes.
final class SSHKeyFixture {
    struct Key {
        let privateKey: URL
        /// `ssh-ed25519 AAAA… comment`, as `ssh-keygen` wrote it.
        let publicLine: String
    }

    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-ssh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// A new key without a passphrase: `type` is what `ssh-keygen -t` takes (ed25519, ecdsa, rsa).
    func make(_ name: String, type: String = "ed25519", bits: Int? = nil) throws -> Key {
        let path = root.appendingPathComponent(name)
        var arguments = ["-q", "-t", type, "-N", "", "-C", name, "-f", path.path]
        if let bits { arguments += ["-b", String(bits)] }
        let result = try runProcess("ssh-keygen", arguments)
        guard result.status == 0 else { throw GitFixture.Failure(description: "ssh-keygen \(arguments) failed: \(result.stderr)") }
        let line = try String(contentsOf: path.appendingPathExtension("pub"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return Key(privateKey: path, publicLine: line)
    }

    /// `ssh-keygen -Y sign -n NAMESPACE` over `message`; returns the armored signature.
    func sign(_ message: String, with key: Key, namespace: String = "git") throws -> String {
        let file = root.appendingPathComponent("message-\(UUID().uuidString)")
        try message.write(to: file, atomically: true, encoding: .utf8)
        let result = try runProcess("ssh-keygen", ["-Y", "sign", "-n", namespace, "-f", key.privateKey.path, file.path])
        guard result.status == 0 else { throw GitFixture.Failure(description: "ssh-keygen -Y sign failed: \(result.stderr)") }
        return try String(contentsOf: file.appendingPathExtension("sig"), encoding: .utf8)
    }

    /// The fingerprint `ssh-keygen -l` prints for a key: `SHA256:…`.
    func fingerprint(of key: Key) throws -> String {
        let result = try runProcess("ssh-keygen", ["-l", "-f", key.privateKey.path + ".pub"])
        return result.stdout.split(separator: " ").dropFirst().first.map(String.init) ?? ""
    }
}

extension GitFixture {
    /// Commits everything as `author`, signed with `key` through git's own SSH signing
    /// (`gpg.format=ssh`, which runs `ssh-keygen -Y sign`), or unsigned when `key` is nil.
    @discardableResult
    func commit(_ message: String, signedWith key: SSHKeyFixture.Key?, author: String = "Ada Author", email: String = "ada@example.com") throws -> String {
        try git(["add", "-A"])
        var arguments = ["commit", "-q", "-m", message]
        if let key { arguments = ["-c", "gpg.format=ssh", "-c", "user.signingkey=\(key.privateKey.path)"] + arguments + ["-S"] }
        var environment = environment
        environment["GIT_AUTHOR_NAME"] = author
        environment["GIT_AUTHOR_EMAIL"] = email
        let result = try runProcess("git", arguments, in: work, environment: environment)
        guard result.status == 0 else { throw Failure(description: "git \(arguments.joined(separator: " ")) failed: \(result.stderr)") }
        return try git(["rev-parse", "HEAD"])
    }
}
