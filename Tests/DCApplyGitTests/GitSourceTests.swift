import DCApplyCore
import DCApplyGit
import Foundation
import Testing

@Suite("Git source (libgit2) on real repositories", .timeLimit(.minutes(5)))
struct GitSourceTests {
    @Test func resolvesBranchesTagsShasAndAncestors() throws {
        let fixture = try GitFixture()
        try fixture.addQuickstart()
        let first = try fixture.commit("first")
        try fixture.git(["tag", "v1"])
        try fixture.edit("manifests/site.yaml", replacing: "replicas: 4", with: "replicas: 2")
        let second = try fixture.commit("second")
        let repository = try LibGit2Repository.open(fixture.work.path)
        #expect(try repository.resolve("HEAD") == second)
        #expect(try repository.resolve("main") == second)
        #expect(try repository.resolve("HEAD~1") == first)
        #expect(try repository.resolve("v1") == first)
        #expect(try repository.resolve(String(first.prefix(10))) == first)
        #expect(throws: GitError.self) { try repository.resolve("no-such-branch") }
        do {
            _ = try repository.resolve("no-such-branch")
        } catch let error as GitError {
            #expect(error.reason == .notFound)
            #expect(error.message.hasPrefix("unknown revision \"no-such-branch\""))
        }
    }

    @Test func readsManifestsFromTheCommitNotTheWorkTree() throws {
        let fixture = try GitFixture()
        try fixture.addQuickstart()
        try fixture.write("manifests/.hidden/skip.yaml", "not: read")
        try fixture.write("manifests/README.md", "not yaml")
        let commit = try fixture.commit("first")
        // An uncommitted edit in the work tree must not be seen.
        try fixture.edit("manifests/site.yaml", replacing: "replicas: 4", with: "replicas: 3")
        try fixture.write("manifests/untracked.yaml", "kind: Nonsense")
        let repository = try LibGit2Repository.open(fixture.work.appendingPathComponent("manifests").path)  // found from a subfolder
        let (sources, diagnostics) = try repository.manifests(at: commit, paths: ["manifests"])
        #expect(diagnostics.isEmpty)
        #expect(sources.map(\.path) == ["manifests/inventory.yaml", "manifests/site.yaml"])
        #expect(sources.map(\.relativePath) == ["inventory.yaml", "site.yaml"])
        #expect(sources[1].text.contains("replicas: 4"))
        let whole = try repository.manifests(at: commit, paths: [])
        #expect(whole.sources.count == 2)
        let missing = try repository.manifests(at: commit, paths: ["nowhere"])
        #expect(missing.diagnostics.map(\.message) == ["nowhere: no such file or directory at commit \(commit.prefix(12))"])
    }

    @Test func loadsASiteWithTheInventoryFromTheSameCommit() async throws {
        let fixture = try GitFixture()
        try fixture.addQuickstart()
        let commit = try fixture.commit("first")
        // The work tree's inventory is broken; the commit's is not.
        try fixture.write("manifests/inventory.yaml", "apiVersion: dcapply/v1\nkind: Inventory\nnodes: 12\n")
        let repository = try LibGit2Repository.open(fixture.work.path)
        let reconciler = Reconciler(store: InMemoryStateStore(), logger: .init(label: "test"))
        let site = try await reconciler.load(commit: commit, paths: ["manifests"], from: repository)
        #expect(!site.diagnostics.hasErrors, "\(site.diagnostics)")
        #expect(site.observed.nodes.count == 6)
    }

    @Test func reportsErrorsWithRepositoryPaths() async throws {
        let fixture = try GitFixture()
        try fixture.addQuickstart()
        try fixture.edit("manifests/site.yaml", replacing: "replicas: 4", with: "replicas: lots")
        let commit = try fixture.commit("broken")
        let repository = try LibGit2Repository.open(fixture.work.path)
        let reconciler = Reconciler(store: InMemoryStateStore(), logger: .init(label: "test"))
        let site = try await reconciler.load(commit: commit, paths: ["manifests"], from: repository)
        let errors = site.diagnostics.filter { $0.severity == .error }
        #expect(errors.count == 1)
        #expect(errors.first?.location?.file == "manifests/site.yaml")
    }

