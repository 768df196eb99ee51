import ArgumentParser

/// The `dcapply` command: a thin shell over DCApplyCore.
@main
struct DCApply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dcapply",
        abstract: "Declarative infrastructure for AI datacenters: observe, place, plan, apply.",
        discussion: """
            Describe in YAML what the datacenter should be (Site, HardwarePool, Workload, StorageTier,
            RedundancyPolicy, AccessPolicy, EnergyPolicy); dcapply observes the hardware, computes a
            placement that meets every hard constraint, shows the plan and applies it.

            Start with:  dcapply validate Examples/quickstart/
                         dcapply plan Examples/quickstart/
                         dcapply Examples/quickstart/ --yes

            Exit codes: 0 success; 1 error (invalid manifests, unsatisfiable constraints, provider or
            state failure); 2 changes present (with --detailed-exitcode); 3 state store locked.
            """,
        version: "0.1.0",
        subcommands: [Apply.self, Validate.self, PlanCommand.self, Inventory.self, State.self, Schema.self],
        defaultSubcommand: Apply.self
    )
}
