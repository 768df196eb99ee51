import DCApplyGit
import Foundation

/// The folders `serve --path` names at a revision. A pattern without `*`, `?` or `[` names one
/// folder (or file) as written; a pattern with them is matched, one path component at a time,
/// against the directories of the revision's tree (`sites/*` is every directory directly under
/// `sites/`; names starting with `.` match only a pattern component that starts with `.`).
public enum SiteFolders {
    /// Whether a `--path` value is a glob rather than a path.
    public static func isPattern(_ path: String) -> Bool {
        path.contains { "*?[".contains($0) }
    }

    /// Whether one path component matches one pattern component (fnmatch rules, no `/`). Pure.
    public static func matches(_ pattern: String, _ name: String) -> Bool {
        if name.hasPrefix(".") && !pattern.hasPrefix(".") { return false }
        return fnmatch(pattern, name, FNM_PATHNAME | FNM_PERIOD) == 0
    }

    /// The folders `patterns` name at `commit`, each once, in the order of the patterns and,
    /// within a glob, in byte order. A glob that matches nothing adds nothing.
    public static func resolve(_ patterns: [String], at commit: String, in source: any GitSource) throws -> [String] {
        var found: [String] = []
        for pattern in patterns {
            let normalized = GitPath.normalize(pattern)
            let matched = isPattern(normalized) ? try expand(normalized, at: commit, in: source) : [normalized]
            for folder in matched where !found.contains(folder) { found.append(folder) }
        }
        return found
    }

    /// The directories matching a glob, walking only the components it needs.
    private static func expand(_ pattern: String, at commit: String, in source: any GitSource) throws -> [String] {
        var frontier = [""]
        for component in pattern.split(separator: "/").map(String.init) {
            var next: [String] = []
            for base in frontier {
                if !isPattern(component) {
                    let path = base.isEmpty ? component : base + "/" + component
                    if case .directory = try source.entry(at: commit, path: path) { next.append(path) }
                    continue
                }
                guard case .directory(let names) = try source.entry(at: commit, path: base) else { continue }
                for name in names where matches(component, name) {
                    let path = base.isEmpty ? name : base + "/" + name
                    if case .directory = try source.entry(at: commit, path: path) { next.append(path) }
                }
            }
            frontier = next
        }
        return frontier.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }
}