    @Test func listsCommitsWithAuthorCommitterAndSignature() throws {
        let fixture = try GitFixture()
        try fixture.addQuickstart()
        let base = try fixture.commit("first")
        try fixture.edit("manifests/site.yaml", replacing: "replicas: 4", with: "replicas: 2")
        let plain = try fixture.commit("fewer replicas\n\nbody")
        // An SSH-signed commit, as issue 7 will verify.
        let key = fixture.home.appendingPathComponent("id_ed25519")
        let keygen = try runProcess("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key.path], environment: fixture.environment)
        try #require(keygen.status == 0, "\(keygen.stderr)")
        try fixture.edit("manifests/site.yaml", replacing: "replicas: 2", with: "replicas: 3")
        try fixture.git(["add", "-A"])
        try fixture.git(["-c", "gpg.format=ssh", "-c", "user.signingkey=\(key.path).pub", "commit", "-q", "-S", "-m", "signed"])
        let repository = try LibGit2Repository.open(fixture.work.path)
        let commits = try repository.commits(from: base, to: "HEAD")
        #expect(commits.map(\.id).prefix(1) == [plain])
        #expect(commits.count == 2)
        #expect(commits[0].summary == "fewer replicas")
        #expect(commits[0].author.name == "Ada Author")
        #expect(commits[0].author.email == "ada@example.com")
        #expect(commits[0].committer.name == "Carl Committer")
        #expect(commits[0].parents == [base])
        #expect(commits[0].signature == nil)
        let signature = try #require(commits[1].signature)
        #expect(signature.signature.hasPrefix("-----BEGIN SSH SIGNATURE-----"))
        #expect(signature.signedPayload.contains("\nsigned\n") || signature.signedPayload.hasSuffix("signed\n"))
        #expect(!signature.signedPayload.contains("gpgsig"))
    }

    @Test func clonesAndFetchesABareRemote() throws {
        let fixture = try GitFixture()
        try fixture.addQuickstart()
        let first = try fixture.commit("first")
        try fixture.push()
        let clone = fixture.root.appendingPathComponent("clone.git").path
        let repository = try LibGit2Repository.cloneBare("file://" + fixture.remote.path, into: clone)
        #expect(try repository.fetch(branch: "main") == first)
        try fixture.edit("manifests/site.yaml", replacing: "replicas: 4", with: "replicas: 2")
        let second = try fixture.commit("second")
        try fixture.push()
        #expect(try repository.fetch(branch: "main") == second)
        #expect(try repository.read(at: second, path: "manifests/site.yaml").map { String(decoding: $0, as: UTF8.self).contains("replicas: 2") } == true)
        #expect(throws: GitError.self) { try repository.fetch(branch: "no-such-branch") }
    }

    /// A daemon fetches once per commit, and each fetch writes a pack that libgit2 keeps open:
    /// past `maximumPacks` the clone is compacted into one pack, with every commit still readable
    /// (issue 12's soak: 80 commits had left 79 more files open).
    @Test func aLongRunningCloneIsCompactedAndKeepsEveryCommit() throws {
        let fixture = try GitFixture()
        try fixture.addQuickstart()
        var commits = [try fixture.commit("first")]
        try fixture.push()
        let clone = fixture.root.appendingPathComponent("clone.git")
        let repository = try LibGit2Repository.cloneBare("file://" + fixture.remote.path, into: clone.path)
        func packs() throws -> Int {
            try FileManager.default.contentsOfDirectory(atPath: clone.appendingPathComponent("objects/pack").path).filter { $0.hasSuffix(".pack") }.count
        }
        var most = 0
        for round in 1...(LibGit2Repository.maximumPacks + 6) {
            try fixture.write("manifests/note-\(round).txt", "round \(round)\n")
            commits.append(try fixture.commit("round \(round)"))
            try fixture.push()
            #expect(try repository.fetch(branch: "main") == commits.last)
            most = max(most, try packs())
        }
        #expect(most <= LibGit2Repository.maximumPacks + 1)
        #expect(try packs() < LibGit2Repository.maximumPacks)
        for (round, commit) in commits.enumerated() where round > 0 {
            let note = try repository.read(at: commit, path: "manifests/note-\(round).txt")
            #expect(note.map { String(decoding: $0, as: UTF8.self) } == "round \(round)\n")
        }
        #expect(try repository.commits(from: commits[0], to: commits[commits.count - 1]).count == commits.count - 1)
    }
}
