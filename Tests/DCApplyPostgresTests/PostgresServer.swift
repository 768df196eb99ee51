import DCApplyTestSupport
import Foundation
import Synchronization

/// A throw-away PostgreSQL 15 server for the tests: `initdb` and `postgres` in a temp folder on a
/// free loopback port, run as the unprivileged `dcapply-pg` user when the tests run as root
/// (PostgreSQL refuses root; `scripts/install-deps` makes the user). One server per test
/// process, started on first use; each test takes its own database or `site=` key in it.
///
/// It stops at exit (`atexit`, by pid), and a watcher started with it stops it if this process
/// dies first, so no server outlives the tests.
final class PostgresServer: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static let binaries = "/usr/lib/postgresql/15/bin"
    static let user = "dcapply-pg"

    let directory: URL
    let port: Int
    /// The running postgres's pid (a new one after ``restart()``).
    var pid: Int32 { current.withLock { $0 } }
    private let current: Mutex<Int32>

    private static let shared = Mutex<Result<PostgresServer, Failure>?>(nil)

    /// The server of this test process, started on first use.
    static func running() throws -> PostgresServer {
        try shared.withLock { current in
            if let current { return try current.get() }
            let started: Result<PostgresServer, Failure>
            do { started = .success(try start()) } catch let error as Failure { started = .failure(error) } catch {
                started = .failure(Failure(description: "\(error)"))
            }
            current = started
            if case .success = started { atexit { PostgresServer.stopShared() } }
            return try started.get()
        }
    }

    private static func stopShared() {
        guard case .success(let server)? = shared.withLock({ $0 }) else { return }
        server.stop()
    }

    private init(directory: URL, port: Int, pid: Int32) {
        self.directory = directory
        self.port = port
        current = Mutex(pid)
    }

    /// A server of the caller's own, for a test that stops and restarts it (the shared one
    /// serves every other test). The caller stops it (`defer { server.stop() }`); its watcher
    /// stops it if this process dies first.
    static func dedicated() throws -> PostgresServer { try start() }

    /// A new, empty database; its `postgres://` URL (user postgres, trust auth on loopback).
    func createDatabase(site: String? = nil) throws -> String {
        let name = "t" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        try Self.runChecked(["\(Self.binaries)/createdb", "-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", String(name)])
        return "postgres://postgres@127.0.0.1:\(port)/\(name)?sslmode=disable" + (site.map { "&site=\($0)" } ?? "")
    }

    /// Runs `sql` with psql as the superuser against `database`; its output, unaligned.
    func psql(_ database: String, _ sql: String) throws -> String {
        try Self.runChecked(["\(Self.binaries)/psql", "-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", database,
                             "-At", "-c", sql])
    }

    private static var asRoot: Bool { getuid() == 0 }

    /// The command, run as `dcapply-pg` when we are root.
    private static func unprivileged(_ command: [String]) -> [String] {
        asRoot ? ["/usr/bin/setpriv", "--reuid=\(user)", "--regid=\(user)", "--init-groups", "--"] + command : command
    }

    private static func start() throws -> PostgresServer {
        guard FileManager.default.isExecutableFile(atPath: "\(binaries)/postgres") else {
            throw Failure(description: "PostgreSQL 15 is not installed (\(binaries)/postgres); run scripts/install-deps")
        }
        if asRoot, getpwnam(user) == nil {
            throw Failure(description: "the user \(user) is missing (PostgreSQL refuses to run as root); run scripts/install-deps")
        }
        let directory = URL(fileURLWithPath: "/tmp/dcapply-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if asRoot { try runChecked(["/bin/chown", user, directory.path]) }
        let data = directory.appendingPathComponent("data").path
        try runChecked(unprivileged(["\(binaries)/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]))
        let port = LoopbackPort.free()
        let pid = try launch(directory: directory, port: port)
        return PostgresServer(directory: directory, port: port, pid: pid)
    }

    /// Starts postgres on the data folder in `directory` (under a watcher that stops it if this
    /// test process dies first) and waits until it accepts connections; its pid.
    private static func launch(directory: URL, port: Int) throws -> Int32 {
        let data = directory.appendingPathComponent("data").path
        try? FileManager.default.removeItem(at: directory.appendingPathComponent("server.pid"))
        // The watcher stops postgres if this test process dies without stopping it.
        let script = """
            \(binaries)/postgres -D \(data) -p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c fsync=off \\
              -c max_connections=50 >>\(directory.path)/server.log 2>&1 &
            pg=$!
            echo $pg > \(directory.path)/server.pid
            while [ -d /proc/\(getpid()) ] && kill -0 $pg 2>/dev/null; do sleep 1; done
            kill -INT $pg 2>/dev/null; wait $pg
            """
        let watcher = Process()
        let command = unprivileged(["/bin/sh", "-c", script])
        watcher.executableURL = URL(fileURLWithPath: command[0])
        watcher.arguments = Array(command.dropFirst())
        watcher.standardInput = FileHandle.nullDevice
        watcher.standardOutput = FileHandle.nullDevice
        watcher.standardError = FileHandle.nullDevice
        try watcher.run()
        let deadline = Date().addingTimeInterval(30)
        var pid: Int32?
        while Date() < deadline {
            if pid == nil, let text = try? String(contentsOfFile: directory.appendingPathComponent("server.pid").path, encoding: .utf8) {
                pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            if let pid, (try? runChecked(["\(binaries)/pg_isready", "-q", "-h", "127.0.0.1", "-p", "\(port)"])) != nil {
                return pid
            }
            guard watcher.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let log = (try? String(contentsOfFile: directory.appendingPathComponent("server.log").path, encoding: .utf8)) ?? ""
        if let pid { kill(pid, SIGKILL) }
        throw Failure(description: "PostgreSQL did not accept connections on port \(port) within 30 s:\n\(log)")
    }

    /// Stops postgres by pid (fast shutdown: every session ends) and waits for it to exit,
    /// keeping its data folder; ``startAgain()`` starts it again.
    func stopServer() {
        let pid = self.pid
        kill(pid, SIGINT)
        let deadline = Date().addingTimeInterval(10)
        while kill(pid, 0) == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        // The port is free once the postmaster is gone (its children go with it).
        while kill(pid, 0) == 0 { Thread.sleep(forTimeInterval: 0.05) }
    }

    /// Starts the stopped server again on the same data folder and port.
    func startAgain() throws {
        let pid = try Self.launch(directory: directory, port: port)
        current.withLock { $0 = pid }
    }

    /// Stops the server (every session ends) and starts it again on the same data folder and port.
    func restart() throws {
        stopServer()
        try startAgain()
    }

    /// Stops the server by pid (fast shutdown, then SIGKILL after 10 s) and removes its folder.
    func stop() {
        let pid = self.pid
        kill(pid, SIGINT)
        let deadline = Date().addingTimeInterval(10)
        while kill(pid, 0) == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs a short command to completion (with a 60 s limit); its stdout, or a failure with its output.
    @discardableResult
    static func runChecked(_ command: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-pg-out-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? handle.close()
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(command.joined(separator: " ")) exited \(process.terminationStatus): \(text)")
        }
        return text
    }
}
