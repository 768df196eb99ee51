import DCApplyCore
import Foundation

/// Who made a commit, and when.
public struct GitPerson: Sendable, Hashable, Codable {
    public var name: String
    public var email: String
    public var time: Date

    public init(name: String, email: String, time: Date) {
        self.name = name
        self.email = email
        self.time = time
    }
}

/// A commit's signature exactly as stored (`gpgsig` header: an SSH, OpenPGP or X.509 signature)
/// and the bytes it signs. Checking it is the caller's job.
public struct GitCommitSignature: Sendable, Hashable, Codable {
    public var signature: String
    public var signedPayload: String

    public init(signature: String, signedPayload: String) {
        self.signature = signature
        self.signedPayload = signedPayload
    }
}

/// One commit of the history.
public struct GitCommit: Sendable, Hashable, Codable {
    public var id: String
    public var parents: [String]
    public var author: GitPerson
    public var committer: GitPerson
    public var message: String
    public var signature: GitCommitSignature?

    public init(id: String, parents: [String], author: GitPerson, committer: GitPerson, message: String, signature: GitCommitSignature?) {
        self.id = id
        self.parents = parents
        self.author = author
        self.committer = committer
        self.message = message
        self.signature = signature
    }

    /// The first line of the message.
    public var summary: String { String(message.split(separator: "\n", omittingEmptySubsequences: false).first ?? "") }
    public var shortID: String { String(id.prefix(12)) }
}

/// An entry of a tree at a commit.
public enum GitTreeEntry: Sendable, Hashable {
    case file(size: Int)
    case directory(names: [String])
}

/// Reads manifests and history from a git repository's objects, never from a work tree.
///
/// Contract: revisions are anything `git rev-parse` accepts (branch, tag, sha, `HEAD~1`,
/// `origin/main`) and resolve to a full commit id; `entry`, `read` see the tree of that commit
/// exactly; a path is relative to the repository root with `/` separators (`""` is the root).
/// Nothing here changes the repository. Errors are ``GitError``s with a message for people.
public protocol GitSource: Sendable {
    /// The full id of the commit a revision names.
    func resolve(_ revision: String) throws -> String
    /// What is at `path` in the commit's tree, or nil when nothing is.
    func entry(at commit: String, path: String) throws -> GitTreeEntry?
    /// The bytes of the file at `path` in the commit's tree, or nil when there is no such file.
    func read(at commit: String, path: String) throws -> Data?
    /// The commit a revision names, with its author, committer and raw signature (a root
    /// commit too, which `commits(from:to:)` cannot name a base for).
    func commit(_ revision: String) throws -> GitCommit
    /// The commits reachable from `head` and not from `base`, oldest first, each with its author,
    /// committer and raw signature.
    func commits(from base: String, to head: String) throws -> [GitCommit]
    /// The best common ancestor of two commits (what a pull request is compared against), or
    /// nil when the history at hand has none (unrelated histories, a shallow clone).
    func mergeBase(_ one: String, _ other: String) throws -> String?
    /// Writes the files of the commit's tree under `directory` (created; expected empty), with
    /// their executable bits, for programs that must run from disk (``GitTreeCache``).
    func exportTree(at commit: String, into directory: String) throws
}

extension GitSource {
    /// The manifests at a commit, found as `ManifestFiles` finds them on disk: each path is a file,
    /// or a directory read recursively for `*.yaml` and `*.yml` in byte order, skipping names
    /// that start with `.`. Each file is shown under its path inside the repository, so messages
    /// read `manifests/site.yaml:3:5`.
    public func manifests(at commit: String, paths: [String], limits: InputLimits = .standard) throws -> (sources: [SourceFile], diagnostics: [Diagnostic]) {
        var sources: [SourceFile] = []
        var diagnostics: [Diagnostic] = []
        for original in paths.isEmpty ? [""] : paths {
            let path = GitPath.normalize(original)
            switch try entry(at: commit, path: path) {
            case nil:
                diagnostics.append(.error("\(original): no such file or directory at commit \(commit.prefix(12))"))
            case .file:
                if let source = try readSource(at: commit, path: path, limits: limits, diagnostics: &diagnostics) {
                    var named = source
                    named.relativePath = String(path.split(separator: "/").last ?? Substring(path))
                    sources.append(named)
                }
            case .directory:
                let files = try yamlFiles(at: commit, under: path)
                if files.isEmpty { diagnostics.append(.error("\(original.isEmpty ? "." : original): no *.yaml or *.yml files at commit \(commit.prefix(12))")) }
                for file in files {
                    guard var source = try readSource(at: commit, path: file, limits: limits, diagnostics: &diagnostics) else { continue }
                    source.relativePath = path.isEmpty ? file : String(file.dropFirst(path.count + 1))
                    sources.append(source)
                }
            }
        }
        return (sources, diagnostics)
    }

    /// Every `*.yaml`/`*.yml` file under a directory of the commit, in byte order of the path.
    func yamlFiles(at commit: String, under directory: String) throws -> [String] {
        var found: [String] = []
        var pending = [directory]
        while let current = pending.popLast() {
            guard case .directory(let names) = try entry(at: commit, path: current) else { continue }
            for name in names where !name.hasPrefix(".") {
                let path = current.isEmpty ? name : current + "/" + name
                switch try entry(at: commit, path: path) {
                case .directory: pending.append(path)
                case .file where name.hasSuffix(".yaml") || name.hasSuffix(".yml"): found.append(path)
                default: break
                }
            }
        }
        return found.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// One file as text, or nil with a diagnostic when it is too large, missing or not UTF-8.
    func readSource(at commit: String, path: String, limits: InputLimits, diagnostics: inout [Diagnostic]) throws -> SourceFile? {
        let start = SourceLocation(file: path, line: 1, column: 1)
        if case .file(let size) = try entry(at: commit, path: path), size > limits.maxFileBytes {
            diagnostics.append(.error("file is \(size / (1 << 20)) MiB; input files are limited to \(limits.maxFileBytes >> 20) MiB", at: start))
            return nil
        }
        guard let data = try read(at: commit, path: path) else {
            diagnostics.append(.error("no such file at commit \(commit.prefix(12))", at: start))
            return nil
        }
        switch SourceReader.decode(data, displayPath: path) {
        case .success(let source): return source
        case .failure(let diagnostic): diagnostics.append(diagnostic); return nil
        }
    }
}

/// Paths inside a repository.
public enum GitPath {
    /// `./a//b/` → `a/b`; `.` and `/` → the root, `""`.
    public static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }
}
