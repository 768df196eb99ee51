import ArgumentParser
import DCApplyCore
import Foundation

struct State: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The state store: what is applied, and the history of applies.",
        subcommands: [Show.self, History.self, Unlock.self, StateMigrate.self])

    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Break the apply lock left by a process that is gone.",
            discussion: """
                Refused while the holder runs on this host. A holder on another host cannot be checked \
                from here: make sure it is gone, then pass --force. An apply that died mid-way is \
                finished (or closed) by the next `dcapply apply`, which finds its journal.
                """)
        @OptionGroup var options: CommonOptions

        @Flag(help: "Break a lock whose holder runs on another host (it cannot be checked from here).")
        var force = false

        func run() async throws {
            try await runReportingErrors(options) {
                let store = try options.openStore()
                guard let holder = try store.lockHolder() else {
                    options.console.info("The state store is not locked.")
                    return
                }
                switch holder.isAlive {
                case true?:
                    throw DCApplyError(.locked, "refused: the lock holder, \(holder), is still running")
                case nil where !force:
                    throw DCApplyError(.locked, "refused: the lock holder, \(holder), runs on another host and cannot be checked from here; if it is gone, pass --force")
                default:
                    try store.breakLock()
                    options.console.info("Broke the lock of \(holder).")
                }
            }
        }
    }

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
