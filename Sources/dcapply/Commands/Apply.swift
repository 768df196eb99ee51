import ArgumentParser
import DCApplyCore
import Foundation

struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Plan and apply (the default: `dcapply PATH` is `dcapply apply PATH`).",
        discussion: """
            Shows the plan first. On a terminal it asks before changing anything; --yes skips the
            question; without a terminal and without --yes it changes nothing and exits 1.
            When part of the demand cannot be placed, the rest is applied and the exit code is 1.
            """)

    @OptionGroup var manifests: ManifestPaths
    @OptionGroup var options: CommonOptions
    @OptionGroup var solver: SolverOptions

    @Flag(name: [.short, .long], help: "Apply without asking.")
    var yes = false

    func run() async throws {
        try await runReportingErrors(options) {
            let pipeline = try Pipeline(options: options, solver: solver)
            let site = try await pipeline.load(manifests.paths)
            let plan = try pipeline.plan(site)
            Output.print(pipeline.render(plan))
            guard !plan.isEmpty else {
                if options.output == .text { options.console.info("Nothing to apply.") }
                if plan.hasErrors { throw ExitCode(1) }
                return
            }
            if !yes {
                guard isatty(STDIN_FILENO) == 1 else {
                    options.console.error("not applied: there is no terminal to confirm on. Pass --yes to apply without asking.")
                    throw ExitCode(1)
                }
                FileHandle.standardError.write(Data("\nApply these \(plan.changes.count) changes? Only 'yes' will be accepted: ".utf8))
                guard readLine()?.trimmingCharacters(in: .whitespaces) == "yes" else {
                    options.console.error("not applied: the answer was not 'yes'.")
                    throw ExitCode(1)
                }
            }
            let stored = try await pipeline.reconciler.apply(plan, site: site)
            options.console.info("Applied \(plan.changes.count) change\(plan.changes.count == 1 ? "" : "s"); state serial \(stored.serial).")
            if plan.hasErrors { throw ExitCode(1) }
        }
    }
}
