import DCApplyTestSupport
import Foundation

/// What a child process printed and how it exited.
struct ProcessResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs a short-lived command to completion (see `DCApplyRunner.runCommand`); a bare name is
/// looked up on the PATH.
func runProcess(_ executable: String, _ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
    let absolute = executable.hasPrefix("/")
    let result = try DCApplyRunner.runCommand(URL(fileURLWithPath: absolute ? executable : "/usr/bin/env"),
                                              absolute ? arguments : [executable] + arguments, in: directory, environment: environment)
    return ProcessResult(status: result.exitCode, stdout: result.stdout, stderr: result.stderr)
}

/// Temporary git repositories made with the `git` command line: a bare "remote" and a work
/// clone to commit in and push from, each test with its own folder.
final class GitFixture {
    struct Failure: Error, CustomStringConvertible { let description: String }

    let root: URL
    let remote: URL
    let work: URL
    let home: URL

    /// The package root, found from this file's place in `Tests/DCApplyGitTests/`.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-git-\(UUID().uuidString)")
        remote = root.appendingPathComponent("remote.git")
        work = root.appendingPathComponent("work")
        home = root.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try git(["init", "-q", "--bare", "-b", "main", remote.path], in: root)
        try git(["init", "-q", "-b", "main", work.path], in: root)
        try git(["remote", "add", "origin", remote.path])
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// A clean environment: no user or system git configuration, fixed identities.
    var environment: [String: String] {
        ["HOME": home.path, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
         "GIT_AUTHOR_NAME": "Ada Author", "GIT_AUTHOR_EMAIL": "ada@example.com",
         "GIT_COMMITTER_NAME": "Carl Committer", "GIT_COMMITTER_EMAIL": "carl@example.com"]
    }

    @discardableResult
    func git(_ arguments: [String], in directory: URL? = nil) throws -> String {
        let result = try runProcess("git", arguments, in: directory ?? work, environment: environment)
        guard result.status == 0 else { throw Failure(description: "git \(arguments.joined(separator: " ")) failed: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes a file of the work tree (folders made as needed).
    func write(_ path: String, _ text: String) throws {
        let url = work.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// Copies the quickstart manifests into `folder` of the work tree.
    func addQuickstart(at folder: String = "manifests") throws {
        let examples = Self.packageRoot.appendingPathComponent("Examples/quickstart")
        for name in ["site.yaml", "inventory.yaml"] {
            try write("\(folder)/\(name)", try String(contentsOf: examples.appendingPathComponent(name), encoding: .utf8))
        }
    }

    /// Replaces text in a work-tree file.
    func edit(_ path: String, replacing old: String, with new: String) throws {
        let text = try String(contentsOf: work.appendingPathComponent(path), encoding: .utf8)
        guard text.contains(old) else { throw Failure(description: "\(path) does not contain \(old)") }
        try write(path, text.replacingOccurrences(of: old, with: new))
    }

    /// Commits everything and returns the new commit's id.
    @discardableResult
    func commit(_ message: String) throws -> String {
        try git(["add", "-A"])
        try git(["commit", "-q", "-m", message])
        return try git(["rev-parse", "HEAD"])
    }

    func push() throws { try git(["push", "-q", "origin", "main"]) }
}

/// The built `dcapply` executable, found as every end-to-end test finds it (`DCAPPLY_BINARY` wins).
enum DCApplyBinary {
    static func url() throws -> URL { try DCApplyRunner.executableURL() }

    static func run(_ arguments: [String], in directory: URL) throws -> ProcessResult {
        try runProcess(try url().path, arguments, in: directory)
    }
}
