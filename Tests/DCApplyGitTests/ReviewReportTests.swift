import DCApplyCore
import DCApplyGit
import Foundation
import Logging
import Testing

/// The review report `dcapply diff` shows, assembled in process from a real repository.
@Suite("Review report between real commits")
struct ReviewReportTests {
    @Test func aPullRequestsChangesCommitsAndPlan() async throws {
        let (fixture, base, head) = try DiffCommandTests.pullRequest()
        let repository = try LibGit2Repository.open(fixture.work.path)
        var steps: [String] = []
        let report = try await ReviewReport.assemble(
            from: repository, base: "main", head: "HEAD", paths: ["manifests"],
            reconciler: { Reconciler(store: InMemoryStateStore(), logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }) },
            authorize: { from, to, _ in
                steps.append("authorize \(from.prefix(7))..\(to.prefix(7))")
                return nil
            },
            progress: { step in
                switch step {
                case .reading(let commit): steps.append("reading \(commit.prefix(7))")
                case .loaded(let site): steps.append("loaded \(site.diagnostics.filter { $0.severity == .error }.count) errors")
                case .placing(let nodes): steps.append("placing on \(nodes > 0 ? "some" : "no") nodes")
                case .planned: steps.append("planned")
                }
            })
        #expect(report.base == ReviewReport.Revision(name: "main", commit: base))
        #expect(report.head == ReviewReport.Revision(name: "HEAD", commit: head))
        #expect(report.comparedTo == base, "the merge base of a branch off main is main's head")
        #expect(report.changes.map { "\($0.kind.rawValue) \($0.resource)" } == ["modified Workload/llm-train"])
        #expect(report.commits?.map { $0.message.trimmingCharacters(in: .whitespacesAndNewlines) } == ["Train on two replicas"])
        #expect(report.historyNote == nil)
        #expect(report.plan?.revision == head && report.hasChanges)
        #expect(steps == ["authorize \(base.prefix(7))..\(head.prefix(7))", "reading \(head.prefix(7))", "loaded 0 errors", "placing on some nodes", "planned"])
    }

    @Test func anUnknownRevisionIsAGitError() async throws {
        let (fixture, _, _) = try DiffCommandTests.pullRequest()
        let repository = try LibGit2Repository.open(fixture.work.path)
        await #expect(throws: GitError.self) {
            try await ReviewReport.assemble(from: repository, base: "no-such-branch", head: "HEAD", paths: [],
                                            reconciler: { Reconciler(store: InMemoryStateStore(), logger: Logger(label: "test")) },
                                            authorize: { _, _, _ in nil })
        }
    }
}
