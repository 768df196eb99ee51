import CLibGit2
import Foundation

/// A repository opened through libgit2: the real ``GitSource``.
///
/// libgit2 handles are not thread-safe, so every call holds one lock and no handle leaves this
/// class. Reads go to objects (commits, trees, blobs), never to a work tree, so a bare
/// repository works the same as a clone.
public final class LibGit2Repository: GitSource, @unchecked Sendable {
    /// Replaced only by a compaction, under the lock.
    private var handle: OpaquePointer
    /// Remotes looked up once per handle: libgit2 1.5's `git_remote_lookup` leaks the pcre2
    /// match data of every config entry it matches (about 20 KB a call; the soak benchmark
    /// showed serve growing by 110 KB a pass), so a daemon that fetched every interval grew
    /// without bound. Freed with the handle.
    private var remotes: [String: OpaquePointer] = [:]
    private let lock = NSLock()
    /// The folder of the repository (its `.git` folder, or the bare repository).
    public let path: String

    private static let initialized: Bool = {
        git_libgit2_init()
        return true
    }()

    private init(handle: OpaquePointer) {
        self.handle = handle
        path = git_repository_path(handle).map { String(cString: $0) } ?? ""
    }

    deinit {
        for remote in remotes.values { git_remote_free(remote) }
        git_repository_free(handle)
    }

    /// Opens the repository at `directory` or in one of its parents, as `git` does.
    public static func open(_ directory: String) throws -> LibGit2Repository {
        _ = initialized
        var repository: OpaquePointer?
        let code = git_repository_open_ext(&repository, directory, 0, nil)
        if code == GIT_ENOTFOUND.rawValue {
            throw GitError(.notFound, "\(directory) is not in a git repository (or any of its parents); pass --repo DIR")
        }
        try check(code, "open the git repository at \(directory)")
        guard let repository else { throw GitError(.other, "cannot open the git repository at \(directory)") }
        return LibGit2Repository(handle: repository)
    }

    /// Clones `url` (a path, `file://`, `https://` or `ssh://` URL) as a bare repository into
    /// `directory`, which must not exist or be empty.
    public static func cloneBare(_ url: String, into directory: String) throws -> LibGit2Repository {
        _ = initialized
        var options = git_clone_options()
        try check(git_clone_options_init(&options, UInt32(GIT_CLONE_OPTIONS_VERSION)), "prepare a clone")
        options.bare = 1
        let attempts = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        defer { attempts.deallocate() }
        GitCredentials.install(on: &options.fetch_opts.callbacks, attempts: attempts)
        var repository: OpaquePointer?
        try check(git_clone(&repository, url, directory, &options), "clone \(url)")
        guard let repository else { throw GitError(.other, "cannot clone \(url)") }
        return LibGit2Repository(handle: repository)
    }

