import ArgumentParser
import DCApplyCore
import DCApplyGit
import DCApplyPostgres
import DCApplyServer
import Foundation
import Hummingbird
import Logging
import Crypto

/// `dcapply serve`: the GitOps daemon.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "GitOps: keep the site converged to a git branch, with health, metrics, status and a webhook.",
        discussion: """
            Fetches the branch on every interval (with ±10% jitter) and on POST /hooks/git, and reconciles
            each new revision: manifests are read from git objects, checked, planned and applied. A revision
            whose manifests are invalid or unsatisfiable is refused whole: the site stays on the last good
            revision and /status says why. Every interval also re-observes the hardware and corrects drift
            (--no-self-heal: report it only). SIGTERM or SIGINT lets the pass under way finish, then exits 0.

            Every commit since the applied revision that changes a resource must be signed (SSH, gpg.format=ssh)
            by a member granted manage on it by the applied revision's AccessPolicies (--trusted-signers while
            there are none); otherwise the revision is refused whole. See docs/security.md.

            Endpoints: GET /healthz, /readyz (200 once a revision is applied), /metrics (Prometheus),
            /status (JSON), and POST /hooks/git, checked against --webhook-secret-file (GitHub's
            X-Hub-Signature-256 or Gitea's X-Gitea-Signature).
            """)

    @Option(help: ArgumentHelp("The git repository to follow: a path, file://, https:// or ssh:// URL.", valueName: "url"))
    var repo: String

    @Option(help: ArgumentHelp("The branch to follow.", valueName: "name"))
    var branch: String

    @Option(help: ArgumentHelp("The manifest folder or file inside the repository (default: its root). Repeat it, or give a glob such as 'sites/*', to serve several sites, one per folder.", valueName: "dir"))
    var path: [String] = []

    @Option(help: ArgumentHelp("How often to fetch and re-observe, such as 30s or 1m.", valueName: "duration"))
    var interval: String = "30s"

    @Option(help: ArgumentHelp("Where to serve HTTP: HOST:PORT (port 0 picks a free one and logs it).", valueName: "addr"))
    var listen: String = "127.0.0.1:8080"

    @Option(help: ArgumentHelp("A file holding the webhook's shared secret; without it POST /hooks/git is refused.", valueName: "file"))
    var webhookSecretFile: String?

    @Option(help: ArgumentHelp("Where to keep the clone (default: .dcapply/git/ in the current directory).", valueName: "dir"))
    var cache: String?

    @Option(help: ArgumentHelp("An allowed-signers file (git's format) whose SSH keys may sign revisions while no applied revision declares an AccessPolicy, such as the first.", valueName: "file"))
    var trustedSigners: String?

    @Option(help: ArgumentHelp("With --state postgres://...: how often a standby asks whether the site's leader is gone, such as 5s; it bounds the takeover (default: the interval, at most 5s).", valueName: "duration"))
    var leaderCheck: String?

    @Option(help: "Actions carried out at once, at most, in each apply.")
    var parallelism = 8

    @Flag(inversion: .prefixedNo, help: "Correct drift found between revisions (with --no-self-heal, only report it).")
    var selfHeal = true

    @OptionGroup var options: CommonOptions
    @OptionGroup var solver: SolverOptions
    @OptionGroup var destroy: DestroyOptions

    var intervalSeconds: Double? { DCApplyCore.Duration.parse(interval) ?? Double(interval) }

    var leaderCheckSeconds: Double? { leaderCheck.flatMap { DCApplyCore.Duration.parse($0) ?? Double($0) } }

    var address: (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    func validate() throws {
        guard let seconds = intervalSeconds, seconds > 0 else {
            throw ValidationError("--interval takes a duration such as 30s, 500ms or 1m, got \"\(interval)\".")
        }
        if address == nil { throw ValidationError("--listen takes HOST:PORT, such as 127.0.0.1:8080, got \"\(listen)\".") }
        if branch.isEmpty { throw ValidationError("--branch names the branch to follow, such as main.") }
        if leaderCheck != nil, (leaderCheckSeconds ?? 0) <= 0 {
            throw ValidationError("--leader-check takes a duration such as 5s or 500ms, got \"\(leaderCheck ?? "")\".")
        }
        guard parallelism >= 1 else { throw ValidationError("--parallelism must be at least 1") }
    }

    func run() async throws {
        ServeSignals.unblock()
        try await runReportingErrors(options) {
            Secrets.registerUserinfo(of: repo)
            if let token = ProcessInfo.processInfo.environment["DCAPPLY_GIT_TOKEN"] { Secrets.register(token) }
            var logger = options.makeLogger()
            if options.verbose == 0 && !options.quiet { logger.logLevel = .info }
            let webhook = try webhookSecretFile.map { file -> WebhookSignature in
                guard let secret = try? String(contentsOfFile: file, encoding: .utf8), !secret.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw DCApplyError(.usage, "cannot read a secret from --webhook-secret-file \(file)")
                }
                Secrets.register(secret)
                return WebhookSignature(secret: secret)
            }
            let trust = TrustGate(trustedSigners: try loadTrustedSigners(logger: logger))
            if isFleet {
                try await runFleet(logger: logger, webhook: webhook, trust: trust)
                return
            }
            let repository = try openClone(logger: logger)
            let reconciler = try Pipeline(options: options, solver: solver).reconciler
            var status = ServeStatus(repository: Secrets.displayURL(repo), branch: branch, path: path.joined(separator: ","), selfHeal: selfHeal)
            // After a restart the site is where the state store says; a new revision moves it on.
            status.lastAppliedRevision = try reconciler.store.load().revision
            status.set("Ready", false, reason: "Progressing", message: "the first pass has not finished", at: Date())
            status.set("Stalled", false, reason: "Progressing", message: "", at: Date())
            let state = ServeState(status: status)
            var loop = GitOpsLoop(repository: repository, branch: branch, paths: path, interval: intervalSeconds ?? 30, selfHeal: selfHeal,
                                  reconciler: reconciler, state: state, logger: logger, trust: trust,
                                  applyOptions: ApplyOptions(parallelism: parallelism, failpoints: try Failpoints.fromEnvironment()))
            loop.destroyLimit = destroy.allowDestroy ? nil : destroy.threshold
            loop.trees = GitTreeCache(root: URL(fileURLWithPath: repository.path).appendingPathComponent("dcapply-trees").path)
            // On a shared PostgreSQL store, several controllers may follow the repository: one
            // leads the site, the others stand by (docs/operations.md).
            let leadership = (reconciler.store as? PostgresStateStore).map { store in
                let leadership = PostgresSiteLeadership(sharing: store)
                store.reportOutages(to: logger)
                leadership.reportOutages(to: logger)
                store.fence { leadership.fencingToken }
                return leadership
            }
            loop.leadership = leadership
            loop.leaderCheck = leaderCheckSeconds ?? min(5, intervalSeconds ?? 30)
            defer { leadership?.shutdown() }
            guard let address else { return }
            let app = Application(
                router: ServeRoutes.router(state: state, webhook: webhook),
                configuration: .init(address: .hostname(address.host, port: address.port), serverName: "dcapply"),
                services: [loop],
                onServerRunning: { channel in
                    let port = channel.localAddress?.port ?? address.port
                    FileHandle.standardError.write(Data("dcapply serve: listening on \(address.host):\(port), following \(branch) of \(Secrets.displayURL(repo))\n".utf8))
                },
                logger: logger)
            try await app.runService()
        }
    }

    /// Opens the clone kept for this URL, cloning it (bare) the first time.
    func openClone(logger: Logger) throws -> LibGit2Repository {
        let url = Self.absoluteURL(repo)
        let digest = SHA256.hash(data: Data(url.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
        let directory = cache ?? ".dcapply/git/\(digest)"
        do {
            if FileManager.default.fileExists(atPath: directory + "/HEAD") {
                return try LibGit2Repository.open(directory)
            }
            try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: directory).deletingLastPathComponent().path, withIntermediateDirectories: true)
            logger.info("cloning", metadata: ["git.url": "\(Secrets.displayURL(url))", "git.clone": "\(directory)"])
            do {
                return try LibGit2Repository.cloneBare(url, into: directory)
            } catch {
                try? FileManager.default.removeItem(atPath: directory)  // never leave a half clone behind
                throw error
            }
        } catch let error as GitError {
            throw DCApplyError(.usage, error.message)
        }
    }

    /// A local path made absolute, so the clone's remote does not depend on the directory the daemon runs in.
    static func absoluteURL(_ repo: String) -> String {
        if repo.contains("://") || repo.contains("@") && !repo.hasPrefix("/") { return repo }
        return URL(fileURLWithPath: repo).standardized.path
    }
}

/// A daemon started by a parent that blocks signals (as some test runners and supervisors do)
/// must still hear SIGTERM and SIGINT to shut down gracefully.
enum ServeSignals {
    static func unblock() {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&set, signal) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}
