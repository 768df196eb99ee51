import DCApplyTestSupport
import Foundation
import Testing

/// `--output html` through the built binary: the wiring in the executable (Pipeline.render,
/// what-if, diff), which a restructuring of the commands must keep.
@Suite("dcapply --output html", .timeLimit(.minutes(5)))
struct PlanHTMLCLITests {
    static let examples = DCApplyRunner.packageRoot.appendingPathComponent("Examples")

    static func cells(_ html: String) -> [String] {
        html.components(separatedBy: "<button class=\"node ").dropFirst().compactMap { $0.split(separator: "\"").first.map(String.init) }
    }

    @Test("plan prints one self-contained page with every node, and exits as the text plan would")
    func plan() throws {
        let result = try DCApplyRunner.run(["plan", "quickstart/", "--state", "memory:", "--output", "html"], in: Self.examples)
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("<!DOCTYPE html>"))
        #expect(result.stdout.hasSuffix("</body></html>\n"))
        #expect(result.stdout.contains("<p id=\"summary\">Plan: 4 to assign, 2 to attach, 4 to place.</p>"))
        #expect(Self.cells(result.stdout).count == 6)
        #expect(!result.stdout.contains("http://") && !result.stdout.contains("https://"))
    }

    @Test("what-if marks the rehearsed failures on the map")
    func whatIf() throws {
        let result = try DCApplyRunner.run(["what-if", "quickstart/", "--fail", "rack=r01", "--state", "memory:", "--output", "html"], in: Self.examples)
        #expect(result.stdout.hasPrefix("<!DOCTYPE html>"), "\(result.stderr)")
        let failed = Self.cells(result.stdout).filter { $0.hasPrefix("s-failed") }
        #expect(failed.count == 3)
    }

    @Test("diff refuses html with a usage error that names what to use instead")
    func diffRefuses() throws {
        let result = try DCApplyRunner.run(["diff", "--base", "HEAD", "--output", "html", "Examples/quickstart"], in: DCApplyRunner.packageRoot)
        #expect(result.exitCode == 1)
        #expect(result.stderr.contains("error: diff has no HTML view; use --output markdown for a pull request, or plan --output html"), "\(result.stderr)")
    }
}
