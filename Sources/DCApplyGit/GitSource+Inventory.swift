import DCApplyCore
import Foundation

extension GitSource {
    /// Reads a Site's local inventory from the same commit as its manifests, so a revision is
    /// judged on the hardware description it carries, never on the work tree.
    public func inventoryReader(at commit: String) -> InventoryReader {
        InventoryReader { path, limits in
            guard let inside = GitPath.insideRepository(path) else {
                return .failure(.error("the inventory \(path) is outside the repository; with manifests read from git it must be in the same commit",
                                       at: SourceLocation(file: path, line: 1, column: 1)))
            }
            var diagnostics: [Diagnostic] = []
            do {
                guard case .file = try entry(at: commit, path: inside) else { return nil }
                if let source = try readSource(at: commit, path: inside, limits: limits, diagnostics: &diagnostics) { return .success(source) }
                return diagnostics.first.map { .failure($0) }
            } catch {
                return .failure(.error("cannot read the inventory from git: \(error)", at: SourceLocation(file: inside, line: 1, column: 1)))
            }
        }
    }
}

extension GitPath {
    /// A path the manifest parser resolved (relative to the current directory when it could
    /// be) as a path inside the repository, or nil when it points outside it.
    public static func insideRepository(_ resolved: String, currentDirectory: String = FileManager.default.currentDirectoryPath) -> String? {
        var path = resolved
        if path.hasPrefix("/") {
            let current = URL(fileURLWithPath: currentDirectory).standardized.path
            if current == "/" {
                path.removeFirst()
            } else if path.hasPrefix(current + "/") {
                path = String(path.dropFirst(current.count + 1))
            } else {
                return nil
            }
        }
        if path == ".." || path.hasPrefix("../") { return nil }
        return normalize(path)
    }
}
