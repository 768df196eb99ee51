import DCApplyCore
import Foundation

/// `file:line:column: error: field: message`, coloured on a terminal.
enum DiagnosticView {
    static func render(_ diagnostic: Diagnostic, color: Bool) -> String {
        guard color else { return diagnostic.description }
        var text = ""
        if let location = diagnostic.location { text += Style.bold("\(location):", enabled: true) + " " }
        let severity: Style.Color = diagnostic.severity == .error ? .red : diagnostic.severity == .warning ? .yellow : .cyan
        text += Style.paint("\(diagnostic.severity.rawValue):", severity, bold: true, enabled: true) + " "
        if let field = diagnostic.fieldPath, !field.isEmpty { text += "\(field): " }
        return text + diagnostic.message
    }
}

extension DiagnosticView {
    /// `{"valid": false, "diagnostics": [...]}`: what `--output json` prints for invalid input,
    /// so stdout always holds one JSON document.
    static func json(_ diagnostics: [Diagnostic]) -> String {
        let entries: [[String: Any]] = diagnostics.map { diagnostic in
            var entry: [String: Any] = ["severity": diagnostic.severity.rawValue, "message": diagnostic.message]
            if let location = diagnostic.location {
                entry["file"] = location.file
                entry["line"] = location.line
                entry["column"] = location.column
            }
            if let field = diagnostic.fieldPath { entry["field"] = field }
            return entry
        }
        let document: [String: Any] = ["valid": !diagnostics.hasErrors, "diagnostics": entries]
        guard let data = try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
