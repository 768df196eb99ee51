/// ANSI colour, only when asked for (a terminal, no NO_COLOR, no --no-color).
enum Style {
    enum Color: String {
        case red = "31", green = "32", yellow = "33", cyan = "36", gray = "90"
    }

    static func paint(_ text: String, _ color: Color, bold: Bool = false, enabled: Bool) -> String {
        guard enabled else { return text }
        return "\u{1B}[\(bold ? "1;" : "")\(color.rawValue)m\(text)\u{1B}[0m"
    }

    static func bold(_ text: String, enabled: Bool) -> String {
        enabled ? "\u{1B}[1m\(text)\u{1B}[0m" : text
    }
}
