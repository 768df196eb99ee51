import Foundation

/// Where the local provider reads a Site's inventory file from: the disk by default; the same
/// commit's tree when the manifests came from git (`dcapply diff`, `dcapply serve`).
///
/// Contract: `read(path, limits)` returns the file's text shown under `path`, a diagnostic when
/// it cannot be read, or nil when there is no such file. `path` is the one the manifest parser
/// resolved against the Site's manifest file.
public struct InventoryReader: Sendable {
    public let read: @Sendable (_ path: String, _ limits: InputLimits) -> Result<SourceFile, Diagnostic>?

    public init(read: @escaping @Sendable (_ path: String, _ limits: InputLimits) -> Result<SourceFile, Diagnostic>?) {
        self.read = read
    }

    /// Reads the file from disk.
    public static let disk = InventoryReader { path, limits in
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return SourceReader.read(URL(fileURLWithPath: path), displayPath: path, limits: limits)
    }
}
