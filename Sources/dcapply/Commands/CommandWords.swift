import Foundation

/// The command line as people type it, before ArgumentParser reads it: global options typed
/// before the subcommand move after it, and a first word that is neither a command nor an
/// existing path is caught as a mistyped command (the default `apply` would take it for a path).
enum CommandWords {
    /// Options every command takes (`CommonOptions`) that stand alone.
    static let globalFlags: Set<String> = ["--no-color", "-q"]
    /// Options every command takes that are followed by a value.
    static let globalOptions: Set<String> = ["--state", "-o", "--output"]

    /// Global options before the subcommand are moved to the end of the line (before a `--`).
    static func normalize(_ arguments: [String]) -> [String] {
        var globals: [String] = []
        var i = 0
        while i < arguments.count {
            let word = arguments[i]
            if globalFlags.contains(word) || word.range(of: "^-v+$", options: .regularExpression) != nil
                || globalOptions.contains(where: { word.hasPrefix($0 + "=") }) {
                globals.append(word)
                i += 1
            } else if globalOptions.contains(word), i + 1 < arguments.count {
                globals += [word, arguments[i + 1]]
                i += 2
            } else {
                break
            }
        }
        guard !globals.isEmpty, i < arguments.count else { return arguments }
        var rest = Array(arguments[i...])
        let end = rest.firstIndex(of: "--") ?? rest.count
        rest.insert(contentsOf: globals, at: end)
        return rest
    }

    /// `unknown command "pln"; did you mean "plan"?` when the first word is no command, no
    /// option and no existing file or folder; nil when it is one of those.
    static func unknownCommand(_ arguments: [String], commands: [String], exists: (String) -> Bool) -> String? {
        guard let first = arguments.first, !first.hasPrefix("-"), !commands.contains(first), first != "help", !exists(first) else { return nil }
        let close = commands.map { (command: $0, distance: distance(first.lowercased(), $0)) }
            .filter { $0.distance <= max(1, $0.command.count / 3) || $0.command.hasPrefix(first.lowercased()) }
            .min { ($0.distance, $0.command) < ($1.distance, $1.command) }
        if let close {
            return "unknown command \"\(first)\"; did you mean \"\(close.command)\"?"
        }
        return "unknown command \"\(first)\", and no file or folder of that name; the commands are \(commands.joined(separator: ", "))"
    }

    /// Levenshtein distance, with a swap of two neighbours counted once.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var d = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}
