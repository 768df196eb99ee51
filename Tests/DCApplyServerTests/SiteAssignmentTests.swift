import DCApplyServer
import Testing

/// Which folder serves which site: one Site per folder, named by it; unreadable folders keep
/// their name; duplicate names keep the folder already serving.
@Suite("SiteAssignment")
struct SiteAssignmentTests {
    typealias Folder = SiteAssignment.Folder
    typealias Site = SiteAssignment.Site

    @Test func eachFolderIsServedUnderItsSitesName() {
        let result = SiteAssignment.assign([Folder(path: "sites/west", sites: ["west"]), Folder(path: "sites/east", sites: ["east"])], current: [])
        #expect(result.sites == [Site(name: "east", path: "sites/east"), Site(name: "west", path: "sites/west")])
        #expect(result.problems.isEmpty)
    }

    @Test func aFolderWithoutOneSiteIsNotServedUnlessItAlreadyIs() {
        let folders = [Folder(path: "sites/empty", sites: []), Folder(path: "sites/two", sites: ["b", "a"]),
                       Folder(path: "sites/broken", sites: nil, error: "site.yaml:3:1: bad"), Folder(path: "sites/east", sites: nil, error: "x.yaml:1:1: bad")]
        let result = SiteAssignment.assign(folders, current: [Site(name: "east", path: "sites/east")])
        #expect(result.sites == [Site(name: "east", path: "sites/east")])
        #expect(result.problems == [
            "sites/empty: declares no Site; not served",
            "sites/two: declares 2 Sites (a, b); a site folder declares one; not served",
            "sites/broken: cannot be read: site.yaml:3:1: bad; not served",
        ])
    }

    @Test func twoFoldersNamingOneSiteKeepTheOneServingIt() {
        let folders = [Folder(path: "sites/a", sites: ["lab"]), Folder(path: "sites/b", sites: ["lab"])]
        let fresh = SiteAssignment.assign(folders, current: [])
        #expect(fresh.sites.isEmpty)
        #expect(fresh.problems == ["sites/a, sites/b all declare Site lab; none is served until one names another Site"])
        let kept = SiteAssignment.assign(folders, current: [Site(name: "lab", path: "sites/b")])
        #expect(kept.sites == [Site(name: "lab", path: "sites/b")])
        #expect(kept.problems == ["sites/a, sites/b all declare Site lab; sites/b keeps serving it until one names another Site"])
    }

    @Test func aFolderThatRenamesItsSiteServesTheNewName() {
        let result = SiteAssignment.assign([Folder(path: "sites/a", sites: ["new"])], current: [Site(name: "old", path: "sites/a")])
        #expect(result.sites == [Site(name: "new", path: "sites/a")])
    }
}
