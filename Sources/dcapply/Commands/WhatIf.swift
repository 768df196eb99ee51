import ArgumentParser
import DCApplyCore

struct WhatIf: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "what-if",
        abstract: "Plan as if a failure domain or a node were lost; say whether every redundancy promise still holds.",
        discussion: """
            Marks every node a --fail names as failed, in memory only, plans against the applied state \
            and judges each promise: every HardwarePool, Workload and StorageTier that names a \
            RedundancyPolicy, and every StorageTier's protection. Nothing is written: not the state, \
            not the hardware.

            --fail takes node=NAME or LABELKEY=VALUE for any node label (rack, row, room, leafSwitch...); \
            repeat it to lose several at once.

            Examples:
              dcapply what-if Manifests/ --fail rack=r07
              dcapply what-if Manifests/ --fail row=2 --detailed-exitcode
              dcapply what-if Manifests/ --fail rack=r07 --fail node=h100-r01-n01

            Exit 0 when every promise holds (with --detailed-exitcode: 0 when the plan after the loss \
            has no changes, 2 when it has), 1 when a promise is broken or on error.
            """)

    @OptionGroup var manifests: ManifestPaths
    @OptionGroup var options: CommonOptions
    @OptionGroup var solver: SolverOptions

    @Option(name: .long, help: ArgumentHelp("What fails: node=NAME or LABELKEY=VALUE such as rack=r07 (repeatable).", valueName: "key=value"))
    var fail: [String] = []

    @Flag(help: "Exit 2 when the plan after the loss has changes, 0 when it has none (when every promise holds).")
    var detailedExitcode = false

    func validate() throws {
        if fail.isEmpty { throw ValidationError("Name what fails with --fail, such as --fail rack=r07 or --fail node=gpu-r01-n01.") }
        for text in fail {
            do {
                _ = try FailureScenario(parsing: text)
            } catch let error as DCApplyError {
                // A full sentence, as the argument parser prints it: "Error: Cannot read ...".
                throw ValidationError(error.message.prefix(1).uppercased() + error.message.dropFirst() + ".")
            }
        }
    }

    func run() async throws {
        try await runReportingErrors(options) {
            let scenarios = try fail.map(FailureScenario.init(parsing:))
            let pipeline = try Pipeline(options: options, solver: solver)
            let site = try await pipeline.load(manifests.paths)
            options.console.progress("Placing on \(site.observed.nodes.count) nodes without \(scenarios.map(\.description).joined(separator: ", "))…")
            let report = try pipeline.reconciler.whatIf(site, failing: scenarios)
            options.console.endProgress()
            switch options.output {
            case .json: Output.print(WhatIfView.json(report))
            case .markdown: Output.print(WhatIfView.markdown(report))
            case .text: Output.print(WhatIfView.text(report, color: options.colorOnStdout))
            case .html:
                var failed = site  // the map shows the rehearsed failures
                failed.observed = FailureScenario.apply(scenarios, to: site.observed)
                Output.print(PlanHTMLView.render(report.plan, site: failed, store: pipeline.reconciler.store))
            }
            if !report.holds {
                let broken = report.promises.filter { !$0.holds }
                let first = broken.first.map { ": \($0.resource) \($0.message)" } ?? ""
                options.console.error("\(broken.count) redundancy promise\(broken.count == 1 ? "" : "s") would break without \(scenarios.map(\.description).joined(separator: ", "))\(first)")
                throw ExitCode(1)
            }
            if detailedExitcode && !report.plan.isEmpty { throw ExitCode(2) }
        }
    }
}
