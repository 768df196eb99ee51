import Foundation

/// What every ``GitSource/exportTree(at:into:)`` shares: which names may be written, and how a
/// file is written.
enum GitTreeExport {
    /// A name git would check out: not `.`, `..` or `.git`, no `/`, no NUL.
    static func isSafe(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && name.lowercased() != ".git" && !name.contains("/") && !name.contains("\0")
    }

    /// Writes a file that must not exist yet, mode 0755 when executable, else 0644.
    static func write(_ data: Data, to path: String, executable: Bool) throws {
        guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: executable ? 0o755 : 0o644]) else {
            throw GitError(.other, "cannot write \(path)")
        }
    }
}
