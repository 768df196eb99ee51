import Foundation

/// A `console` block of a docs page: commands typed after `$ `, each followed by the output it
/// is documented to print. The rules (which blocks run, `...` and `[..]`, the skip and setup
/// markers) are written in docs/README.md.
struct ConsoleTranscript {
    /// One command and what it prints.
    struct Step {
        var command: String
        var expected: [String]
    }

    /// Where the block is, for failure messages: `README.md:42`.
    var location: String
    /// Commands run first, their output not compared (`<!-- docs-test: setup CMD -->`).
    var setup: [String]
    var steps: [Step]
    /// Why the block is not run (`<!-- docs-test: skip REASON -->`); nil when it is.
    var skipped: String?

    /// Every `console` block of a markdown page, in order.
    static func blocks(in text: String, file: String) -> [ConsoleTranscript] {
        var blocks: [ConsoleTranscript] = []
        var setup: [String] = []
        var skip: String?
        var current: ConsoleTranscript?
        for (index, line) in text.components(separatedBy: "\n").enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if var block = current {
                if trimmed == "```" {
                    blocks.append(block)
                    current = nil
                } else if line.hasPrefix("$ ") {
                    block.steps.append(Step(command: String(line.dropFirst(2)), expected: []))
                    current = block
                } else if !block.steps.isEmpty {
                    block.steps[block.steps.count - 1].expected.append(line)
                    current = block
                }
                continue
            }
            if trimmed == "```console" {
                current = ConsoleTranscript(location: "\(file):\(index + 1)", setup: setup, steps: [], skipped: skip)
                setup = []
                skip = nil
            } else if let rest = marker(trimmed, "setup") {
                setup.append(rest)
            } else if let rest = marker(trimmed, "skip") {
                skip = rest.isEmpty ? "marked skip" : rest
            }
        }
        return blocks
    }

    /// The text of `<!-- docs-test: NAME TEXT -->`, or nil when the line is not that marker.
    private static func marker(_ line: String, _ name: String) -> String? {
        let prefix = "<!-- docs-test: \(name)"
        guard line.hasPrefix(prefix), line.hasSuffix("-->") else { return nil }
        return String(line.dropFirst(prefix.count).dropLast(3)).trimmingCharacters(in: .whitespaces)
    }

    /// Whether `actual` output matches the documented lines: `...` alone on a line (any
    /// indentation) stands for any number of lines, `[..]` inside a line for any text.
    /// Trailing empty lines are ignored on both sides.
    static func matches(expected: [String], actual: [String]) -> Bool {
        let expected = Array(expected.reversed().drop { $0.isEmpty }.reversed())
        let actual = Array(actual.reversed().drop { $0.isEmpty }.reversed())
        var memo: [Int: Bool] = [:]
        func match(_ e: Int, _ a: Int) -> Bool {
            let key = e * (actual.count + 1) + a
            if let known = memo[key] { return known }
            let result: Bool
            if e == expected.count {
                result = a == actual.count
            } else if expected[e].trimmingCharacters(in: .whitespaces) == "..." {
                result = (a...actual.count).contains { match(e + 1, $0) }
            } else {
                result = a < actual.count && lineMatches(expected[e], actual[a]) && match(e + 1, a + 1)
            }
            memo[key] = result
            return result
        }
        return match(0, 0)
    }

    /// One line, where `[..]` stands for any text.
    static func lineMatches(_ expected: String, _ actual: String) -> Bool {
        let parts = expected.components(separatedBy: "[..]")
        guard parts.count > 1 else { return expected == actual }
        let pattern = "^" + parts.map(NSRegularExpression.escapedPattern(for:)).joined(separator: ".*") + "$"
        return actual.range(of: pattern, options: .regularExpression) != nil
    }
}
