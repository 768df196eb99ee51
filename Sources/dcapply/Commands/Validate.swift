import ArgumentParser
import DCApplyActuators
import DCApplyCore
import DCApplyRedfish
import Foundation

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check manifests and the local inventory; touch no state.",
        discussion: "Reports every error of the run together, each as file:line:column: error: field: message.")

    @OptionGroup var manifests: ManifestPaths
    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await runReportingErrors(options) {
            // An in-memory store: validation never creates or reads the state file.
            let reconciler = Reconciler(store: InMemoryStateStore(), logger: options.makeLogger(),
                                        providers: ActuatorFactories.combine([RedfishProviders.factory(), ExecPlugins.providerFactory()]),
                                        actuators: ActuatorFactories.standard())
            let site = try await reconciler.load(manifests.paths)
            options.console.diagnostics(site.diagnostics)
            if site.diagnostics.hasErrors {
                if options.output == .json { Output.print(DiagnosticView.json(site.diagnostics)) }
                throw ExitCode(1)
            }
            let d = site.desired
            let counts = "\(d.sites.count) site\(d.sites.count == 1 ? "" : "s"), \(d.pools.count) pool\(d.pools.count == 1 ? "" : "s"), \(d.workloads.count) workload\(d.workloads.count == 1 ? "" : "s"), \(d.storageTiers.count) storage tier\(d.storageTiers.count == 1 ? "" : "s"), \(site.observed.nodes.count) node\(site.observed.nodes.count == 1 ? "" : "s")"
            if options.output == .json {
                Output.print(DiagnosticView.json(site.diagnostics).replacingOccurrences(of: "\"valid\" : true", with: "\"manifestDigest\" : \"\(d.digest)\",\n  \"valid\" : true"))
            } else {
                Output.print("Valid: \(counts).")
            }
        }
    }
}
