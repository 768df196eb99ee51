import Crypto
import Foundation
import Synchronization

/// The in-memory twin of ``LibGit2Repository`` for tests: a commit is a dictionary of paths to
/// bytes with its parents, and a branch head is moved by the test (`commit(_:on:)`, `move`).
/// It keeps ``GitSource``'s contract (full ids, trees read exactly, `X^` for a first parent,
/// history oldest first) so whatever reads git (manifests, inventories, the trust check, the
/// daemon) runs over it unchanged.
public final class InMemoryGitSource: GitRemoteSource {
    /// One stored commit: the files of its tree and its history data.
    public struct StoredCommit: Sendable {
        public var commit: GitCommit
        public var files: [String: Data]
    }

    private struct Contents {
        var commits: [String: StoredCommit] = [:]
        var branches: [String: String] = [:]
        var fetchError: GitError?
        var fetches = 0
        var serial = 0
    }

    private let contents = Mutex(Contents())

    public init() {}

    /// Records a commit whose tree is `files` (path → bytes) on `branch`, its parent the branch's
    /// current head, and moves the branch to it; returns its id (40 hex digits).
    @discardableResult
    public func commit(_ files: [String: Data], on branch: String = "main", message: String = "commit",
                       author: String = "Test <test@example.com>", signature: GitCommitSignature? = nil) -> String {
        contents.withLock { contents in
            contents.serial += 1
            let parents = contents.branches[branch].map { [$0] } ?? []
            var hasher = SHA256()
            hasher.update(data: Data("\(contents.serial)\n\(parents.joined(separator: ","))\n\(message)\n".utf8))
            for path in files.keys.sorted() {
                hasher.update(data: Data(path.utf8))
                hasher.update(data: files[path] ?? Data())
            }
            let id = hasher.finalize().prefix(20).map { String(format: "%02x", $0) }.joined()
            let name = author.split(separator: "<").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? author
            let email = author.split(separator: "<").dropFirst().first.map { String($0.dropLast()) } ?? ""
            let person = GitPerson(name: name, email: email, time: Date(timeIntervalSince1970: Double(1_700_000_000 + contents.serial)))
            let normalized = Dictionary(uniqueKeysWithValues: files.map { (GitPath.normalize($0.key), $0.value) })
            contents.commits[id] = StoredCommit(commit: GitCommit(id: id, parents: parents, author: person, committer: person,
                                                                  message: message, signature: signature),
                                                files: normalized)
            contents.branches[branch] = id
            return id
        }
    }

    /// A commit with the same tree as `base` (the branch head when nil) but `changes` applied:
    /// a path mapped to nil is deleted.
    @discardableResult
    public func commit(changing changes: [String: Data?], on branch: String = "main", message: String = "commit") -> String {
        let base = contents.withLock { contents in contents.branches[branch].flatMap { contents.commits[$0]?.files } ?? [:] }
        var files = base
        for (path, data) in changes { files[GitPath.normalize(path)] = data }
        return commit(files, on: branch, message: message)
    }

    /// Points `branch` at `commit` (a reset, a force-push, a revert made elsewhere).
    public func move(_ branch: String, to commit: String) {
        contents.withLock { $0.branches[branch] = commit }
    }

    /// Makes every fetch fail with `error` until it is set back to nil (the remote is away).
    public func failFetches(_ error: GitError?) {
        contents.withLock { $0.fetchError = error }
    }

    /// How many fetches were asked for.
    public var fetchCount: Int { contents.withLock { $0.fetches } }

    public func fetch(branch: String) throws -> String {
        try contents.withLock { contents in
            contents.fetches += 1
            if let error = contents.fetchError { throw error }
            guard let head = contents.branches[branch] else { throw GitError(.remote, "cannot fetch \(branch): the remote has no such branch") }
            return head
        }
    }

    public func resolve(_ revision: String) throws -> String {
        try contents.withLock { try Self.resolve(revision, in: $0) }
    }

