import ArgumentParser
import DCApplyCore
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
        version: DCApplyCoreVersion.string,
        subcommands: [Apply.self, Validate.self, PlanCommand.self, Diff.self, Serve.self, WhatIf.self, Inventory.self, State.self, Audit.self, Schema.self,
                      VersionCommand.self],
        defaultSubcommand: Apply.self
    )

    /// Runs the command; usage errors exit 1, as the contract's exit codes say (not 64), and
    /// end with one `error:` line.
    static func main() async {
        let arguments = CommandWords.normalize(Array(CommandLine.arguments.dropFirst()))
        let commands = configuration.subcommands.map { $0._commandName }
        if let unknown = CommandWords.unknownCommand(arguments, commands: commands, exists: { FileManager.default.fileExists(atPath: $0) }) {
            // Before anything runs: a mistyped command creates nothing (no .dcapply/).
            Console(color: false, quiet: false).error(unknown)
            Foundation.exit(1)
        }
        do {
            var command = try parseAsRoot(arguments)
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error).rawValue == 64 {
                // Usage first, then the one line that says what was wrong.
                let usage = fullMessage(for: error).split(separator: "\n", omittingEmptySubsequences: false)
                    .drop { $0.hasPrefix("Error:") }.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
                if !usage.isEmpty { FileHandle.standardError.write(Data((usage + "\n").utf8)) }
                Console(color: false, quiet: false).error(message(for: error))
                Foundation.exit(1)
            }
            exit(withError: error)
        }
    }
}
