import DCApplyCore

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
