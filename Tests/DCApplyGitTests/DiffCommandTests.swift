import Foundation
import Testing

@Suite("dcapply diff between real commits", .timeLimit(.minutes(5)))
struct DiffCommandTests {
    /// main holds the quickstart; the branch `fewer` halves the training replicas.
    static func pullRequest() throws -> (fixture: GitFixture, base: String, head: String) {
        let fixture = try GitFixture()
        try fixture.addQuickstart()
        let base = try fixture.commit("Quickstart site")
        try fixture.push()
        try fixture.git(["checkout", "-q", "-b", "fewer"])
        try fixture.edit("manifests/site.yaml", replacing: "replicas: 4", with: "replicas: 2")
        let head = try fixture.commit("Train on two replicas")
        try fixture.git(["push", "-q", "origin", "fewer"])
        return (fixture, base, head)
    }

    @Test func markdownForAPullRequestComment() throws {
        let (fixture, base, head) = try Self.pullRequest()
        let result = try DCApplyBinary.run(["diff", "--base", "main", "--output", "markdown", "--detailed-exitcode", "--state", "memory:"], in: fixture.work)
        #expect(result.status == 2, "\(result.stderr)")
        let lines = result.stdout.components(separatedBy: "\n")
        #expect(Array(lines.prefix(10)) == [
            "### dcapply diff `main` → `HEAD`",
            "",
            lines[2],  // the headline ends with the plan's summary, checked below
            "",
            "Base `\(base.prefix(12))`, head `\(head.prefix(12))`.",
            "",
            "| Resource | Change | Fields | Declared in |",
            "| --- | --- | ---: | --- |",
            "| `Workload/llm-train` | modified | 1 | `manifests/site.yaml:36` |",
            "",
        ])
        #expect(lines[2].hasPrefix("**1 resource changed (1 modified); plan: "))
        #expect(result.stdout.contains("""
            <details><summary><code>Workload/llm-train</code>: modified, 1 field</summary>

            | Field | Base | Head |
            | --- | --- | --- |
            | `spec.replicas` | `4` | `2` |

            </details>
            """))
        #expect(result.stdout.contains("| `\(head.prefix(12))` | `Train on two replicas` | `Ada Author` | no |"))
        #expect(result.stdout.contains("#### Plan for `HEAD` against the observed state"))
        #expect(result.stdout.contains("Workload/llm-train"))
    }

    @Test func textShowsFieldChangesAndThePlan() throws {
        let (fixture, _, _) = try Self.pullRequest()
        let result = try DCApplyBinary.run(["diff", "--base", "main", "--state", "memory:", "manifests"], in: fixture.work)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("""
            1 resource changed (1 modified):
              ~ Workload/llm-train  (manifests/site.yaml:36:1)
                  spec.replicas: 4 → 2
            """))
        #expect(result.stdout.contains("Plan for HEAD against the observed state:"))
    }

    @Test func worksOnAShallowCheckoutOfAPullRequest() throws {
        let (fixture, _, head) = try Self.pullRequest()
        let shallow = fixture.root.appendingPathComponent("ci")
        try fixture.git(["clone", "-q", "--depth", "1", "--branch", "fewer", "file://" + fixture.remote.path, shallow.path], in: fixture.root)
        try fixture.git(["fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main"], in: shallow)
        let result = try DCApplyBinary.run(["diff", "--repo", shallow.path, "--base", "main", "--output", "json", "--detailed-exitcode", "--state", "memory:"], in: fixture.root)
        #expect(result.status == 2, "\(result.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((document["head"] as? [String: Any])?["commit"] as? String == head)
        let changes = try #require(document["manifestChanges"] as? [[String: Any]])
        #expect(changes.map { $0["resource"] as? String } == ["Workload/llm-train"])
        #expect(document["plan"] is [String: Any])
    }

    @Test func noChangesExitsZeroWhenTheHeadIsApplied() throws {
        let (fixture, _, _) = try Self.pullRequest()
        let state = "sqlite:" + fixture.root.appendingPathComponent("state.db").path
        let apply = try DCApplyBinary.run(["apply", "manifests", "--yes", "--state", state], in: fixture.work)
        #expect(apply.status == 0, "\(apply.stderr)")
        let result = try DCApplyBinary.run(["diff", "--base", "HEAD", "--detailed-exitcode", "--state", state], in: fixture.work)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("No manifest changes."))
    }

    @Test func invalidHeadExitsOneWithTheErrorsInTheComment() throws {
        let (fixture, _, _) = try Self.pullRequest()
        try fixture.edit("manifests/site.yaml", replacing: "\n  replicas: 2\n", with: "\n  replicas: lots\n")
        try fixture.commit("Break it")
        let result = try DCApplyBinary.run(["diff", "--base", "main", "--output", "markdown", "--state", "memory:"], in: fixture.work)
        #expect(result.status == 1)
        #expect(result.stdout.contains("#### The head's manifests do not validate"))
        #expect(result.stdout.contains("manifests/site.yaml:"))
        #expect(result.stdout.contains("| `spec.replicas` | `4` | `lots` |"))
    }

    @Test func unknownRevisionIsAClearError() throws {
        let (fixture, _, _) = try Self.pullRequest()
        let result = try DCApplyBinary.run(["diff", "--base", "nope", "--state", "memory:"], in: fixture.work)
        #expect(result.status == 1)
        #expect(result.stderr.contains("unknown revision \"nope\""))
    }
}
