import DCApplyCore
import DCApplyGit
import Foundation
import Testing

/// The in-memory twin keeps GitSource's contract: trees read exactly, history oldest first,
/// revisions resolved like `git rev-parse` for the forms dcapply uses.
@Suite("InMemoryGitSource")
struct InMemoryGitSourceTests {
    @Test func treesHistoryAndRevisionsFollowTheContract() throws {
        let git = InMemoryGitSource()
        let one = git.commit(["manifests/site.yaml": Data("a".utf8), "manifests/sub/x.yml": Data("xy".utf8), "README": Data()], message: "one")
        let two = git.commit(changing: ["manifests/site.yaml": Data("b".utf8), "README": nil], message: "two")
        #expect(one.count == 40 && two.count == 40 && one != two)
        #expect(try git.resolve("main") == two)
        #expect(try git.resolve("\(two)^") == one)
        #expect(try git.resolve(String(one.prefix(12))) == one)
        #expect(throws: GitError.self) { try git.resolve("\(one)^") }
        #expect(try git.fetch(branch: "main") == two)
        #expect(throws: GitError.self) { try git.fetch(branch: "other") }

        #expect(try git.entry(at: one, path: "") == .directory(names: ["README", "manifests"]))
        #expect(try git.entry(at: two, path: "") == .directory(names: ["manifests"]))
        #expect(try git.entry(at: one, path: "manifests/") == .directory(names: ["site.yaml", "sub"]))
        #expect(try git.entry(at: one, path: "manifests/sub/x.yml") == .file(size: 2))
        #expect(try git.entry(at: one, path: "nothing") == nil)
        #expect(try git.read(at: two, path: "manifests/site.yaml") == Data("b".utf8))
        #expect(try git.read(at: one, path: "./manifests//site.yaml") == Data("a".utf8))

        let (sources, diagnostics) = try git.manifests(at: one, paths: ["manifests"])
        #expect(diagnostics.isEmpty)
        #expect(sources.map(\.relativePath) == ["site.yaml", "sub/x.yml"])

        let three = git.commit(changing: ["c.yaml": Data("c".utf8)], message: "three")
        #expect(try git.commits(from: one, to: three).map(\.message) == ["two", "three"])
        #expect(try git.commits(from: three, to: three).isEmpty)

        // A side branch and its merge base.
        git.move("side", to: one)
        let side = git.commit(changing: ["d.yaml": Data("d".utf8)], on: "side", message: "side")
        #expect(try git.mergeBase(side, three) == one)
        git.move("main", to: side)
        #expect(try git.resolve("main") == side)
    }
}