    /// Fetches `branch` from the remote named `remote` into `refs/remotes/REMOTE/BRANCH` and
    /// returns the commit it now points at. The ref moves only once every object has arrived
    /// and been indexed, so a half-finished fetch is never seen.
    public func fetch(branch: String, remote: String = "origin") throws -> String {
        try locked {
            let remoteHandle = try remoteLocked(remote)
            var options = git_fetch_options()
            try check(git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION)), "prepare a fetch")
            options.prune = GIT_FETCH_PRUNE
            let attempts = UnsafeMutablePointer<Int>.allocate(capacity: 1)
            defer { attempts.deallocate() }
            GitCredentials.install(on: &options.callbacks, attempts: attempts)
            let refspec = "+refs/heads/\(branch):refs/remotes/\(remote)/\(branch)"
            let url = git_remote_url(remoteHandle).map { String(cString: $0) } ?? remote
            _ = try withStringArray([refspec]) { specs in
                try check(git_remote_fetch(remoteHandle, specs, &options, "dcapply fetch"), "fetch \(branch) from \(url)")
            }
            try compactIfNeededLocked()
            return try resolveLocked("refs/remotes/\(remote)/\(branch)")
        }
    }

    public func resolve(_ revision: String) throws -> String {
        try locked { try resolveLocked(revision) }
    }

    public func entry(at commit: String, path: String) throws -> GitTreeEntry? {
        try locked {
            try withTree(at: commit, path: path) { tree, entrySize in
                if let tree {
                    var names: [String] = []
                    for index in 0..<git_tree_entrycount(tree) {
                        if let entry = git_tree_entry_byindex(tree, index), let name = git_tree_entry_name(entry) {
                            names.append(String(cString: name))
                        }
                    }
                    return .directory(names: names)
                }
                return entrySize.map { .file(size: $0) }
            }
        }
    }

    public func read(at commit: String, path: String) throws -> Data? {
        try locked {
            let commitTree = try tree(ofCommit: commit)
            defer { git_tree_free(commitTree) }
            var entry: OpaquePointer?
            let code = git_tree_entry_bypath(&entry, commitTree, path)
            if code == GIT_ENOTFOUND.rawValue { return nil }
            try check(code, "read \(path) at \(commit.prefix(12))")
            defer { git_tree_entry_free(entry) }
            guard git_tree_entry_type(entry) == GIT_OBJECT_BLOB, let oid = git_tree_entry_id(entry) else { return nil }
            var blob: OpaquePointer?
            try check(git_blob_lookup(&blob, handle, oid), "read the blob of \(path) at \(commit.prefix(12))")
            defer { git_blob_free(blob) }
            let size = Int(git_blob_rawsize(blob))
            guard size > 0, let bytes = git_blob_rawcontent(blob) else { return Data() }
            return Data(bytes: bytes, count: size)
        }
    }

    /// Writes the commit's tree under `directory` (created): files with their committed
    /// executable bit, symbolic links as links; submodules are left out. A name git would never
    /// check out (`.`, `..`, `.git`, or with a `/`) fails the export.
    public func exportTree(at commit: String, into directory: String) throws {
        try locked {
            let root = try tree(ofCommit: commit)
            defer { git_tree_free(root) }
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try exportLocked(root, into: directory, commit: commit)
        }
    }

    private func exportLocked(_ tree: OpaquePointer?, into directory: String, commit: String) throws {
        for index in 0..<git_tree_entrycount(tree) {
            guard let entry = git_tree_entry_byindex(tree, index), let cName = git_tree_entry_name(entry) else { continue }
            let name = String(cString: cName)
            guard GitTreeExport.isSafe(name) else {
                throw GitError(.other, "refused to export \(commit.prefix(12)): its tree names an entry \(name.debugDescription)")
            }
            let path = directory + "/" + name
            switch git_tree_entry_type(entry) {
            case GIT_OBJECT_TREE:
                var subtree: OpaquePointer?
                try check(git_tree_lookup(&subtree, handle, git_tree_entry_id(entry)), "read the folder \(name) at \(commit.prefix(12))")
                defer { git_tree_free(subtree) }
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
                try exportLocked(subtree, into: path, commit: commit)
            case GIT_OBJECT_BLOB:
                var blob: OpaquePointer?
                try check(git_blob_lookup(&blob, handle, git_tree_entry_id(entry)), "read \(name) at \(commit.prefix(12))")
                defer { git_blob_free(blob) }
                let size = Int(git_blob_rawsize(blob))
                let data = size > 0 ? git_blob_rawcontent(blob).map { Data(bytes: $0, count: size) } ?? Data() : Data()
                let mode = git_tree_entry_filemode(entry)
                if mode == GIT_FILEMODE_LINK {
                    try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: String(decoding: data, as: UTF8.self))
                } else {
                    try GitTreeExport.write(data, to: path, executable: mode == GIT_FILEMODE_BLOB_EXECUTABLE)
                }
            default:
                continue  // a submodule's commit: not in this repository
            }
        }
    }

    public func commits(from base: String, to head: String) throws -> [GitCommit] {
        try locked {
            var headID = try oid(resolveLocked(head))
            var baseID = try oid(resolveLocked(base))
            var walk: OpaquePointer?
            try check(git_revwalk_new(&walk, handle), "walk the history")
            defer { git_revwalk_free(walk) }
            git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL.rawValue | GIT_SORT_TIME.rawValue | GIT_SORT_REVERSE.rawValue)
            try check(git_revwalk_push(walk, &headID), "walk the history from \(head)")
            try check(git_revwalk_hide(walk, &baseID), "walk the history from \(base)")
            var found: [GitCommit] = []
            var next = git_oid()
            while true {
                let code = git_revwalk_next(&next, walk)
                if code == GIT_ITEROVER.rawValue { break }
                try check(code, "walk the history between \(base) and \(head) (a shallow clone may lack it: fetch more history)")
                found.append(try commitLocked(next))
            }
            return found
        }
    }

    /// One commit, with its author, committer and raw signature (a root commit too, which
    /// `commits(from:to:)` cannot single out).
    public func commit(_ revision: String) throws -> GitCommit {
        try locked { try commitLocked(try oid(resolveLocked(revision))) }
    }

    public func mergeBase(_ one: String, _ other: String) throws -> String? {
        try locked {
            var first = try oid(resolveLocked(one))
            var second = try oid(resolveLocked(other))
            var base = git_oid()
            let code = git_merge_base(&base, handle, &first, &second)
            if code == GIT_ENOTFOUND.rawValue { return nil }
            if code < 0 { return nil }  // a shallow history ends before the common ancestor
            return Self.string(&base)
        }
    }

    // MARK: - Compaction

    /// Packs kept before a fetch compacts the clone into one.
    public static let maximumPacks = 16

    /// Each fetch that brings objects writes a new pack file, which libgit2 keeps open and mapped
    /// for the life of the handle: a daemon that fetches every commit would hold one more file
    /// and more memory per commit, for ever (the soak benchmark showed 80 commits → 79 more open
    /// files and +60 MiB). Past `maximumPacks`, every object reachable from a ref is written into
    /// one new pack, a new handle is opened, and the old packs are removed. Under the lock.
    private func compactIfNeededLocked() throws {
        guard git_repository_is_bare(handle) == 1 else { return }
        let directory = URL(fileURLWithPath: path).appendingPathComponent("objects/pack")
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
        let packs = before.filter { $0.hasSuffix(".pack") }
        guard packs.count > Self.maximumPacks else { return }
        var walk: OpaquePointer?
        _ = try check(git_revwalk_new(&walk, handle), "walk the clone's history to compact it")
        defer { git_revwalk_free(walk) }
        _ = try check(git_revwalk_push_glob(walk, "refs/*"), "walk the clone's refs")
        var builder: OpaquePointer?
        _ = try check(git_packbuilder_new(&builder, handle), "start a pack")
        defer { git_packbuilder_free(builder) }
        _ = try check(git_packbuilder_insert_walk(builder, walk), "gather the clone's objects")
        _ = try check(git_packbuilder_write(builder, directory.path, 0, nil, nil), "write the compacted pack")
        let written = Set((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).subtracting(before)
        guard written.contains(where: { $0.hasSuffix(".pack") }) else { return }
        var fresh: OpaquePointer?
        _ = try check(git_repository_open_bare(&fresh, path), "reopen the clone after compacting it")
        guard let fresh else { return }
        for name in before where name.hasPrefix("pack-") {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
        for remote in remotes.values { git_remote_free(remote) }
        remotes = [:]
        git_repository_free(handle)
        handle = fresh
    }

    // MARK: - Under the lock

    private func locked<T>(_ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// The remote named `name`, looked up once per handle (see `remotes`).
    private func remoteLocked(_ name: String) throws -> OpaquePointer {
        if let known = remotes[name] { return known }
        var found: OpaquePointer?
        try check(git_remote_lookup(&found, handle, name), "find the remote \(name)")
        guard let found else { throw GitError(.other, "cannot find the remote \(name)") }
        remotes[name] = found
        return found
    }

    private func resolveLocked(_ revision: String) throws -> String {
        var object: OpaquePointer?
        var code = git_revparse_single(&object, handle, revision)
        if code == GIT_ENOTFOUND.rawValue, !revision.hasPrefix("refs/") {
            // A CI checkout has the base branch only as a remote-tracking ref.
            code = git_revparse_single(&object, handle, "refs/remotes/origin/\(revision)")
            if code < 0 { code = git_revparse_single(&object, handle, revision) }
        }
        if code == GIT_ENOTFOUND.rawValue {
            throw GitError(.notFound, "unknown revision \(quotedName(revision)): no branch, tag or commit of that name (in a shallow CI checkout, fetch it first: git fetch origin \(revision))")
        }
        try check(code, "resolve the revision \(quotedName(revision))")
        defer { git_object_free(object) }
        var commit: OpaquePointer?
        try check(git_object_peel(&commit, object, GIT_OBJECT_COMMIT), "resolve \(quotedName(revision)) to a commit")
        defer { git_object_free(commit) }
        guard let id = git_object_id(commit) else { throw GitError(.other, "cannot resolve \(quotedName(revision))") }
        return Self.string(id)
    }

    private func oid(_ hex: String) throws -> git_oid {
        var id = git_oid()
        try check(git_oid_fromstr(&id, hex), "read the commit id \(hex)")
        return id
    }

    private func tree(ofCommit commit: String) throws -> OpaquePointer? {
        var id = try oid(commit)
        var commitHandle: OpaquePointer?
        try check(git_commit_lookup(&commitHandle, handle, &id), "read the commit \(commit.prefix(12))")
        defer { git_commit_free(commitHandle) }
        var tree: OpaquePointer?
        try check(git_commit_tree(&tree, commitHandle), "read the tree of \(commit.prefix(12))")
        return tree
    }

    /// Calls `body` with the tree at `path` (nil for a file, with the file's size), or returns
    /// nil when nothing is at the path.
    private func withTree<T>(at commit: String, path: String, _ body: (OpaquePointer?, Int?) throws -> T?) throws -> T? {
        let root = try tree(ofCommit: commit)
        defer { git_tree_free(root) }
        if path.isEmpty { return try body(root, nil) }
        var entry: OpaquePointer?
        let code = git_tree_entry_bypath(&entry, root, path)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "read \(path) at \(commit.prefix(12))")
        defer { git_tree_entry_free(entry) }
        switch git_tree_entry_type(entry) {
        case GIT_OBJECT_TREE:
            var subtree: OpaquePointer?
            try check(git_tree_lookup(&subtree, handle, git_tree_entry_id(entry)), "read the folder \(path) at \(commit.prefix(12))")
            defer { git_tree_free(subtree) }
            return try body(subtree, nil)
        case GIT_OBJECT_BLOB:
            var blob: OpaquePointer?
            try check(git_blob_lookup(&blob, handle, git_tree_entry_id(entry)), "read \(path) at \(commit.prefix(12))")
            defer { git_blob_free(blob) }
            return try body(nil, Int(git_blob_rawsize(blob)))
        default:
            return nil  // a submodule: not something manifests can be read from
        }
    }

    private func commitLocked(_ id: git_oid) throws -> GitCommit {
        var id = id
        var commit: OpaquePointer?
        try check(git_commit_lookup(&commit, handle, &id), "read the commit \(Self.string(&id))")
        defer { git_commit_free(commit) }
        var parents: [String] = []
        for index in 0..<git_commit_parentcount(commit) {
            if let parent = git_commit_parent_id(commit, index) { parents.append(Self.string(parent)) }
        }
        var signature: GitCommitSignature?
        var signatureBuffer = git_buf()
        var payloadBuffer = git_buf()
        defer {
            git_buf_dispose(&signatureBuffer)
            git_buf_dispose(&payloadBuffer)
        }
        let code = git_commit_extract_signature(&signatureBuffer, &payloadBuffer, handle, &id, nil)
        if code == 0 {
            signature = GitCommitSignature(signature: Self.string(signatureBuffer), signedPayload: Self.string(payloadBuffer))
        } else if code != GIT_ENOTFOUND.rawValue {
            try check(code, "read the signature of \(Self.string(&id))")
        }
        return GitCommit(id: Self.string(&id), parents: parents,
                         author: Self.person(git_commit_author(commit)), committer: Self.person(git_commit_committer(commit)),
                         message: git_commit_message(commit).map { String(cString: $0) } ?? "", signature: signature)
    }

    // MARK: - Conversions

    static func string(_ id: UnsafePointer<git_oid>) -> String {
        var buffer = [CChar](repeating: 0, count: 41)
        git_oid_tostr(&buffer, buffer.count, id)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func string(_ buffer: git_buf) -> String {
        guard let pointer = buffer.ptr, buffer.size > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: buffer.size), as: UTF8.self)
    }

    static func person(_ signature: UnsafePointer<git_signature>?) -> GitPerson {
        guard let signature else { return GitPerson(name: "", email: "", time: Date(timeIntervalSince1970: 0)) }
        return GitPerson(name: signature.pointee.name.map { String(cString: $0) } ?? "",
                         email: signature.pointee.email.map { String(cString: $0) } ?? "",
                         time: Date(timeIntervalSince1970: TimeInterval(signature.pointee.when.time)))
    }
}

/// Passes `strings` to C as a `git_strarray`.
private func withStringArray<T>(_ strings: [String], _ body: (UnsafeMutablePointer<git_strarray>) throws -> T) throws -> T {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { pointers.forEach { free($0) } }
    return try pointers.withUnsafeMutableBufferPointer { buffer in
        var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
        return try body(&array)
    }
}

private func quotedName(_ text: String) -> String { "\"\(text)\"" }
