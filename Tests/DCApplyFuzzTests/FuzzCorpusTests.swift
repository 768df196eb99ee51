@testable import DCApplyFuzz
import Foundation
import Testing

/// Replays the committed fuzz inputs through the same targets libFuzzer drives (in the ordinary,
/// unsanitized build): every seed in Fuzz/corpus and every finding kept in Fuzz/regressions must
/// be read without a crash, and each regression gives the outcome recorded next to it.
@Suite struct FuzzCorpusTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func inputs(_ folder: String, _ target: FuzzTarget) -> [URL] {
        let directory = root.appendingPathComponent("Fuzz/\(folder)/\(target.rawValue)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { !$0.hasSuffix(".expected") }.sorted().map { directory.appendingPathComponent($0) }
    }

    @Test(arguments: FuzzTarget.allCases)
    func everySeedIsRead(_ target: FuzzTarget) throws {
        let seeds = Self.inputs("corpus", target)
        #expect(seeds.count >= 5, "Fuzz/corpus/\(target.rawValue) has \(seeds.count) seeds")
        for seed in seeds {
            let summary = target.run(try Data(contentsOf: seed))
            #expect(!summary.isEmpty)
        }
    }

    /// Each finding `X` has `X.expected`: the summary the fixed reader gives for it.
    @Test(arguments: FuzzTarget.allCases)
    func everyRegressionGivesItsRecordedOutcome(_ target: FuzzTarget) throws {
        for input in Self.inputs("regressions", target) {
            let expected = try String(contentsOf: input.appendingPathExtension("expected"), encoding: .utf8)
            #expect(target.run(try Data(contentsOf: input)) == expected.trimmingCharacters(in: .newlines), "\(input.lastPathComponent)")
        }
    }
}
