import DCApplyGit
import Foundation

/// A `dcapply serve` child process for one test: its own state, clone and port, stopped with
/// SIGTERM (then SIGKILL if it does not go) when the test ends.
final class ServeDaemon {
    let process = Process()
    let stderrURL: URL
    private(set) var port = 0

    init(fixture: GitFixture, interval: String, extra: [String] = [], environment extraEnvironment: [String: String] = [:]) throws {
        stderrURL = fixture.root.appendingPathComponent("serve.log")
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: stderrURL)
        process.executableURL = try DCApplyBinary.url()
        process.arguments = ["serve", "--repo", "file://" + fixture.remote.path, "--branch", "main", "--path", "manifests",
                             "--interval", interval, "--listen", "127.0.0.1:0",
                             "--state", "sqlite:" + fixture.root.appendingPathComponent("state.db").path,
                             "--cache", fixture.root.appendingPathComponent("cache").path] + extra
        process.currentDirectoryURL = fixture.root
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        environment.merge(extraEnvironment) { $1 }
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    deinit { stop() }

    var log: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Waits for the "listening on HOST:PORT" line. The log is read once more after the
    /// deadline: a test process busy with other tests may resume this poller late, and what
    /// counts is whether serve started, not when the poller looked.
    func waitUntilListening(timeout: Double = 60) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        let marker = "dcapply serve: listening on 127.0.0.1:"
        while true {
            if let line = log.split(separator: "\n").first(where: { $0.hasPrefix(marker) }),
               let portText = line.dropFirst(marker.count).split(separator: ",").first, let found = Int(portText) {
                port = found
                return
            }
            guard process.isRunning else { throw GitFixture.Failure(description: "dcapply serve exited: \(log)") }
            guard Date() < deadline else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw GitFixture.Failure(description: "dcapply serve did not start listening: \(log)")
    }

    /// GET or POST on the daemon; returns the status code and body.
    func request(_ path: String, post body: String? = nil, headers: [String: String] = [:]) throws -> (status: Int, body: String) {
        var arguments = ["-s", "--noproxy", "*", "-m", "10", "-w", "\n%{http_code}"]
        for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
        if let body { arguments += ["-X", "POST", "--data-binary", body] }
        arguments.append("http://127.0.0.1:\(port)/\(path)")
        let result = try runProcess("curl", arguments)
        let text = result.stdout
        guard let newline = text.lastIndex(of: "\n"), let code = Int(text[text.index(after: newline)...]) else { return (0, text) }
        return (code, String(text[..<newline]))
    }

    func status() throws -> [String: Any] {
        let response = try request("status")
        return (try? JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]) ?? [:]
    }

    /// Polls `/status` until `condition` holds; returns the seconds it took.
    @discardableResult
    func waitFor(_ what: String, timeout: Double = 20, _ condition: ([String: Any]) -> Bool) async throws -> Double {
        let start = Date()
        while true {  // the condition is checked once more after the deadline (see above)
            if condition(try status()) { return Date().timeIntervalSince(start) }
            guard process.isRunning else { throw GitFixture.Failure(description: "dcapply serve exited while waiting for \(what): \(log)") }
            guard Date().timeIntervalSince(start) < timeout else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw GitFixture.Failure(description: "timed out waiting for \(what); status: \(try status()); log: \(log)")
    }

    /// SIGTERM, then the exit status (SIGKILL after `timeout`).
    @discardableResult
    func stop(timeout: Double = 15) -> Int32? {
        guard process.isRunning else { return process.processIdentifier == 0 ? nil : process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { usleep(20_000) }
            return nil
        }
        return process.terminationStatus
    }
}
