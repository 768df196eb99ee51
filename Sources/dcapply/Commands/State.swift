import ArgumentParser
import DCApplyCore
import Foundation

struct State: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The state store: what is applied, and the history of applies.",
        subcommands: [Show.self, History.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the applied target (JSON: the shape of the plan's `target`).")
        @OptionGroup var options: CommonOptions

        func run() async throws {
            try await runReportingErrors(options) {
                let stored = try options.openStore().load()
                Output.print(options.output == .json ? StateView.json(stored) : StateView.text(stored))
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the applies, oldest first.")
        @OptionGroup var options: CommonOptions

        func run() async throws {
            try await runReportingErrors(options) {
                let records = try options.openStore().history()
                Output.print(options.output == .json ? StateView.json(records) : StateView.text(records))
            }
        }
    }
}

struct Schema: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the JSON Schema of the manifests, for editors and CI linters.")

    func run() async throws {
        Output.print(JSONSchema.manifests())
    }
}
