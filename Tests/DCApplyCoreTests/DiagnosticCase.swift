import Testing

/// One input of a table-driven validation test, with the exact diagnostics it must produce.
struct DiagnosticCase: Sendable, CustomTestStringConvertible {
    var name: String
    var text: String
    var expected: [String]
    var testDescription: String { name }

    init(_ name: String, _ text: String, _ expected: [String]) {
        self.name = name
        self.text = text
        self.expected = expected
    }
}
