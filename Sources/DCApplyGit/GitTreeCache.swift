import Foundation

/// Folders holding the files of recent commits, for what must run from disk: an exec plugin
/// named in a manifest read from git (`serve` keeps a bare clone, so there is no work tree).
///
/// Each commit is exported once into `root/COMMIT`, through a temporary folder renamed into
/// place, so a crash never leaves a half tree that looks whole. The newest `keep` folders stay
/// (an apply of the previous revision may still be running its plugins); older ones are removed.
public struct GitTreeCache: Sendable {
    public let root: String
    public let keep: Int

    public init(root: String, keep: Int = 3) {
        self.root = root
        self.keep = max(keep, 1)
    }

    /// The folder holding `commit`'s files, exported from `source` the first time.
    public func folder(for commit: String, from source: any GitSource) throws -> String {
        let folder = root + "/" + commit
        let files = FileManager.default
        if files.fileExists(atPath: folder) {
            try? files.setAttributes([.modificationDate: Date()], ofItemAtPath: folder)  // recently used: kept by `prune`
            return folder
        }
        try files.createDirectory(atPath: root, withIntermediateDirectories: true)
        let partial = root + "/.partial-\(commit.prefix(12))-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        do {
            try source.exportTree(at: commit, into: partial)
            try files.moveItem(atPath: partial, toPath: folder)
        } catch {
            try? files.removeItem(atPath: partial)
            // Another process (a second controller on the same cache) may have won the rename.
            if files.fileExists(atPath: folder) { return folder }
            throw error
        }
        prune(sparing: commit)
        return folder
    }

    /// Removes all but the `keep` most recently used trees (never `commit`'s), and partial
    /// exports older than an hour (a crash's leftovers).
    func prune(sparing commit: String) {
        let files = FileManager.default
        guard let names = try? files.contentsOfDirectory(atPath: root) else { return }
        func modified(_ name: String) -> Date {
            ((try? files.attributesOfItem(atPath: root + "/" + name))?[.modificationDate] as? Date) ?? .distantPast
        }
        let trees = names.filter { !$0.hasPrefix(".") && $0 != commit }.sorted { modified($0) > modified($1) }
        for name in trees.dropFirst(keep - 1) { try? files.removeItem(atPath: root + "/" + name) }
        for name in names where name.hasPrefix(".partial-") && modified(name) < Date().addingTimeInterval(-3600) {
            try? files.removeItem(atPath: root + "/" + name)
        }
    }
}
