import ArgumentParser
import DCApplyCore
import DCApplyPostgres
import Foundation
import Logging

/// Output formats for data on stdout.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, markdown, html
}

/// Options every command takes.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Where dcapply keeps what it applied: sqlite:PATH (made on first use) or postgres://USER@HOST:PORT/DB[?sslmode=...&site=NAME].",
        valueName: "url"))
    var state: String = StateStores.defaultURL

    @Option(name: .long, help: ArgumentHelp("A file holding the PostgreSQL password (else PGPASSWORD).", valueName: "file"))
    var statePasswordFile: String?

    @Option(name: [.short, .long], help: "Output format: text, json, markdown, or html (plan, apply and what-if: a self-contained page).")
    var output: OutputFormat = .text

    @Flag(name: .long, help: "No colour, even on a terminal (NO_COLOR in the environment does the same).")
    var noColor = false

    @Flag(name: .short, help: "Quieter: errors only on stderr.")
    var quiet = false

    @Flag(name: .short, help: "More detail on stderr (repeat for debug).")
    var verbose: Int

    var colorOnStdout: Bool { useColor(fileDescriptor: STDOUT_FILENO) }
    var colorOnStderr: Bool { useColor(fileDescriptor: STDERR_FILENO) }

    private func useColor(fileDescriptor: Int32) -> Bool {
        !noColor && ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true && isatty(fileDescriptor) == 1
    }

    func makeLogger() -> Logger {
        let level: Logger.Level = quiet ? .error : verbose >= 2 ? .debug : verbose == 1 ? .info : .warning
        var logger = Logger(label: "dcapply") { RedactingLogHandler(StreamLogHandler.standardError(label: $0)) }
        logger.logLevel = level
        return logger
    }

    /// The executable resolves `postgres://` itself (the core has no NIO); the rest is `StateStores.open`.
    func openStore() throws -> any StateStore {
        try Self.openStore(state, passwordFile: statePasswordFile)
    }

    static func openStore(_ url: String, passwordFile: String?) throws -> any StateStore {
        if PostgresStateURL.matches(url) {
            return try PostgresStateStore.open(url, passwordFile: passwordFile, environment: ProcessInfo.processInfo.environment)
        }
        return try StateStores.open(url)
    }

    var console: Console { Console(color: colorOnStderr, quiet: quiet) }
}

/// Paths to manifests.
struct ManifestPaths: ParsableArguments {
    @Argument(help: ArgumentHelp("Manifest files or directories (read recursively for *.yaml and *.yml).", valueName: "path"))
    var paths: [String] = []

    func validate() throws {
        if paths.isEmpty { throw ValidationError("Name at least one manifest file or directory, such as Examples/quickstart/.") }
    }
}

/// How long placement may search for a better plan.
struct SolverOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Search budget for the optimiser, such as 2s or 500ms (default: grows with the site, 0.5 s to 3.2 s). Counted in work, not wall time, so the same input and budget give the same plan.",
        valueName: "duration"))
    var solveTime: String?

    var seconds: Double? { solveTime.flatMap { DCApplyCore.Duration.parse($0) ?? Double($0) } }

    func validate() throws {
        if let solveTime, seconds == nil {
            throw ValidationError("--solve-time takes a duration such as 2s, 500ms or 1m, got \"\(solveTime)\".")
        }
    }
}

/// Passes log records on with every registered secret masked (see `Secrets`), in the message
/// and in metadata values alike.
struct RedactingLogHandler: LogHandler {
    var base: any LogHandler

    init(_ base: any LogHandler) { self.base = base }

    var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        event.message = "\(Secrets.redact(event.message.description))"
        event.metadata = event.metadata?.mapValues { Logger.Metadata.Value.string(Secrets.redact("\($0)")) }
        base.log(event: event)
    }
}
