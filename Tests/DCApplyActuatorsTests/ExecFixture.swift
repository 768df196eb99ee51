import DCApplyActuators
import DCApplyCore
import DCApplyTestSupport
import Foundation
import Logging
import Subprocess

/// A scratch folder with a small site (one rack of nodes, a pool, optionally a workload) and
/// plugins written into it, for running exec plugins as real processes.
struct ExecFixture {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    static let fast = ApplyOptions(parallelism: 4, backoffMS: 1, maxBackoffMS: 5)

    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-exec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    func path(_ name: String) -> String { root.appendingPathComponent(name).path }

    func write(_ name: String, _ text: String, executable: Bool = false) throws {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path(name)) }
    }

    func read(_ name: String) -> String { (try? String(contentsOfFile: path(name), encoding: .utf8)) ?? "" }

    /// A Python plugin: `body` is the code after `request` (the parsed request) is read.
    func plugin(_ name: String, _ body: String) throws {
        try write(name, """
            #!/usr/bin/env python3
            import json, os, subprocess, sys, time
            request = json.load(sys.stdin)
            op = request["operation"]
            def count(name):
                path = name + ".count"
                n = int(open(path).read()) + 1 if os.path.exists(path) else 1
                open(path, "w").write(str(n))
                return n
            def done():
                json.dump({"results": [{"id": a["id"], "status": "done"} for a in request["actions"]]}, sys.stdout)
            if op == "describe":
                json.dump({"operations": ["apply"], "actions": ["assign", "place"]}, sys.stdout)
                sys.exit(0)
            \(body)
            """, executable: true)
    }

    /// A Site `s1` with `nodes` healthy nodes in rack r1, a pool of all of them, the given
    /// actuator command (if any) and provider.
    func site(nodes: Int = 2, actuator: [String]? = nil, provider: String = "local: {inventory: inventory.yaml}", extra: String = "") throws {
        var site = """
            apiVersion: dcapply/v1
            kind: Site
            metadata: {name: s1}
            spec:
              failureDomains: [rack]
              provider: {\(provider)}

            """
        if let actuator { site += "  actuators: [{exec: {command: [\(actuator.joined(separator: ", "))], timeout: 30s}}]\n" }
        site += """
            ---
            apiVersion: dcapply/v1
            kind: HardwarePool
            metadata: {name: p}
            spec: {site: s1}
            \(extra)
            """
        try write("site.yaml", site)
        try write("inventory.yaml", Self.inventory(nodes: nodes))
    }

    static func inventory(nodes: Int) -> String {
        """
        apiVersion: dcapply/v1
        kind: Inventory
        templates:
          - namePattern: "n{index:02}"
            racks: [1]
            perRack: \(nodes)
            labels: {rack: r1}
            gpus: {model: H100, count: 8, memoryGiB: 80}
            capacity: {cpuCores: 64, memoryGiB: 1024}
            power: {idleW: 1000, maxW: 10000}
        """
    }

    func reconciler(store: any StateStore = InMemoryStateStore(), environment: [String: String] = [:]) -> Reconciler {
        Reconciler(store: store, logger: Self.logger, providers: ExecPlugins.providerFactory(environment: environment),
                   actuators: ExecPlugins.actuatorFactory(environment: environment))
    }

    /// Loads, plans and applies the site once.
    func apply(_ reconciler: Reconciler, options: ApplyOptions = fast) async throws -> (Plan, ApplyOutcome) {
        let loaded = try await reconciler.load([root.path])
        guard !loaded.diagnostics.hasErrors else { throw DCApplyError(.invalidInput, "\(loaded.diagnostics)") }
        let plan = try reconciler.plan(loaded)
        return (plan, try await reconciler.execute(plan, site: loaded, options: options))
    }

    /// Runs the built dcapply in this folder, with a time limit.
    func dcapply(_ arguments: [String], environment: [String: String] = [:]) async throws -> (code: Int32, stdout: String, stderr: String) {
        let binary = try DCApplyRunner.executableURL().path  // DCAPPLY_BINARY wins
        var variables: [Environment.Key: String?] = ["NO_COLOR": "1"]
        for (key, value) in environment { variables[Environment.Key(stringLiteral: key)] = value }
        let extra = variables
        let result = try await Subprocess.run(.path(.init("/usr/bin/timeout")), arguments: Arguments(["-s", "KILL", "120", binary] + arguments),
                                              environment: .inherit.updating(extra), workingDirectory: .init(root.path),
                                              output: .string(limit: 16 << 20), error: .string(limit: 16 << 20))
        let code: Int32
        switch result.terminationStatus {
        case .exited(let value): code = value
        case .signaled(let signal): code = 128 + signal
        }
        return (code, result.standardOutput, result.standardError)
    }
}
