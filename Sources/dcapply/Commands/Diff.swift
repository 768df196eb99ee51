import ArgumentParser
import DCApplyCore
import DCApplyGit
import Foundation

/// `dcapply diff`: what a pull request changes in the manifests, and the plan its head would cause.
struct Diff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "For code review: the manifest changes between two git revisions and the plan the head would cause.",
        discussion: """
            Manifests are read from git objects at each revision, never from the work tree; paths are
            inside the repository (default: its root). The head is compared with its merge base with
            --base, as a pull request is. The plan is made for the head against the state store and the
            hardware observed now (a local inventory is read from the head's tree). Nothing is applied.

            In CI on a shallow checkout, fetch the base first: git fetch --depth=50 origin main.
            Exit 0 when nothing changes (or without --detailed-exitcode), 1 on an error or invalid head
            manifests, 2 with --detailed-exitcode when the manifests or the plan have changes. The
            signatures-and-rights verdict per commit is always shown; with --fail-if-refused, a head
            that serve would refuse exits 1 (make it a required check of the pull request).
            """)

    @Option(help: ArgumentHelp("The revision to compare against: a branch, tag, commit or expression such as HEAD~1.", valueName: "rev"))
    var base: String

    @Option(help: ArgumentHelp("The revision under review.", valueName: "rev"))
    var head: String = "HEAD"

    @Option(help: ArgumentHelp("The git repository (or a folder inside it).", valueName: "dir"))
    var repo: String = "."

    @Argument(help: ArgumentHelp("Manifest files or folders inside the repository (default: the repository root).", valueName: "path"))
    var paths: [String] = []

    @OptionGroup var options: CommonOptions
    @OptionGroup var solver: SolverOptions

    @Option(help: ArgumentHelp("An allowed-signers file (git's format) trusted while the base declares no AccessPolicy, as serve --trusted-signers.", valueName: "file"))
    var trustedSigners: String?

    @Flag(help: "Exit 2 when the manifests or the plan have changes, 0 when neither has.")
    var detailedExitcode = false

    @Flag(help: "Exit 1 when serve would refuse the head for its commits' signatures or rights.")
    var failIfRefused = false

    func run() async throws {
        try await runReportingErrors(options) {
            let report = try await makeReport()
            switch options.output {
            case .json: Output.print(DiffView.json(report))
            case .markdown: Output.print(DiffView.markdown(report))
            case .text: Output.print(DiffView.text(report, color: options.colorOnStdout))
            case .html: throw DCApplyError(.usage, "diff has no HTML view; use --output markdown for a pull request, or plan --output html")
            }
            let headErrors = report.headDiagnostics.filter { $0.severity == .error }.count
            if headErrors > 0 {
                options.console.error("the head's manifests have \(headErrors) error\(headErrors == 1 ? "" : "s"); serve would refuse it.")
                throw ExitCode(1)
            }
            if let plan = report.plan, plan.hasErrors {
                options.console.error("the head's plan cannot be carried out in full: \(Pipeline.problemSentence(plan))")
                throw ExitCode(1)
            }
            if failIfRefused && report.trust?.isAllowed == false {  // serve would refuse the head
                options.console.error("serve would refuse the head: it brings changes its signers may not make.")
                throw ExitCode(1)
            }
            if detailedExitcode && report.hasChanges { throw ExitCode(2) }
        }
    }

    private func makeReport() async throws -> DiffReport {
        do {
            let repository = try LibGit2Repository.open(repo)
            return try await ReviewReport.assemble(
                from: repository, base: base, head: head, paths: paths,
                reconciler: { try Pipeline(options: options, solver: solver).reconciler },
                authorize: { from, head, limits in try authorizeCommits(in: repository, from: from, to: head, limits: limits) },
                progress: { step in
                    switch step {
                    case .reading(let head): options.console.progress("Reading manifests at \(head.prefix(12)) and observing the hardware…")
                    case .loaded(let site):
                        options.console.endProgress()
                        options.console.diagnostics(site.diagnostics)
                    case .placing(let nodes): options.console.progress("Placing on \(nodes) nodes…")
                    case .planned: options.console.endProgress()
                    }
                })
        } catch let error as GitError {
            throw DCApplyError(.usage, error.message)
        }
    }
}

/// What `dcapply diff` shows: the review report `DCApplyGit` assembles.
typealias DiffReport = ReviewReport
