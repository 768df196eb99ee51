import Foundation
import Testing

/// The core's folders point one way: a file names only types declared in its own folder or in
/// folders below it. Read from the source text, so a type moved the wrong way fails here
/// rather than in a reviewer's head.
struct LayerDirectionTests {
    /// Lowest first. Actuate sits between State (its records are stored there) and Apply (which
    /// calls actuators); it is not among the issue's named layers.
    static let order = ["Diagnostics", "Model", "Manifest", "Observe", "Placement", "Plan", "State", "Actuate", "Apply", "Reconcile"]

    /// Upward references that are known and not yet moved, as `layer → type`. The test fails
    /// when one is no longer needed, so the list only shrinks. Empty: keep it so.
    static let knownExceptions: Set<String> = []

    static let core = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/DCApplyCore")

    /// Each layer's Swift files' text, comments and string literals removed.
    static func sources(of layer: String) throws -> [String: String] {
        let folder = core.appendingPathComponent(layer)
        var result: [String: String] = [:]
        guard let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [:] }
        for case let file as URL in files where file.pathExtension == "swift" {
            var text = try String(contentsOf: file, encoding: .utf8)
            text = text.replacingOccurrences(of: #""(?:[^"\\\n]|\\.)*""#, with: "\"\"", options: .regularExpression)
            text = text.replacingOccurrences(of: #"//[^\n]*"#, with: "", options: .regularExpression)
            result[file.lastPathComponent] = text
        }
        return result
    }

    /// Types declared at the top level of a file (nested types are reached through their parent).
    static func declaredTypes(in text: String) throws -> Set<String> {
        let pattern = try NSRegularExpression(pattern: #"^(?:public |package |internal |fileprivate |private )?(?:final )?(?:indirect )?(?:struct|enum|protocol|class|actor|typealias) ([A-Z][A-Za-z0-9_]*)"#,
                                              options: .anchorsMatchLines)
        let range = NSRange(text.startIndex..., in: text)
        return Set(pattern.matches(in: text, range: range).compactMap { Range($0.range(at: 1), in: text).map { String(text[$0]) } })
    }

    /// `file: type` for each type of `names` that `text` names unqualified (not after a dot).
    static func references(to names: Set<String>, in text: String) throws -> Set<String> {
        var found = Set<String>()
        for name in names {
            let pattern = try NSRegularExpression(pattern: #"(?<![.\w])"# + name + #"\b"#)
            if pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil { found.insert(name) }
        }
        return found
    }

    /// Every `layer → type` where a file of `layer` names a type declared in a higher layer.
    static func upwardReferences() throws -> (violations: [String], exceptionsUsed: Set<String>) {
        var declared: [String: Set<String>] = [:]
        for layer in order { declared[layer] = try sources(of: layer).values.reduce(into: Set()) { $0.formUnion(try declaredTypes(in: $1)) } }
        var violations: [String] = []
        var used = Set<String>()
        for (position, layer) in order.enumerated() {
            let higher = order[(position + 1)...].reduce(into: Set<String>()) { $0.formUnion(declared[$1] ?? []) }
                .subtracting(declared[layer] ?? [])
            for (file, text) in try sources(of: layer).sorted(by: { $0.key < $1.key }) {
                for name in try references(to: higher, in: text).sorted() {
                    let key = "\(layer) → \(name)"
                    if knownExceptions.contains(key) { used.insert(key) } else { violations.append("\(layer)/\(file) names \(name), declared in a higher layer") }
                }
            }
        }
        return (violations, used)
    }

    @Test func everyLayerIsAFolderOfTheCore() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.core.path)
            .filter { var isDirectory: ObjCBool = false; return FileManager.default.fileExists(atPath: Self.core.appendingPathComponent($0).path, isDirectory: &isDirectory) && isDirectory.boolValue }
        #expect(Set(folders) == Set(Self.order), "a new folder needs its place in the order")
    }

    @Test func noLayerNamesATypeOfAHigherOne() throws {
        let (violations, used) = try Self.upwardReferences()
        #expect(violations.isEmpty, "\(violations.joined(separator: "\n"))")
        #expect(used == Self.knownExceptions, "exceptions no longer needed: \(Self.knownExceptions.subtracting(used).sorted())")
    }

    @Test func theScannerSeesAnUpwardReference() throws {
        // The scanner itself: Plan naming ApplyGraph (as the planner once did) is caught.
        let text = "let graph = ApplyGraph(changes: changes, desired: desired)\nlet x = Swift.Duration.seconds(1)"
        #expect(try Self.references(to: ["ApplyGraph", "Duration", "Executor"], in: text) == ["ApplyGraph"])
        #expect(try Self.declaredTypes(in: "public struct A {\n    struct Nested {}\n}\npublic typealias B = A\n") == ["A", "B"])
        // And on the real sources: the reconciler names the executor and the planner below it,
        // which the layer check would catch in any layer under Apply.
        let reconciler = try #require(try Self.sources(of: "Reconcile")["Reconciler.swift"])
        #expect(try Self.references(to: ["Executor", "Planner", "NoSuchType"], in: reconciler) == ["Executor", "Planner"])
        #expect(try Self.sources(of: "Apply").values.contains { (try? Self.declaredTypes(in: $0).contains("Executor")) == true })
    }

    @Test func coreMessagesNameNoCommandLineFlag() throws {
        // The core returns hints; the CLI and the daemon word them with their own flags.
        var offenders: [String] = []
        for layer in Self.order {
            let folder = Self.core.appendingPathComponent(layer)
            for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".swift") {
                let lines = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8).split(separator: "\n")
                for (number, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).hasPrefix("//") {
                    if line.range(of: #""[^"]*(--[a-z][a-z-]+|`dcapply [a-z])"#, options: .regularExpression) != nil {
                        offenders.append("\(layer)/\(file):\(number + 1)")
                    }
                }
            }
        }
        #expect(offenders.isEmpty, "\(offenders)")
    }
}
