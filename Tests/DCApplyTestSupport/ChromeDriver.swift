import Foundation

/// A chromedriver child process on a free loopback port, for tests that drive headless
/// Chromium over WebDriver. Stopped (its browsers closed, then the process killed by pid) by
/// `stop()` or when released.
public final class ChromeDriver: @unchecked Sendable {
    /// Debian's paths (`scripts/install-deps` installs `chromium` and `chromium-driver`).
    public static let driverPath = "/usr/bin/chromedriver"
    public static let browserPath = "/usr/bin/chromium"

    /// Both programs are installed; browser tests are skipped (with this reason) otherwise.
    public static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: driverPath) && FileManager.default.isExecutableFile(atPath: browserPath)
    }

    public static let unavailableReason = "headless Chromium is not installed: run scripts/install-deps (Debian chromium and chromium-driver)"

    private let process = Process()
    public let port: Int
    private let logURL: URL

    /// Starts chromedriver and waits (at most `timeout` seconds) until it answers `/status`.
    public init(timeout: Double = 30) throws {
        port = LoopbackPort.free()
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("chromedriver-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: logURL)
        process.executableURL = URL(fileURLWithPath: Self.driverPath)
        process.arguments = ["--port=\(port)", "--allowed-ips=127.0.0.1"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = logHandle
        process.standardError = logHandle
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let ready = try? request("GET", "/status"), (ready["value"] as? [String: Any])?["ready"] as? Bool == true { return }
            guard process.isRunning else { throw WebDriverError(description: "chromedriver exited: \(log)") }
            guard Date() < deadline else {
                stop()
                throw WebDriverError(description: "chromedriver did not answer on port \(port) within \(timeout) s")
            }
            usleep(100_000)
        }
    }

    deinit { stop() }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// A new headless browser (`--headless=new --no-sandbox`), window `width`×`height`.
    public func session(width: Int = 1400, height: Int = 1000) throws -> WebDriverSession {
        let capabilities: [String: Any] = ["capabilities": ["alwaysMatch": [
            "browserName": "chrome",
            "goog:chromeOptions": ["binary": Self.browserPath,
                                   "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                            "--window-size=\(width),\(height)"]],
        ]]]
        let answer = try request("POST", "/session", capabilities)
        guard let value = answer["value"] as? [String: Any], let id = value["sessionId"] as? String else {
            throw WebDriverError(description: "no session: \(answer); chromedriver log: \(log.suffix(2000))")
        }
        return WebDriverSession(driver: self, id: id)
    }

    /// One WebDriver call: JSON in, JSON out (curl, bounded to 60 s).
    func request(_ method: String, _ path: String, _ body: [String: Any]? = nil) throws -> [String: Any] {
        var arguments = ["-s", "--noproxy", "*", "-m", "60", "-X", method, "-H", "Content-Type: application/json"]
        if let body {
            let data = try JSONSerialization.data(withJSONObject: body)
            arguments += ["--data-binary", String(decoding: data, as: UTF8.self)]
        }
        arguments.append("http://127.0.0.1:\(port)\(path)")
        let result = try DCApplyRunner.runCommand(URL(fileURLWithPath: "/usr/bin/curl"), arguments, in: nil)
        guard result.exitCode == 0 else { throw WebDriverError(description: "\(method) \(path): curl exited \(result.exitCode): \(result.stderr)") }
        guard let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw WebDriverError(description: "\(method) \(path): not a JSON object: \(result.stdout.prefix(500))")
        }
        return object
    }

    /// Asks chromedriver to quit (it closes its browsers), then kills it by pid if it lingers.
    public func stop() {
        guard process.isRunning else { return }
        _ = try? DCApplyRunner.runCommand(URL(fileURLWithPath: "/usr/bin/curl"),
                                          ["-s", "--noproxy", "*", "-m", "5", "http://127.0.0.1:\(port)/shutdown"], in: nil)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { usleep(20_000) }
        }
        try? FileManager.default.removeItem(at: logURL)
    }
}

/// A WebDriver call that failed, with what the driver said.
public struct WebDriverError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}
