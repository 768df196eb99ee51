import Foundation

/// What one run of the `dcapply` executable printed and how it exited.
public struct DCApplyResult: Sendable {
    public let exitCode: Int32
    public let stdout: String
    public let stderr: String
}

/// Runs the built `dcapply` executable as a child process, the way an operator or CI would.
///
/// Every test target that runs the binary finds it here, so that `DCAPPLY_BINARY` points all of
/// them at one build: CI runs the end-to-end suites a second time against `swift build -c release`
/// (`scripts/e2e-release`), because operators run the optimised binary.
public enum DCApplyRunner {
    /// The executable could not be found or started.
    public struct LaunchError: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// The package root, found from this file's place in `Tests/DCApplyTestSupport/`.
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // DCApplyTestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    /// Runs `dcapply arguments...` in `directory` and waits for it to exit.
    public static func run(
        _ arguments: [String], in directory: URL, environment: [String: String] = [:]
    ) throws -> DCApplyResult {
        try runCommand(executableURL(), arguments, in: directory, environment: environment)
    }

    /// Runs a short-lived command (dcapply, git, curl) to completion.
    ///
    /// Output goes to temporary files rather than pipes, so a large plan can never fill a pipe
    /// buffer and deadlock the wait. `environment` is merged onto this process's environment, and
    /// `NO_COLOR=1` is always set. Standard input is empty, as in CI. `Foundation.Process` is safe
    /// here because these commands end by themselves.
    public static func runCommand(
        _ executable: URL, _ arguments: [String], in directory: URL?, environment: [String: String] = [:]
    ) throws -> DCApplyResult {
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("dcapply-run-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let stdoutURL = scratch.appendingPathComponent("stdout")
        let stderrURL = scratch.appendingPathComponent("stderr")
        guard FileManager.default.createFile(atPath: stdoutURL.path, contents: nil),
              FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        else {
            throw LaunchError(description: "cannot create output files in \(scratch.path)")
        }
        let stdoutHandle = try FileHandle(forWritingTo: stdoutURL)
        let stderrHandle = try FileHandle(forWritingTo: stderrURL)

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var merged = ProcessInfo.processInfo.environment
        merged.merge(environment) { _, new in new }
        merged["NO_COLOR"] = "1"
        process.environment = merged
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdoutHandle
        process.standardError = stderrHandle
        do {
            try process.run()
        } catch {
            try? stdoutHandle.close()
            try? stderrHandle.close()
            throw LaunchError(description: "cannot start \(executable.path): \(error)")
        }
        process.waitUntilExit()
        try? stdoutHandle.close()
        try? stderrHandle.close()
        let stdout = (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
        return DCApplyResult(exitCode: process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    /// `DCAPPLY_BINARY` when set (it must name an executable), else the `dcapply` executable
    /// beside the test bundle, else `<package root>/.build/debug/dcapply`.
    public static func executableURL() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["DCAPPLY_BINARY"], !path.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw LaunchError(description: "DCAPPLY_BINARY=\(path) is not an executable file")
            }
            return URL(fileURLWithPath: path)
        }
        var directories: [URL] = []
        let bundle = Bundle.main.bundleURL
        directories.append(bundle)
        directories.append(bundle.deletingLastPathComponent())
        if let first = CommandLine.arguments.first {
            let launched = URL(fileURLWithPath: first).resolvingSymlinksInPath()
            directories.append(launched.deletingLastPathComponent())
            // macOS: .../debug/dcapplyPackageTests.xctest/Contents/MacOS/dcapplyPackageTests
            var parent = launched
            for _ in 0..<4 {
                parent = parent.deletingLastPathComponent()
                if parent.pathExtension == "xctest" {
                    directories.append(parent.deletingLastPathComponent())
                }
            }
        }
        directories.append(packageRoot.appendingPathComponent(".build/debug"))
        for directory in directories {
            let candidate = directory.appendingPathComponent("dcapply")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory),
               !isDirectory.boolValue,
               FileManager.default.isExecutableFile(atPath: candidate.path) {
                return candidate
            }
        }
        throw LaunchError(description: "no dcapply executable in \(directories.map(\.path)); "
                          + "run `swift build` first")
    }
}
