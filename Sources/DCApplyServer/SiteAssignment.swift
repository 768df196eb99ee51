/// Which site each folder `serve --path` matched is served as: the name of the one `Site` its
/// manifests declare. Pure: the names were read before.
///
/// - A folder whose Site name cannot be read (invalid manifests, no Site, several Sites) keeps
///   the name it is served under, so its own loop refuses the revision and keeps the last good
///   one; a folder never served is left out and reported.
/// - Two folders naming the same Site: the one already serving it keeps it, and neither is
///   started otherwise; reported until a commit tells them apart.
public struct SiteAssignment: Sendable, Equatable {
    /// A folder and what its manifests say.
    public struct Folder: Sendable, Equatable {
        public var path: String
        /// The Sites its manifests declare; nil when they could not be read, with `error`.
        public var sites: [String]?
        public var error: String?

        /// A folder whose manifests declare `sites` (nil: unreadable, because of `error`).
        public init(path: String, sites: [String]?, error: String? = nil) {
            self.path = path
            self.sites = sites
            self.error = error
        }
    }

    /// A served site: its name (the Site's) and its folder.
    public struct Site: Sendable, Equatable {
        public var name: String
        public var path: String

        /// Site `name`, read from `path`.
        public init(name: String, path: String) {
            self.name = name
            self.path = path
        }
    }

    /// The sites to serve, by name.
    public var sites: [Site]
    /// Why some folders are not served, one sentence each, in folder order.
    public var problems: [String]

    /// The sites `folders` give, `current` being the sites served until now.
    public static func assign(_ folders: [Folder], current: [Site]) -> SiteAssignment {
        var problems: [String] = []
        var claims: [(name: String, path: String)] = []
        for folder in folders {
            let served = current.first { $0.path == folder.path }
            if let sites = folder.sites, sites.count == 1, let name = sites.first {
                claims.append((name, folder.path))
                continue
            }
            let why: String
            if let sites = folder.sites {
                why = sites.isEmpty ? "declares no Site" : "declares \(sites.count) Sites (\(sites.sorted().joined(separator: ", "))); a site folder declares one"
            } else {
                why = "cannot be read: \(folder.error ?? "unknown error")"
            }
            if let served {
                claims.append((served.name, folder.path))  // its loop reports the errors and keeps the last good revision
            } else {
                problems.append("\(folder.path): \(why); not served")
            }
        }
        var sites: [Site] = []
        for name in Set(claims.map(\.name)).sorted() {
            let paths = claims.filter { $0.name == name }.map(\.path)
            if paths.count == 1, let path = paths.first {
                sites.append(Site(name: name, path: path))
                continue
            }
            let kept = current.first { $0.name == name && paths.contains($0.path) }
            problems.append("\(paths.joined(separator: ", ")) all declare Site \(name); "
                            + (kept.map { "\($0.path) keeps serving it" } ?? "none is served") + " until one names another Site")
            if let kept { sites.append(kept) }
        }
        return SiteAssignment(sites: sites, problems: problems)
    }
}