    public func entry(at commit: String, path: String) throws -> GitTreeEntry? {
        let files = try tree(commit)
        let path = GitPath.normalize(path)
        if let data = files[path] { return .file(size: data.count) }
        let prefix = path.isEmpty ? "" : path + "/"
        let names = Set(files.keys.filter { $0.hasPrefix(prefix) }.compactMap { $0.dropFirst(prefix.count).split(separator: "/").first.map(String.init) })
        return names.isEmpty ? nil : .directory(names: names.sorted())
    }

    public func read(at commit: String, path: String) throws -> Data? {
        try tree(commit)[GitPath.normalize(path)]
    }

    public func commit(_ revision: String) throws -> GitCommit {
        try contents.withLock { contents in
            let id = try Self.resolve(revision, in: contents)
            guard let stored = contents.commits[id] else { throw GitError(.notFound, "cannot read the commit \(revision)") }
            return stored.commit
        }
    }

    public func commits(from base: String, to head: String) throws -> [GitCommit] {
        try contents.withLock { contents in
            let excluded = Self.ancestors(of: try Self.resolve(base, in: contents), in: contents)
            var order: [GitCommit] = []
            var seen = Set<String>()
            // Depth-first from head, parents before children: oldest first.
            func visit(_ id: String) {
                guard !excluded.contains(id), seen.insert(id).inserted, let stored = contents.commits[id] else { return }
                for parent in stored.commit.parents { visit(parent) }
                order.append(stored.commit)
            }
            visit(try Self.resolve(head, in: contents))
            return order
        }
    }

    public func mergeBase(_ one: String, _ other: String) throws -> String? {
        try contents.withLock { contents in
            let first = Self.ancestors(of: try Self.resolve(one, in: contents), in: contents)
            var queue = [try Self.resolve(other, in: contents)]
            var seen = Set<String>()
            while !queue.isEmpty {
                let id = queue.removeFirst()
                if first.contains(id) { return id }
                guard seen.insert(id).inserted else { continue }
                queue += contents.commits[id]?.commit.parents ?? []
            }
            return nil
        }
    }

    /// Writes the commit's files; with no file modes in memory, a file that starts with `#!`
    /// is written executable.
    public func exportTree(at commit: String, into directory: String) throws {
        for (path, data) in try tree(commit).sorted(by: { $0.key < $1.key }) {
            guard path.split(separator: "/").allSatisfy({ GitTreeExport.isSafe(String($0)) }) else {
                throw GitError(.other, "refused to export \(commit.prefix(12)): it names a file \(path.debugDescription)")
            }
            let file = directory + "/" + path
            try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: file).deletingLastPathComponent().path, withIntermediateDirectories: true)
            try GitTreeExport.write(data, to: file, executable: data.starts(with: Array("#!".utf8)))
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    private func tree(_ commit: String) throws -> [String: Data] {
        try contents.withLock { contents in
            let id = try Self.resolve(commit, in: contents)
            return contents.commits[id]?.files ?? [:]
        }
    }

    private static func ancestors(of id: String, in contents: Contents) -> Set<String> {
        var found = Set<String>()
        var pending = [id]
        while let next = pending.popLast() {
            guard found.insert(next).inserted else { continue }
            pending += contents.commits[next]?.commit.parents ?? []
        }
        return found
    }

    /// A branch name, a full or abbreviated id, each optionally followed by `^` (first parent).
    private static func resolve(_ revision: String, in contents: Contents) throws -> String {
        if revision.hasSuffix("^") {
            let child = try resolve(String(revision.dropLast()), in: contents)
            guard let parent = contents.commits[child]?.commit.parents.first else {
                throw GitError(.notFound, "cannot resolve \(revision): the commit has no parent")
            }
            return parent
        }
        if let head = contents.branches[revision] ?? contents.branches[revision.replacingOccurrences(of: "refs/heads/", with: "")] { return head }
        if contents.commits[revision] != nil { return revision }
        let matches = contents.commits.keys.filter { revision.count >= 4 && $0.hasPrefix(revision.lowercased()) }
        if matches.count > 1 { throw GitError(.ambiguous, "cannot resolve \(revision): it names more than one commit") }
        guard let only = matches.first else { throw GitError(.notFound, "cannot resolve \(revision): no such revision") }
        return only
    }
}
