import DCApplyCore
import DCApplyGit
import DCApplyServer
import Foundation
import Logging

/// One daemon in process: the quickstart in an in-memory repository, an in-memory state store,
/// the local provider, a manual clock and the loop over them. Nothing here sleeps or spawns.
struct ServeHarness {
    let git = InMemoryGitSource()
    let store = InMemoryStateStore()
    let clock = ManualServeClock()
    let state: ServeState
    var loop: GitOpsLoop

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The quickstart's site.yaml and inventory.yaml under manifests/.
    static func quickstart() throws -> [String: Data] {
        let examples = packageRoot.appendingPathComponent("Examples/quickstart")
        return ["manifests/site.yaml": try Data(contentsOf: examples.appendingPathComponent("site.yaml")),
                "manifests/inventory.yaml": try Data(contentsOf: examples.appendingPathComponent("inventory.yaml"))]
    }

    init(selfHeal: Bool = true, interval: Double = 30, applyOptions: ApplyOptions = ApplyOptions(parallelism: 4)) {
        var logger = Logger(label: "dcapply.serve.test")
        logger.logLevel = .critical
        var status = ServeStatus(repository: "memory", branch: "main", path: "manifests", selfHeal: selfHeal)
        status.set("Ready", false, reason: "Progressing", message: "the first pass has not finished", at: clock.now)
        state = ServeState(status: status)
        loop = GitOpsLoop(repository: git, branch: "main", paths: ["manifests"], interval: interval, selfHeal: selfHeal,
                          reconciler: Reconciler(store: store, logger: logger), state: state, logger: logger,
                          trust: TrustGate(trustedSigners: nil), applyOptions: applyOptions)
        loop.clock = clock
        loop.jitter = 1...1
    }

    var status: ServeStatus { state.status.withLock { $0 } }

    /// The value of one metric line (`name{labels}`), or nil when it is not emitted.
    func metric(_ name: String) -> String? {
        state.metrics.text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.map { String($0.dropFirst(name.count + 1)) }
    }

    /// The site.yaml of the branch head with `old` replaced by `new`, committed.
    @discardableResult
    func editSite(_ old: String, _ new: String, message: String = "edit") throws -> String {
        let head = try git.resolve("main")
        let text = String(decoding: try git.read(at: head, path: "manifests/site.yaml") ?? Data(), as: UTF8.self)
        guard text.contains(old) else { throw HarnessError(description: "site.yaml does not contain \(old)") }
        return git.commit(changing: ["manifests/site.yaml": Data(text.replacingOccurrences(of: old, with: new).utf8)], message: message)
    }

    struct HarnessError: Error, CustomStringConvertible {
        var description: String
    }
}
