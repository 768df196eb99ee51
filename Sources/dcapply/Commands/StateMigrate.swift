import ArgumentParser
import DCApplyCore
import Foundation

/// `dcapply state migrate --from URL --to URL`: copies a state store into a new one.
struct StateMigrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy a state store into a new, empty one (sqlite: or postgres://, either way).",
        discussion: """
            Copies the applied target and serial, node overrides, the history, the audit chain \
            (verbatim, so `audit verify` gives the same head), the actuator records and the apply \
            journal, in one transaction: an apply interrupted by a crash is resumed by the next \
            apply on the new store. Refused while an apply runs on the source (its lock holder is \
            alive), and when the destination already holds applies. --state is not used; \
            --state-password-file and PGPASSWORD serve both URLs.
            """)
    @OptionGroup var options: CommonOptions

    @Option(help: ArgumentHelp("The store to copy from.", valueName: "url"))
    var from: String

    @Option(help: ArgumentHelp("The new store to copy into (made on first use).", valueName: "url"))
    var to: String

    func run() async throws {
        try await runReportingErrors(options) {
            guard from != to else { throw DCApplyError(.usage, "--from and --to name the same store") }
            let source = try Self.transferable(try CommonOptions.openStore(from, passwordFile: options.statePasswordFile), from)
            let destination = try Self.transferable(try CommonOptions.openStore(to, passwordFile: options.statePasswordFile), to)
            let snapshot = try source.exportSnapshot()
            try destination.importSnapshot(snapshot)
            options.console.info("Copied serial \(snapshot.state.serial), \(snapshot.history.count) applies, \(snapshot.audit.count) audit entries, "
                                 + "\(snapshot.overrides.count) node overrides and \(snapshot.journal.count) journalled applies from \(Secrets.displayURL(from)) to \(Secrets.displayURL(to)).")
        }
    }

    private static func transferable(_ store: any StateStore, _ url: String) throws -> any StateTransferable {
        guard let store = store as? any StateTransferable else {
            throw DCApplyError(.usage, "state migrate works between sqlite: and postgres:// stores, not \(url)")
        }
        return store
    }
}
