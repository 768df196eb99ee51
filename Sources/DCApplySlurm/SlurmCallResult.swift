import Foundation

/// What one `scontrol` or `sinfo` call printed.
public struct SlurmCallResult: Hashable, Sendable {
    public var exitCode: Int32
    public var output: String
    public var error: String

    public init(exitCode: Int32, output: String, error: String) {
        self.exitCode = exitCode
        self.output = output
        self.error = error
    }

    /// The first non-empty line of stderr, else of stdout: Slurm prints some errors on stdout.
    public var message: String {
        for text in [error, output] {
            if let line = text.split(whereSeparator: \.isNewline).first(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                return String(line)
            }
        }
        return "exit \(exitCode)"
    }
}
