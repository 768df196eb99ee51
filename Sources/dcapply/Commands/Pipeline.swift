import ArgumentParser
import DCApplyActuators
import DCApplyCore
import DCApplyRedfish
import Foundation

/// Loads and plans, printing diagnostics; shared by plan and apply.
struct Pipeline {
    let options: CommonOptions
    let reconciler: Reconciler

    /// The pipeline over `store` (default: the one `--state` names).
    init(options: CommonOptions, solver: SolverOptions? = nil, store: (any StateStore)? = nil) throws {
        self.options = options
        var reconciler = Reconciler(store: try store ?? options.openStore(), solver: PortfolioPlacementSolver(solveTime: solver?.seconds),
                                    logger: options.makeLogger(),
                                    providers: ActuatorFactories.combine([RedfishProviders.factory(), ExecPlugins.providerFactory()]),
                                    actuators: ActuatorFactories.standard())
        let console = options.console
        reconciler.warn = { console.warning($0) }
        self.reconciler = reconciler
    }

    /// The loaded site, or exit 1 after printing every error.
    func load(_ paths: [String]) async throws -> LoadedSite {
        options.console.progress("Reading manifests and observing the hardware…")
        let site = try await reconciler.load(paths)
        options.console.endProgress()
        options.console.diagnostics(site.diagnostics)
        if site.diagnostics.hasErrors {
            if options.output == .json { Output.print(DiagnosticView.json(site.diagnostics)) }
            throw ExitCode(1)
        }
        return site
    }

    func plan(_ site: LoadedSite, against stored: StoredState? = nil) throws -> Plan {
        options.console.progress("Placing on \(site.observed.nodes.count) nodes…")
        defer { options.console.endProgress() }
        return reconciler.plan(site, against: try stored ?? reconciler.store.load())
    }

    /// The plan's error problems in one sentence, for the final `error:` line: the first in
    /// full, the rest counted.
    static func problemSentence(_ plan: Plan) -> String {
        let errors = plan.problems.filter { $0.severity == .error }
        guard let first = errors.first else { return "" }
        let more = errors.count > 1 ? " (and \(errors.count - 1) more problem\(errors.count == 2 ? "" : "s") listed under Problems)" : ""
        return "\(first.resource): \(first.message)\(more)"
    }

    /// The plan in the chosen format; `command` (the one that applies it) and `site` feed the
    /// markdown footer.
    func render(_ plan: Plan, site: LoadedSite? = nil, command: String? = nil) -> String {
        switch options.output {
        case .json: plan.json
        case .markdown: PlanMarkdownView.render(plan, footer: command.map { .init(observedAt: site?.observedAt ?? Date(), command: $0) })
        case .text: PlanTextView.render(plan, color: options.colorOnStdout)
        case .html: PlanHTMLView.render(plan, site: site, store: reconciler.store)
        }
    }
}

/// Maps thrown errors to messages and exit codes; only the executable does this.
func runReportingErrors(_ options: CommonOptions, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch let error as DCApplyError {
        options.console.diagnostics(error.diagnostics, count: false)
        options.console.error(error.cliDescription)
        // stdout still holds one JSON document for a machine reader.
        if options.output == .json { Output.print(DiagnosticView.json(error.diagnostics + [.error(error.cliDescription)])) }
        throw ExitCode(error.code == .locked ? 3 : 1)
    } catch {
        options.console.error("\(error)")
        if options.output == .json { Output.print(DiagnosticView.json([.error("\(error)")])) }
        throw ExitCode(1)
    }
}
