import DCApplyTestSupport
import Foundation
import Testing

/// Issue 13: docs/cli.md is checked against `--help`, so an option added to a command and not
/// to the reference (or the other way round) fails here.
@Suite(.timeLimit(.minutes(5)))
struct CLIReferenceTests {
    /// Every command, as typed after `dcapply`.
    static let commands = [
        "apply", "validate", "plan", "diff", "serve", "what-if", "inventory show", "inventory set",
        "state show", "state history", "state unlock", "state migrate", "audit show", "audit verify", "schema", "version",
    ]

    /// The long options a command's `--help` lists (`--help` and `--version` aside).
    static func options(_ command: String) throws -> [String] {
        let help = try DCApplyRunner.run(command.split(separator: " ").map(String.init) + ["--help"], in: DCApplyRunner.packageRoot)
        let section = help.stdout.components(separatedBy: "OPTIONS:").dropFirst().joined()
        let regex = try NSRegularExpression(pattern: #"(?<![\w-])--[a-z][a-z-]*"#)
        let found = regex.matches(in: section, range: NSRange(section.startIndex..., in: section)).compactMap { Range($0.range, in: section).map { String(section[$0]) } }
        return Array(Set(found).subtracting(["--help", "--version"])).sorted()
    }

    static let reference: String = (try? String(contentsOf: DCApplyRunner.packageRoot.appendingPathComponent("docs/cli.md"), encoding: .utf8)) ?? ""

    @Test(arguments: commands)
    func issue13EveryOptionOfHelpIsInTheReference(command: String) throws {
        let options = try Self.options(command)
        #expect(Self.reference.contains("dcapply \(command)"), "docs/cli.md never shows `dcapply \(command)`")
        let missing = options.filter { Self.reference.range(of: "(?<![\\w-])\($0)(?![\\w-])", options: .regularExpression) == nil }
        #expect(missing.isEmpty, "`dcapply \(command) --help` lists \(missing) and docs/cli.md does not")
    }

    @Test func issue13EveryOptionOfTheReferenceSynopsisExists() throws {
        // The synopsis at the top of docs/cli.md: each line `dcapply CMD ... [--opt ...]`.
        let synopsis = Self.reference.components(separatedBy: "```").dropFirst().first ?? ""
        var all = Set<String>()
        for command in Self.commands { all.formUnion(try Self.options(command)) }
        let regex = try NSRegularExpression(pattern: #"(?<![\w-])--[a-z][a-z-]*"#)
        let named = Set(regex.matches(in: synopsis, range: NSRange(synopsis.startIndex..., in: synopsis)).compactMap { Range($0.range, in: synopsis).map { String(synopsis[$0]) } })
        #expect(named.subtracting(all).subtracting(["--version", "--help"]).isEmpty, "docs/cli.md's synopsis names \(named.subtracting(all)) that no --help lists")
    }

    @Test func issue13HelpAndReferenceAgreeOnTheNumbers() throws {
        let plan = try DCApplyRunner.run(["plan", "--help"], in: DCApplyRunner.packageRoot).stdout
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(plan.contains("0.5 s to 3.2 s"), "the default solve time is capped at 3.2 s")
        #expect(Self.reference.contains("at most\n3.2 s") || Self.reference.contains("at most 3.2 s"))
        let top = try DCApplyRunner.run(["--help"], in: DCApplyRunner.packageRoot).stdout
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(top.contains("3 state store locked"))
        #expect(!Self.reference.contains("nothing in this build raises it"), "exit 3 is raised when another apply holds the lock")
        let serve = try DCApplyRunner.run(["serve", "--help"], in: DCApplyRunner.packageRoot).stdout
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(serve.contains("default: .dcapply/git/ in the current directory"))
    }
}
