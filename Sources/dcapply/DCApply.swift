import ArgumentParser
import Foundation

/// The `dcapply` command: a thin shell over DCApplyCore.
@main
struct DCApply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dcapply",
        abstract: "Declarative infrastructure for AI datacenters: observe, place, plan, apply.",
        discussion: """
            Describe in YAML what the datacenter should be (Site, HardwarePool, Workload, StorageTier, \
            RedundancyPolicy, AccessPolicy, EnergyPolicy); dcapply observes the hardware, computes a \
            placement that meets every hard constraint, shows the plan and applies it.

            Start with:
              dcapply validate Examples/quickstart/
              dcapply plan Examples/quickstart/
              dcapply Examples/quickstart/ --yes
              dcapply inventory set gpu-r01-n01 health=failed
              dcapply plan Examples/quickstart/

            Exit codes: 0 success; 1 error (invalid manifests, unsatisfiable constraints, provider or \
            state failure, bad usage); 2 changes present (with --detailed-exitcode); 3 state store locked.
            """,
        version: "0.1.0",
        subcommands: [Apply.self, Validate.self, PlanCommand.self, Diff.self, Serve.self, WhatIf.self, Inventory.self, State.self, Audit.self, Schema.self],
        defaultSubcommand: Apply.self
    )

    /// Runs the command; usage errors exit 1, as the contract's exit codes say (not 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error).rawValue == 64 {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(1)
            }
            exit(withError: error)
        }
    }
}
