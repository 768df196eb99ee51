import DCApplyTestSupport
import Foundation
import Subprocess
import Testing

/// Real Redfish services on 127.0.0.1 for the tests: OpenStack's sushy-emulator (fake driver)
/// and sushy-static serving DMTF's public-tower mockup. Each runs for one closure and is
/// stopped after, on a free port, from the venv that `scripts/install-deps` creates.
enum RedfishServices {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let venv = packageRoot.appendingPathComponent(".venv-redfish")
    static let caFile = fixtures.appendingPathComponent("tls/ca.pem").path

    struct MissingVenv: Error, CustomStringConvertible {
        var description: String
    }

    /// The venv's program, or a failure that says how to make it: the tests never skip.
    static func program(_ name: String) throws -> String {
        let path = venv.appendingPathComponent("bin/\(name)").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw MissingVenv(description: "\(path) is missing: run scripts/install-deps (it creates .venv-redfish with sushy-tools==2.2.0)")
        }
        return path
    }

    /// A port nobody listens on now.
    static func freePort() -> Int { LoopbackPort.free() }

    /// A fresh scratch folder.
    static func scratch(_ prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The emulator's systems: UUID `…-00000000000i`, name `node-ii`, two drives each.
    static func uuid(_ index: Int) -> String { String(format: "27946b59-9e44-4fa7-8e91-%012d", index) }

    struct Emulator: Sendable {
        var endpoint: String
        var username: String
        var password: String
    }

    /// The storage of each emulated system: `subsystems` Storage resources holding
    /// `drivesEach` NVMe drives each (`d<storage>-<k>`, 3.84 TB). `.standard` is the shape most
    /// tests use: one subsystem with `nvme0` (7.68 TB NVMe) and `sata0` (1 TiB SATA).
    struct StorageLayout: Sendable, CustomStringConvertible {
        var subsystems: Int
        var drivesEach: Int
        static let standard = StorageLayout(subsystems: 0, drivesEach: 0)
        var isStandard: Bool { subsystems == 0 }
        var description: String { isStandard ? "standard" : "\(subsystems) storage × \(drivesEach) drives" }

        /// The emulator settings for it (Python).
        var settings: String {
            guard !isStandard else {
                return """
                    SUSHY_EMULATOR_STORAGE = {_uuid(i): [{'Id': '1', 'Name': 'Local Storage Controller',
                        'StorageControllers': [{'MemberId': '0', 'Name': 'Contoso Integrated RAID', 'SpeedGbps': 12}],
                        'Drives': ['nvme0', 'sata0']}] for i in range(N)}
                    SUSHY_EMULATOR_DRIVES = {(_uuid(i), '1'): [
                        {'Id': 'nvme0', 'Name': 'nvme0', 'CapacityBytes': 7681501126656, 'Protocol': 'NVMe'},
                        {'Id': 'sata0', 'Name': 'sata0', 'CapacityBytes': 1099511627776, 'Protocol': 'SATA'}] for i in range(N)}

                    """
            }
            return """
                S = \(subsystems)
                D = \(drivesEach)
                SUSHY_EMULATOR_STORAGE = {_uuid(i): [{'Id': str(s + 1), 'Name': 'Storage %d' % (s + 1),
                    'StorageControllers': [{'MemberId': '0', 'Name': 'Controller %d' % (s + 1), 'SpeedGbps': 12}],
                    'Drives': ['d%d-%d' % (s + 1, k) for k in range(D)]} for s in range(S)] for i in range(N)}
                SUSHY_EMULATOR_DRIVES = {(_uuid(i), str(s + 1)): [
                    {'Id': 'd%d-%d' % (s + 1, k), 'Name': 'd%d-%d' % (s + 1, k), 'CapacityBytes': 3840755982336, 'Protocol': 'NVMe'}
                    for k in range(D)] for i in range(N) for s in range(S)}

                """
        }
    }

    /// Runs sushy-emulator with `systems` fake systems (all off), over HTTPS with basic auth
    /// when `secure`, for the duration of `body`.
    static func withEmulator<T: Sendable>(systems: Int, secure: Bool = true, storage: StorageLayout = .standard,
                                          _ body: @Sendable (Emulator) async throws -> T) async throws -> T {
        let python = try program("python3")
        let emulator = try program("sushy-emulator")
        let folder = try scratch("dcapply-sushy")
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = freePort()
        let username = "admin"
        let password = "pw-" + UUID().uuidString.prefix(12).lowercased()
        var settings = """
            import os
            N = \(systems)
            SUSHY_EMULATOR_FAKE_DRIVER = True
            SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'
            SUSHY_EMULATOR_LISTEN_PORT = \(port)
            SUSHY_EMULATOR_STATE_DIR = '\(folder.path)/state'
            def _uuid(i): return '27946b59-9e44-4fa7-8e91-%012d' % i
            SUSHY_EMULATOR_FAKE_SYSTEMS = [{'uuid': _uuid(i), 'name': 'node-%02d' % i, 'power_state': 'Off',
                'nics': [{'mac': '00:5c:52:31:%02x:%02x' % (i // 256, i % 256), 'ip': '172.22.%d.%d' % (i // 200, i % 200 + 1)}],
                'external_notifier': False} for i in range(N)]

            """ + storage.settings
        if secure {
            let hash = try await output(python, ["-c", "import bcrypt,sys; print(bcrypt.hashpw(sys.argv[1].encode(), bcrypt.gensalt(4)).decode())", password])
            try "\(username):\(hash.trimmingCharacters(in: .whitespacesAndNewlines))\n".write(to: folder.appendingPathComponent("htpasswd"), atomically: true, encoding: .utf8)
            settings += """
                SUSHY_EMULATOR_AUTH_FILE = '\(folder.path)/htpasswd'
                SUSHY_EMULATOR_SSL_CERT = '\(fixtures.path)/tls/server.pem'
                SUSHY_EMULATOR_SSL_KEY = '\(fixtures.path)/tls/server.key'

                """
        }
        let config = folder.appendingPathComponent("emulator.py")
        try settings.write(to: config, atomically: true, encoding: .utf8)
        let endpoint = "\(secure ? "https" : "http")://127.0.0.1:\(port)"
        let service = Emulator(endpoint: endpoint, username: username, password: password)
        return try await serve(emulator, ["--config", config.path], port: port, secure: secure) { try await body(service) }
    }

    /// Runs sushy-static over a DMTF mockup in Fixtures/redfish-mockup (plain HTTP, no auth;
    /// public-tower by default) for `body`.
    static func withMockup<T: Sendable>(_ name: String = "public-tower", _ body: @Sendable (String) async throws -> T) async throws -> T {
        let server = try program("sushy-static")
        let port = freePort()
        let files = fixtures.appendingPathComponent("redfish-mockup/\(name)").path
        return try await serve(server, ["--interface", "127.0.0.1", "--port", "\(port)", "--mockup-files", files],
                               port: port, secure: false) { try await body("http://127.0.0.1:\(port)") }
    }

    /// Starts `program`, waits until its service root answers, runs `body`, then stops it.
    static func serve<T: Sendable>(_ program: String, _ arguments: [String], port: Int, secure: Bool,
                                   _ body: @Sendable () async throws -> T) async throws -> T {
        let result = try await Subprocess.run(.path(.init(program)), arguments: Arguments(arguments),
                                              input: .none, output: .discarded, error: .discarded) { execution in
            do {
                try await waitUntilListening(port: port)
                let value = try await body()
                try? execution.send(signal: .terminate)
                return value
            } catch {
                try? execution.send(signal: .terminate)
                throw error
            }
        }
        return result.closureResult
    }

    /// Polls the port until a TCP connection succeeds (45 s at most; the port is tried once
    /// more after the deadline, as a busy test process may resume this poller late).
    static func waitUntilListening(port: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(45)
        while true {
            let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(socket)
            if connected == 0 { return }
            guard ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw MissingVenv(description: "the Redfish service on 127.0.0.1:\(port) did not start within 45 s")
    }

    /// Runs a short program and returns its standard output.
    static func output(_ program: String, _ arguments: [String]) async throws -> String {
        let result = try await Subprocess.run(.path(.init(program)), arguments: Arguments(arguments), output: .string(limit: 1 << 20), error: .discarded)
        return result.standardOutput
    }
}
