import Foundation

/// Finds and reads manifest files: each path is a file, or a directory read recursively for
/// `*.yaml` and `*.yml` in byte order of the path, skipping names that start with `.`.
public enum ManifestFiles {
    public static func read(_ paths: [String], limits: InputLimits = .standard) -> (sources: [SourceFile], diagnostics: [Diagnostic]) {
        var sources: [SourceFile] = []
        var diagnostics: [Diagnostic] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                diagnostics.append(.error("\(path): no such file or directory"))
                continue
            }
            let files = isDirectory.boolValue ? yamlFiles(under: path) : [path]
            if isDirectory.boolValue && files.isEmpty {
                diagnostics.append(.error("\(path): no *.yaml or *.yml files in this directory"))
            }
            for file in files {
                switch SourceReader.read(URL(fileURLWithPath: file), displayPath: file, limits: limits) {
                case .success(var source):
                    source.relativePath = isDirectory.boolValue
                        ? String(file.dropFirst(path.hasSuffix("/") ? path.count : path.count + 1))
                        : URL(fileURLWithPath: file).lastPathComponent
                    sources.append(source)
                case .failure(let diagnostic): diagnostics.append(diagnostic)
                }
            }
        }
        return (sources, diagnostics)
    }

    static func yamlFiles(under directory: String) -> [String] {
        var found: [String] = []
        var pending = [directory]
        while let current = pending.popLast() {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: current) else { continue }
            for name in names where !name.hasPrefix(".") {
                let path = current.hasSuffix("/") ? current + name : current + "/" + name
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    pending.append(path)
                } else if name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                    found.append(path)
                }
            }
        }
        return found.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }
}
