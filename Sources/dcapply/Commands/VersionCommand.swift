import ArgumentParser
import DCApplyCore

/// `dcapply version`: the same as `dcapply --version`, as people type it.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print dcapply's version.")

    func run() {
        Output.print(DCApplyCoreVersion.string)
    }
}
