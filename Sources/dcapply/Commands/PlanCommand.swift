import ArgumentParser
import DCApplyCore

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Observe, solve placement, print the plan; change nothing.",
        discussion: """
            Exit 0 when the plan can be carried out, 1 when something cannot be placed or is invalid
            (the rest of the plan is still printed), and with --detailed-exitcode 2 when there are changes.
            """)

    @OptionGroup var manifests: ManifestPaths
    @OptionGroup var options: CommonOptions
    @OptionGroup var solver: SolverOptions

    @Flag(help: "Exit 2 when the plan has changes, 0 when it has none.")
    var detailedExitcode = false

    @Option(help: ArgumentHelp("Also save the plan (JSON) to FILE, for `dcapply apply --plan FILE`.", valueName: "FILE"))
    var out: String?

    func run() async throws {
        try await runReportingErrors(options) {
            let pipeline = try Pipeline(options: options, solver: solver)
            let site = try await pipeline.load(manifests.paths)
            let stored = try pipeline.reconciler.store.load()
            let plan = try pipeline.plan(site, against: stored)
            let paths = manifests.paths.joined(separator: " ")
            Output.print(pipeline.render(plan, site: site, command: out.map { "dcapply apply --plan \($0) \(paths)" } ?? "dcapply apply \(paths)"))
            // Say now what apply would refuse (at its default threshold), not only at apply time.
            let radius = BlastRadius(applied: stored.target, target: plan.target)
            if radius.exceeds(0.5) {
                options.console.warning("apply will refuse this plan without --allow-destroy: it takes away more than 50% of what is applied: \(radius.description)")
            }
            if let out {
                try SavedPlan.write(plan, to: out)
                options.console.info("Saved the plan to \(out); apply it with: dcapply apply --plan \(out) \(manifests.paths.joined(separator: " "))")
            }
            if plan.hasErrors {
                options.console.error("the plan cannot be carried out in full: \(Pipeline.problemSentence(plan))")
                throw ExitCode(1)
            }
            if detailedExitcode && !plan.isEmpty { throw ExitCode(2) }
        }
    }
}
