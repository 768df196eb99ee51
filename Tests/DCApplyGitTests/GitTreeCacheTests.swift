import DCApplyGit
import Foundation
import Testing

/// The copies of committed files that exec plugins run from under `serve`, from a bare
/// repository made with the git CLI and from the in-memory source.
@Suite("Trees of commits on disk", .timeLimit(.minutes(2)))
struct GitTreeCacheTests {
    static func mode(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    @Test func aBareRepositoryCommitIsWrittenWithItsExecutableBitsLinksAndFolders() throws {
        let fixture = try GitFixture()
        try fixture.write("site/site.yaml", "kind: Site\n")
        try fixture.write("site/actuators/plugin.sh", "#!/bin/sh\necho one\n")
        try fixture.write("README", "read me\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fixture.work.appendingPathComponent("site/actuators/plugin.sh").path)
        try fixture.git(["add", "-A"])
        _ = try fixture.git(["commit", "-q", "-m", "files"])
        try FileManager.default.createSymbolicLink(atPath: fixture.work.appendingPathComponent("site/run").path, withDestinationPath: "actuators/plugin.sh")
        let commit = try fixture.commit("a link")
        try fixture.push()
        let repository = try LibGit2Repository.open(fixture.remote.path)
        let cache = GitTreeCache(root: fixture.root.appendingPathComponent("trees").path)

        let folder = try cache.folder(for: commit, from: repository)
        #expect(folder == cache.root + "/" + commit)
        #expect(try String(contentsOfFile: folder + "/site/actuators/plugin.sh", encoding: .utf8) == "#!/bin/sh\necho one\n")
        #expect(try Self.mode(folder + "/site/actuators/plugin.sh") == 0o755)
        #expect(try Self.mode(folder + "/site/site.yaml") == 0o644)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: folder + "/site/run") == "actuators/plugin.sh")
        #expect(try String(contentsOfFile: folder + "/README", encoding: .utf8) == "read me\n")
        // Asked again: the same folder, not exported twice (a file added by hand stays).
        try "mine".write(toFile: folder + "/marker", atomically: true, encoding: .utf8)
        #expect(try cache.folder(for: commit, from: repository) == folder)
        #expect(FileManager.default.fileExists(atPath: folder + "/marker"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.root) == [commit], "no partial export left behind")
    }

    @Test func onlyTheMostRecentlyUsedTreesAreKept() throws {
        let source = InMemoryGitSource()
        let commits = (1...4).map { source.commit(["site/plugin.py": Data("#!/usr/bin/env python3\nprint(\($0))\n".utf8), "site/site.yaml": Data("n: \($0)\n".utf8)]) }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-trees-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = GitTreeCache(root: root, keep: 2)
        for commit in commits { _ = try cache.folder(for: commit, from: source) }
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: root)) == Set(commits.suffix(2)))
        let last = root + "/" + commits[3]
        #expect(try String(contentsOfFile: last + "/site/site.yaml", encoding: .utf8) == "n: 4\n")
        #expect(FileManager.default.isExecutableFile(atPath: last + "/site/plugin.py"), "a #! file is executable in memory")
        #expect(!FileManager.default.isExecutableFile(atPath: last + "/site/site.yaml"))
    }

    @Test func aCommitWithAGitFolderIsRefused() throws {
        let source = InMemoryGitSource()
        let commit = source.commit(["site/site.yaml": Data("n: 1\n".utf8), ".git/hooks/post-checkout": Data("#!/bin/sh\n".utf8)])
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-trees-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(throws: GitError.self) { try GitTreeCache(root: root).folder(for: commit, from: source) }
        #expect((try? FileManager.default.contentsOfDirectory(atPath: root)) == [], "the partial export is removed")
    }
}
