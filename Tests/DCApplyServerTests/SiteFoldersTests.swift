import DCApplyGit
import DCApplyServer
import Foundation
import Testing

/// `--path` globs matched against a revision's tree.
@Suite("SiteFolders")
struct SiteFoldersTests {
    static func repository() -> (InMemoryGitSource, String) {
        let git = InMemoryGitSource()
        let yaml = Data("x: 1\n".utf8)
        let head = git.commit(["sites/east/site.yaml": yaml, "sites/west/site.yaml": yaml, "sites/.hidden/site.yaml": yaml,
                               "sites/README.md": yaml, "regions/eu/a/site.yaml": yaml, "regions/us/b/site.yaml": yaml, "one/site.yaml": yaml])
        return (git, head)
    }

    @Test(arguments: [("*", "east", true), ("e*", "east", true), ("e*", "west", false), ("*", ".hidden", false), (".h*", ".hidden", true),
                      ("[ew]*", "west", true), ("?est", "west", true), ("*", "a/b", false)])
    func matchesOneComponent(pattern: String, name: String, matches: Bool) {
        #expect(SiteFolders.matches(pattern, name) == matches)
    }

    @Test func aGlobMatchesDirectoriesOnlyInByteOrder() throws {
        let (git, head) = Self.repository()
        #expect(try SiteFolders.resolve(["sites/*"], at: head, in: git) == ["sites/east", "sites/west"])
        #expect(try SiteFolders.resolve(["regions/*/*"], at: head, in: git) == ["regions/eu/a", "regions/us/b"])
        #expect(try SiteFolders.resolve(["nothing/*"], at: head, in: git) == [])
    }

    @Test func pathsAreKeptAsWrittenAndEachFolderOnce() throws {
        let (git, head) = Self.repository()
        #expect(try SiteFolders.resolve(["one", "./sites/west/", "sites/*", "missing"], at: head, in: git) == ["one", "sites/west", "sites/east", "missing"])
        #expect(SiteFolders.isPattern("sites/*") && !SiteFolders.isPattern("sites/east"))
    }
}
