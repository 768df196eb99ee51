import DCApplyCore
import DCApplyGit
import Foundation
import Logging
import ServiceLifecycle

/// Serves every site `serve --path` names (`--path sites/east --path sites/west`, or a glob such
/// as `--path 'sites/*'`), each with its own ``GitOpsLoop``: its own lock, revision, conditions,
/// history and metrics labels. The sites' loops run at once, so an apply on one site does not
/// hold another back.
///
/// On every interval (and webhook) the fleet fetches the branch, matches the globs against the
/// revision's tree and reads each folder's Site name (``SiteAssignment``): a folder added by a
/// commit becomes a site, a folder removed (or renamed) stops being served after the pass under
/// way. Nothing of a site no longer served is deleted: its state stays in its store, and a later
/// commit that brings the folder back serves it on from there.
public struct SiteFleet: Service {
    public let repository: any GitRemoteSource
    public let branch: String
    /// The `--path` values: folders, or globs matched against the tree at each revision.
    public let patterns: [String]
    /// Seconds between matchings (±10% jitter); the sites' loops have their own.
    public let interval: Double
    public let state: FleetState
    public let logger: Logger
    /// Makes the loop of a site (its own store, status, metrics and leadership); a throw leaves
    /// the site out, reported, until the next matching tries again.
    public let makeSite: @Sendable (SiteAssignment.Site) throws -> FleetSite
    public var limits: InputLimits = .standard
    public var clock: any ServeClock = SystemWallClock()
    public var jitter: ClosedRange<Double> = 0.9...1.1

    /// A fleet over `repository`'s `branch`; the rest is set on the value.
    public init(repository: any GitRemoteSource, branch: String, patterns: [String], interval: Double, state: FleetState, logger: Logger,
                makeSite: @escaping @Sendable (SiteAssignment.Site) throws -> FleetSite) {
        self.repository = repository
        self.branch = branch
        self.patterns = patterns
        self.interval = interval
        self.state = state
        self.logger = logger
        self.makeSite = makeSite
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                while !state.isStopping {
                    for site in refresh().started {
                        group.addTask {
                            try? await site.loop.run()
                            site.close()
                        }
                    }
                    guard await wait() else { break }
                }
                state.stop()
            }
        } onGracefulShutdown: {
            state.stop()
        }
        logger.info("site fleet stopped", source: ServeLog.source)
    }

    /// Fetches, matches the folders, reads their Site names, and starts and stops sites
    /// accordingly (a stopped site's loop ends after its pass under way). Returns the sites
    /// started, whose loops the caller runs, and those stopped.
    @discardableResult
    public func refresh() -> (started: [FleetSite], stopped: [FleetSite]) {
        let current = state.sites
        if let balancer = state.balancer { state.record(controllers: try? balancer.membership.liveMembers().all.count) }
        let head: String
        let folders: [SiteAssignment.Folder]
        do {
            head = try repository.fetch(branch: branch)
            folders = try SiteFolders.resolve(patterns, at: head, in: repository).map { try read($0, at: head) }
        } catch {
            logger.error("cannot match the site folders", metadata: ["dcapply.error": "\(error)"], source: ServeLog.source)
            state.record(sites: current, problems: state.status.problems, revision: nil, error: "cannot match the site folders: \(error)")
            return ([], [])
        }
        let assignment = SiteAssignment.assign(folders, current: current.map { SiteAssignment.Site(name: $0.name, path: $0.path) })
        var problems = assignment.problems
        var kept: [FleetSite] = []
        var started: [FleetSite] = []
        for wanted in assignment.sites {
            if let running = current.first(where: { $0.name == wanted.name && $0.path == wanted.path }) {
                kept.append(running)
                continue
            }
            do {
                let site = try makeSite(wanted)
                started.append(site)
                logger.notice("serving a site", metadata: ["dcapply.site": "\(wanted.name)", "dcapply.path": "\(wanted.path)"], source: ServeLog.source)
            } catch {
                problems.append("\(wanted.path): site \(wanted.name) cannot be served: \(error)")
            }
        }
        let stopped = current.filter { old in !kept.contains { $0.name == old.name } }
        for site in stopped {
            site.state.stop()
            logger.notice("no longer serving a site; its state is kept", metadata: ["dcapply.site": "\(site.name)", "dcapply.path": "\(site.path)"],
                          source: ServeLog.source)
        }
        state.record(sites: kept + started, problems: problems, revision: head, error: nil)
        return (started, stopped)
    }

    /// A folder and the Sites its manifests declare at `commit` (nil with the first error when
    /// they cannot be read).
    private func read(_ path: String, at commit: String) throws -> SiteAssignment.Folder {
        let (sources, diagnostics) = try repository.manifests(at: commit, paths: [path], limits: limits)
        if let error = diagnostics.first(where: { $0.severity == .error }) { return .init(path: path, sites: nil, error: error.description) }
        let parsed = ManifestParser(limits: limits).parse(sources)
        if let error = parsed.diagnostics.first(where: { $0.severity == .error }) { return .init(path: path, sites: nil, error: error.description) }
        return .init(path: path, sites: parsed.state.sites.keys.sorted())
    }

    /// Sleeps for the interval with jitter, waking at once for a webhook; false when stopping.
    func wait() async -> Bool {
        let deadline = clock.now.addingTimeInterval(interval * Double.random(in: jitter))
        let woke = await withTaskGroup(of: Bool.self) { [clock, state] group in
            group.addTask {
                do {
                    try await clock.sleep(until: deadline)
                    return true
                } catch {
                    return false
                }
            }
            group.addTask { await state.control.nextTrigger() != nil }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        return woke && !state.isStopping && !Task.isCancelled
    }
}
