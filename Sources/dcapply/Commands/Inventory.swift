import ArgumentParser
import DCApplyCore

struct Inventory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read the observed hardware, or rehearse failures on the local provider.",
        subcommands: [Show.self, Set.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the observed nodes (text table, or JSON in the inventory's shape).")

        @Argument(help: ArgumentHelp("Manifest files or directories (default: the current directory).", valueName: "path"))
        var paths: [String] = []
        @OptionGroup var options: CommonOptions

        func run() async throws {
            try await runReportingErrors(options) {
                let pipeline = try Pipeline(options: options)
                let site = try await pipeline.load(paths.isEmpty ? ["."] : paths)
                let applied = try pipeline.reconciler.store.load().target
                Output.print(options.output == .json ? InventoryView.json(site.observed) : InventoryView.text(site.observed, applied: applied))
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a node's observed state in the state store: health=healthy|degraded|failed, powerState=on|off.",
            discussion: """
                The change overlays the inventory file until set again; `key=` (empty) removes it.
                Give manifest paths after the assignments to check that the node exists.
                Example: dcapply inventory set gpu-r01-n02 health=failed
                """)

        @Argument(help: "The node's name.") var node: String
        @Argument(help: ArgumentHelp("key=value assignments, then optional manifest paths.", valueName: "key=value | path"))
        var arguments: [String]
        @OptionGroup var options: CommonOptions

        func validate() throws {
            if !arguments.contains(where: { $0.contains("=") }) {
                throw ValidationError("Give at least one assignment, such as health=failed or powerState=off.")
            }
        }

        func run() async throws {
            try await runReportingErrors(options) {
                var health: Health?? = nil
                var power: PowerState?? = nil
                let assignments = arguments.filter { $0.contains("=") }
                let paths = arguments.filter { !$0.contains("=") }
                for assignment in assignments {
                    let parts = assignment.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                    switch parts[0] {
                    case "health":
                        if parts[1].isEmpty { health = .some(nil) } else if let value = Health(rawValue: parts[1]) { health = .some(value) } else {
                            throw DCApplyError(.usage, "health must be healthy, degraded or failed, got \"\(parts[1])\"")
                        }
                    case "powerState":
                        if parts[1].isEmpty { power = .some(nil) } else if let value = PowerState(rawValue: parts[1]) { power = .some(value) } else {
                            throw DCApplyError(.usage, "powerState must be on or off, got \"\(parts[1])\"")
                        }
                    default:
                        throw DCApplyError(.usage, "cannot set \"\(parts[0])\": the local provider takes health and powerState")
                    }
                }
                let pipeline = try Pipeline(options: options)
                if !paths.isEmpty {
                    let site = try await pipeline.load(paths)
                    guard site.observed.nodes[node] != nil else {
                        let hint = Names.closest(to: node, in: Array(site.observed.nodes.keys)).map { "; did you mean \"\($0)\"?" } ?? ""
                        throw DCApplyError(.usage, "no node \"\(node)\" in the inventory\(hint)")
                    }
                } else {
                    // The nodes the last apply saw; a name none of them has is a typo, not a node.
                    let stored = try pipeline.reconciler.store.load()
                    let known = Swift.Set(stored.target.nodes.keys).union(stored.estimatedW.keys)
                    if known.isEmpty {
                        options.console.warning("nothing is applied yet, so node \"\(node)\" cannot be checked; give manifest paths after the assignments to check the name")
                    } else if !known.contains(node) {
                        let hint = Names.closest(to: node, in: Array(known)).map { "; did you mean \"\($0)\"?" } ?? ""
                        throw DCApplyError(.usage, "no node \"\(node)\" in the applied state, so nothing was set\(hint)")
                    }
                }
                try pipeline.reconciler.store.setOverride(node: node, health: health, powerState: power)
                let described = assignments.map { $0.hasSuffix("=") ? "\($0.dropLast()) override cleared" : $0 }
                options.console.info("Node \(node): " + described.joined(separator: ", ") + ". The next plan reacts to it.")
            }
        }
    }
}
