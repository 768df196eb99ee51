import DCApplyCore
import Foundation

/// stderr for people: diagnostics, warnings and progress; never data.
struct Console {
    let color: Bool
    let quiet: Bool

    func error(_ message: String) {
        write(Style.paint("error:", .red, bold: true, enabled: color) + " " + message)
    }

    /// A plain `warning:` line (not shown with -q).
    func warning(_ message: String) {
        if !quiet { write(Style.paint("warning:", .yellow, bold: true, enabled: color) + " " + message) }
    }

    /// A transient status line, on a terminal only; the next write replaces it.
    func progress(_ message: String) {
        guard !quiet, isatty(STDERR_FILENO) == 1 else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(Secrets.redact(message))".utf8))
    }

    func endProgress() {
        guard !quiet, isatty(STDERR_FILENO) == 1 else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    func info(_ message: String) {
        if !quiet { write(message) }
    }

    /// Each diagnostic, then (with `count`) one final `error:` line counting the errors, so a
    /// run that stops here ends with one `error:` line saying why.
    func diagnostics(_ diagnostics: [Diagnostic], count: Bool = true) {
        for diagnostic in diagnostics where !(quiet && diagnostic.severity != .error) {
            write(DiagnosticView.render(diagnostic, color: color))
        }
        let errors = diagnostics.filter { $0.severity == .error }.count
        if errors > 0 && count { error("\(errors) error\(errors == 1 ? "" : "s") above; nothing was changed.") }
    }

    func write(_ line: String) {
        FileHandle.standardError.write(Data((Secrets.redact(line) + "\n").utf8))
    }
}

/// Writes data to stdout.
enum Output {
    static func print(_ text: String) {
        var text = Secrets.redact(text)
        if !text.hasSuffix("\n") { text += "\n" }
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
