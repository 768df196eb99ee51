import DCApplyTestSupport
import Foundation
import Testing

/// Issue 13: docs that cannot drift. Every `console` block of README.md and docs/ is run
/// against the built binary in a temporary copy of the examples, and its output compared with
/// the page (rules in docs/README.md).
@Suite(.serialized, .timeLimit(.minutes(5)))
struct DocsConsoleTests {
    /// README.md and every page under docs/, relative to the package root.
    static let pages: [String] = {
        let root = DCApplyRunner.packageRoot
        var pages = ["README.md"]
        let docs = root.appendingPathComponent("docs")
        if let walker = FileManager.default.enumerator(atPath: docs.path) {
            for case let path as String in walker where path.hasSuffix(".md") { pages.append("docs/" + path) }
        }
        return pages.sorted()
    }()

    /// Runs one shell command line in `directory` with `dcapply` first on PATH; stdout and
    /// stderr together, as a terminal shows them. Killed after `limit` seconds.
    static func shell(_ command: String, in directory: URL, bin: URL, limit: Double = 180) throws -> [String] {
        let output = directory.appendingPathComponent(".docs-test-output")
        guard FileManager.default.createFile(atPath: output.path, contents: nil) else {
            throw DCApplyRunner.LaunchError(description: "cannot create \(output.path)")
        }
        let handle = try FileHandle(forWritingTo: output)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = bin.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["NO_COLOR"] = "1"
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(limit)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? handle.close()
        let text = try String(contentsOf: output, encoding: .utf8)
        try? FileManager.default.removeItem(at: output)
        return text.components(separatedBy: "\n")
    }

    /// A scratch folder holding copies of Examples/ and Manifests/, and a bin/ with `dcapply`.
    static func sandbox() throws -> (root: URL, bin: URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-docs-\(UUID().uuidString)")
        let bin = root.appendingPathComponent(".bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        for folder in ["Examples", "Manifests"] {
            try FileManager.default.copyItem(at: DCApplyRunner.packageRoot.appendingPathComponent(folder), to: root.appendingPathComponent(folder))
        }
        try FileManager.default.createSymbolicLink(at: bin.appendingPathComponent("dcapply"), withDestinationURL: try DCApplyRunner.executableURL())
        return (root, bin)
    }

    @Test(arguments: pages)
    func issue13EveryConsoleBlockPrintsWhatThePageSays(page: String) throws {
        let text = try String(contentsOf: DCApplyRunner.packageRoot.appendingPathComponent(page), encoding: .utf8)
        let blocks = ConsoleTranscript.blocks(in: text, file: page).filter { $0.skipped == nil }
        guard !blocks.isEmpty else { return }
        // One sandbox per page: its blocks run in order and share the state, as a reader's would.
        let (root, bin) = try Self.sandbox()
        defer { try? FileManager.default.removeItem(at: root) }
        for block in blocks {
            for command in block.setup { _ = try Self.shell(command, in: root, bin: bin) }
            for step in block.steps {
                let actual = try Self.shell(step.command, in: root, bin: bin)
                #expect(ConsoleTranscript.matches(expected: step.expected, actual: actual), """
                    \(block.location): `$ \(step.command)` printed:
                    \(actual.joined(separator: "\n"))
                    the page says:
                    \(step.expected.joined(separator: "\n"))
                    """)
            }
        }
    }

    @Test func issue13TheTourAndTheCLIReferenceHaveBlocksThatRun() throws {
        for page in ["README.md", "docs/cli.md"] {
            let text = try String(contentsOf: DCApplyRunner.packageRoot.appendingPathComponent(page), encoding: .utf8)
            let run = ConsoleTranscript.blocks(in: text, file: page).filter { $0.skipped == nil }
            #expect(run.count >= 3, "\(page) has \(run.count) console blocks that run")
        }
    }

    @Test func issue13TheMatcherElidesLinesAndVaryingText() {
        #expect(ConsoleTranscript.matches(expected: ["a", "...", "d"], actual: ["a", "b", "c", "d", ""]))
        #expect(ConsoleTranscript.matches(expected: ["a", "  ...", "b"], actual: ["a", "b"]))
        #expect(!ConsoleTranscript.matches(expected: ["a", "d"], actual: ["a", "b", "d"]))
        #expect(ConsoleTranscript.matches(expected: ["observed [..]; serial 1"], actual: ["observed 2026-12-04T19:00:00Z; serial 1"]))
        #expect(!ConsoleTranscript.matches(expected: ["observed [..]; serial 1"], actual: ["observed now; serial 2"]))
        let blocks = ConsoleTranscript.blocks(in: """
            <!-- docs-test: setup dcapply apply Examples/quickstart/ --yes -->
            ```console
            $ dcapply version
            0.1.0
            ```
            <!-- docs-test: skip needs a live Redfish service -->
            ```console
            $ dcapply plan Examples/redfish/
            ```
            """, file: "x.md")
        #expect(blocks.count == 2)
        #expect(blocks[0].setup == ["dcapply apply Examples/quickstart/ --yes"])
        #expect(blocks[0].steps.map(\.command) == ["dcapply version"])
        #expect(blocks[0].steps.first?.expected == ["0.1.0"])
        #expect(blocks[1].skipped == "needs a live Redfish service")
    }
}
