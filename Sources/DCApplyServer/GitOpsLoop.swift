import DCApplyCore
import DCApplyGit
import Foundation
import Logging
import ServiceLifecycle

/// Keeps the site converged to a git branch: fetch, check, plan, apply, on every interval and
/// on every webhook. A revision whose manifests are invalid or unsatisfiable is refused whole
/// and the site stays on the last good one. Level-based: every pass re-reads the revision and
/// re-observes the hardware, so drift is found and (with self-heal) corrected.
///
/// A pass gathers ``ReconcileObservations`` (the I/O), asks ``ReconcilePolicy`` what to do (pure)
/// and carries the ``ReconcileDecision`` out. Time comes from an injected ``ServeClock``, and
/// between passes the loop sleeps on it until the interval (or the backoff) ends or a webhook
/// or a stop wakes it.
public struct GitOpsLoop: Service {
    /// The branch's repository: a clone in `dcapply serve`, an ``InMemoryGitSource`` in tests.
    public let repository: any GitRemoteSource
    public let branch: String
    /// The manifest files or folders inside the repository (empty: its root).
    public let paths: [String]
    /// Seconds between passes (±10% jitter).
    public let interval: Double
    public let selfHeal: Bool
    public let reconciler: Reconciler
    public let state: ServeState
    public let logger: Logger
    /// Commit signatures and `manage` rights, checked before a new revision is read.
    public let trust: TrustGate
    /// The share of what is applied a plan may take away (nil: any, with --allow-destroy).
    public var destroyLimit: Double? = 0.5
    /// Parallelism, retries and failpoints of each apply; its `shouldStop` is asked along with
    /// the daemon's stop flag before each action.
    public var applyOptions: ApplyOptions
    /// Where time is read and waited on.
    public var clock: any ServeClock = SystemWallClock()
    /// The factor the interval is multiplied by before each wait, drawn uniformly.
    public var jitter: ClosedRange<Double> = 0.9...1.1
    /// Who may act for the site when several controllers share the state store: asked at the
    /// start of each pass (a standby does nothing else) and before each action of an apply
    /// (fencing). Nil: this controller runs alone and always acts.
    public var leadership: (any SiteLeadership)?
    /// Seconds between a standby's passes (±10% jitter), when shorter than the interval: it
    /// bounds how long a dead leader's site waits for a standby to take over.
    public var leaderCheck: Double?
    /// Where exec plugins named by the manifests run from: a copy of each applied revision's
    /// files (the clone is bare). Nil: from the daemon's current directory, as `dcapply apply`.
    public var trees: GitTreeCache?

    /// A loop over `repository`'s `branch`; the rest is set on the value.
    public init(repository: any GitRemoteSource, branch: String, paths: [String], interval: Double, selfHeal: Bool,
                reconciler: Reconciler, state: ServeState, logger: Logger, trust: TrustGate, applyOptions: ApplyOptions = ApplyOptions()) {
        self.repository = repository
        self.branch = branch
        self.paths = paths
        self.interval = interval
        self.selfHeal = selfHeal
        self.reconciler = reconciler
        self.state = state
        self.logger = logger
        self.trust = trust
        self.applyOptions = applyOptions
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            var trigger = PassTrigger.start
            while !state.isStopping {
                let decision = await pass(trigger)
                guard let next = await wait(after: decision) else { break }
                trigger = next
            }
        } onGracefulShutdown: {
            // The pass under way finishes (an apply stops at an action boundary); no new one starts.
            state.stop()
        }
        logger.info("reconcile loop stopped", source: ServeLog.source)
    }

    /// Sleeps for the interval with jitter (after a failure: the backoff), waking at once for a
    /// webhook; nil when stopping.
    func wait(after decision: ReconcileDecision) async -> PassTrigger? {
        let seconds: Double
        if case .stall(let backoff, _, _) = decision {
            seconds = Double(backoff.components.seconds) + Double(backoff.components.attoseconds) / 1e18
        } else if case .standby = decision {
            seconds = min(interval, leaderCheck ?? interval) * Double.random(in: jitter)
        } else {
            seconds = interval * Double.random(in: jitter)
        }
        let deadline = clock.now.addingTimeInterval(seconds)
        let first = await withTaskGroup(of: PassTrigger?.self) { [clock, state] group in
            group.addTask {
                do {
                    try await clock.sleep(until: deadline)
                    return .interval
                } catch {
                    return nil
                }
            }
            group.addTask { await state.nextTrigger() }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        return state.isStopping || Task.isCancelled ? nil : first
    }

    /// One pass; the status and metrics are written on every way out. Returns what it decided.
    @discardableResult
    public func pass(_ trigger: PassTrigger) async -> ReconcileDecision {
        let started = clock.now
        _ = state.takeTrigger()  // this pass serves any webhook that arrived before it
        state.status.withLock { $0.set("Reconciling", true, reason: "Progressing", message: "reconciling (\(trigger.rawValue))", at: started) }
        let decision = await reconcile()
        let end = clock.now
        state.metrics.recordPass(result: decision.result, duration: .milliseconds(Int64(max(0, end.timeIntervalSince(started)) * 1000)),
                                 at: end.timeIntervalSince1970)
        state.status.withLock { status in
            status.reconcileCount += 1
            status.lastReconcileTime = end
            status.set("Reconciling", false, reason: decision.conditionReason, message: "pass finished: \(decision.result)", at: end)
        }
        return decision
    }

    /// What a pass read before deciding, to carry out an apply.
    private struct Prepared {
        var local: Reconciler
        var site: LoadedSite
        var plan: Plan
        var actor: String?
    }

    /// Observes, decides, and carries the decision out.
    private func reconcile() async -> ReconcileDecision {
        var seen = ReconcileObservations(interval: interval, selfHeal: selfHeal)
        seen.stopping = state.isStopping
        seen.failures = state.failures
        (seen.applied, seen.refused) = state.status.withLock { ($0.lastAppliedRevision, $0.refusedRevision) }
        if !seen.stopping { askLeadership(&seen) }
        let prepared = seen.stopping || !seen.isLeader ? nil : await observe(&seen)
        if seen.isDrift, let plan = prepared?.plan, case .reconcile(let revision, _) = seen.choice {
            state.metrics.recordDrift()
            logger.warning("drift detected", metadata: ["dcapply.plan": "\(plan.summary)", "git.revision": "\(revision.prefix(12))"], source: ServeLog.source)
        }
        return await carryOut(ReconcilePolicy.decide(seen), seen: seen, prepared: prepared)
    }

    /// Tries to take (or keep) the site's leadership and records on the status who leads.
    private func askLeadership(_ seen: inout ReconcileObservations) {
        guard let leadership else { return }
        let was = state.status.withLock { $0.leader }
        do {
            seen.isLeader = try leadership.tryLead()
            seen.leader = try leadership.leader()
        } catch {
            seen.isLeader = false
            seen.leader = nil
            seen.failure = ("LeadershipUnavailable", "cannot ask who leads the site: \(error)")
        }
        if seen.isLeader && was != true {
            logger.notice("leading the site", source: ServeLog.source)
            // Another leader may have moved the site on since this controller last looked.
            if let revision = try? reconciler.store.load().revision {
                seen.applied = revision
                state.status.withLock { $0.lastAppliedRevision = revision }
            }
        } else if !seen.isLeader && was != false {
            logger.notice("standing by", metadata: ["dcapply.leader": "\(seen.leader.map(\.description) ?? "none")"], source: ServeLog.source)
        }
        state.status.withLock { [seen] status in
            status.leader = seen.isLeader
            status.leadBy = seen.leader
        }
    }

    /// Whether a leadership this controller held is lost (never, without a ``SiteLeadership``).
    private var lostLeadership: Bool {
        guard let leadership else { return false }
        return !leadership.stillLeading()
    }

    /// The apply options of this pass: a shutdown or a lost leadership stops an apply at the
    /// next action boundary, before any further provider or actuator call.
    private func fencedOptions(actor: String?) -> ApplyOptions {
        var options = applyOptions
        options.actor = actor
        let asked = applyOptions.shouldStop
        options.shouldStop = { [state, leadership] in
            state.isStopping || asked() || leadership.map { !$0.stillLeading() } ?? false
        }
        return options
    }

    /// The decision once the leadership was lost during a pass: stand by, having stopped.
    private func fenced(_ log: Logger, _ what: String) -> ReconcileDecision {
        log.warning("lost the leadership of the site; \(what)", source: ServeLog.source)
        state.status.withLock { status in
            status.leader = false
            status.leadBy = nil
        }
        return .standby(leader: nil)
    }

    /// Fetches, checks trust, reads, plans and weighs the blast radius, stopping at the first
    /// finding that settles the pass. Returns what an apply needs when it got that far.
    private func observe(_ seen: inout ReconcileObservations) async -> Prepared? {
        do {
            seen.head = try repository.fetch(branch: branch)
        } catch {
            state.metrics.recordFetchFailure()
            seen.failure = ("GitOperationFailed", "fetch failed: \(error)")
            return nil
        }
        guard case .reconcile(let revision, let isNew) = seen.choice else { return nil }
        if isNew { state.status.withLock { $0.lastAttemptedRevision = revision } }
        var log = logger
        log[metadataKey: "git.revision"] = "\(revision.prefix(12))"
        // The audit log names who signed the commits a new revision brings; drift corrections
        // are the daemon's own (user@host).
        var actor: String?
        if isNew {
            do {
                let decision = try trust.check(revision, after: seen.applied, in: repository, paths: paths, limits: reconciler.limits, logger: log)
                if let refusal = decision.refusal {
                    seen.trustRefusal = refusal
                    return nil
                }
                if !decision.signers.isEmpty { actor = decision.signers.joined(separator: ", ") + " (signed revision \(revision.prefix(12)))" }
            } catch {
                seen.failure = ("GitOperationFailed", "cannot check the signatures and rights of \(revision.prefix(12)): \(error)")
                return nil
            }
        }
        do {
            let local = reconciler.readingInventory(from: repository, at: revision, trees: trees)
            var site = try await local.load(commit: revision, paths: paths, from: repository)
            if leadership != nil, try local.store.unfinishedApply() != nil {
                // A new leader first finishes (or closes) what a dead one left in the journal,
                // then looks again before planning anything new.
                log.notice("finishing an interrupted apply before anything new", source: ServeLog.source)
                _ = try await local.recover(site: site, options: fencedOptions(actor: nil))
                site = try await local.load(commit: revision, paths: paths, from: repository)
            }
            seen.manifestErrors = site.diagnostics.filter { $0.severity == .error }.map(\.description)
            guard seen.manifestErrors.isEmpty else { return nil }
            let plan = try local.plan(site, revision: revision)
            seen.planErrors = plan.problems.filter { $0.severity == .error }.map { "\($0.resource): \($0.message)" }
            guard seen.planErrors.isEmpty else { return nil }
            state.page.record(site: site, plan: plan, store: local.store)  // the map at GET /
            seen.planIsEmpty = plan.isEmpty
            if !plan.isEmpty && (isNew || selfHeal), let limit = destroyLimit {
                let applied = try local.store.load().target
                let radius = BlastRadius(applied: applied, target: plan.target)
                if radius.exceeds(limit) {
                    let missing = BlastRadius.missingManifests(applied: applied, desired: site.desired)
                    seen.destroyRefusal = BlastRadius.refusal(radius, threshold: limit, missing: missing,
                                                              flag: "Start serve with --allow-destroy to allow it.")
                }
            }
            return Prepared(local: local, site: site, plan: plan, actor: actor)
        } catch {
            if lostLeadership {
                seen.isLeader = false
                seen.leader = nil
                return nil
            }
            seen.failure = Self.failure(error)
            return nil
        }
    }

    /// A failure's Ready reason and message.
    private static func failure(_ error: any Error) -> (reason: String, message: String) {
        if let error = error as? DCApplyError, error.code == .locked {
            return ("Locked", "the state store is locked; retrying after a backoff: \(error.daemonDescription)")
        }
        return ("ReconciliationFailed", "\(error)")
    }

    private func carryOut(_ decision: ReconcileDecision, seen: ReconcileObservations, prepared: Prepared?) async -> ReconcileDecision {
        switch decision {
        case .stop:
            return .stop
        case .standby(let leader):
            state.failures = 0
            standBy(leader)
        case .stall(_, let reason, let message):
            state.failures = seen.failures + 1
            fail(message, reason: reason)
        case .refuse(let revision, let reason, let message):
            state.failures = 0
            refuse(revision, because: message, reason: reason)
        case .nothing(nil):
            state.failures = 0
        case .nothing(.some(let revision)):
            state.failures = 0
            succeed(revision, isHead: revision == seen.head, drift: nil, changes: 0)
        case .reportDrift(let revision):
            state.failures = 0
            succeed(revision, isHead: revision == seen.head, drift: "not corrected (self-heal is off): \(prepared?.plan.summary ?? "")", changes: 0)
        case .apply(let revision, let isNew):
            guard let prepared else { return decision }
            let plan = prepared.plan
            var log = logger
            log[metadataKey: "git.revision"] = "\(revision.prefix(12))"
            log.info("applying", metadata: ["dcapply.plan": "\(plan.summary)"], source: ServeLog.source)
            // A shutdown (SIGTERM) or a lost leadership stops the apply at the next action
            // boundary; the journal stays open and the next start (or leader) resumes it.
            let options = fencedOptions(actor: prepared.actor)
            do {
                _ = try await prepared.local.apply(plan, site: prepared.site, options: options)
            } catch let stopped as ApplyStopped where lostLeadership {
                return fenced(log, "the apply stopped at an action boundary (\(stopped.done) done, \(stopped.remaining) left for the next leader)")
            } catch where lostLeadership {
                return fenced(log, "the apply stopped: \(error)")
            } catch let stopped as ApplyStopped {
                log.notice("apply stopped for shutdown; the next start resumes it", metadata: ["dcapply.done": "\(stopped.done)", "dcapply.remaining": "\(stopped.remaining)"], source: ServeLog.source)
                state.status.withLock { $0.lastError = "\(stopped)" }
                return .stop
            } catch {
                var failed = seen
                failed.failure = Self.failure(error)
                return await carryOut(ReconcilePolicy.decide(failed), seen: failed, prepared: nil)
            }
            state.failures = 0
            state.metrics.recordApplied(plan.changes.count)
            succeed(revision, isHead: revision == seen.head, drift: isNew ? nil : "corrected: \(plan.summary)", changes: plan.changes.count)
        }
        return decision
    }

    private func succeed(_ revision: String, isHead: Bool, drift: String?, changes: Int) {
        let now = clock.now
        state.metrics.setRevision(revision)
        state.status.withLock { status in
            let isNewlyApplied = status.lastAppliedRevision != revision
            status.lastAppliedRevision = revision
            status.lastSuccessTime = now
            if isNewlyApplied || changes > 0 { status.lastAppliedTime = now }
            status.drift = drift
            if let drift {
                status.lastDrift = drift
                status.lastDriftTime = now
            }
            if isHead { status.refusedRevision = nil }  // the branch moved past what was refused
            if status.refusedRevision == nil {
                status.lastError = nil
                status.set("Ready", true, reason: "ReconciliationSucceeded", message: "Applied revision: \(branch)@sha1:\(revision)", at: now)
                status.set("Stalled", false, reason: "Succeeded", message: "", at: now)
            }
        }
        logger.info("reconciled", metadata: ["git.revision": "\(revision.prefix(12))", "dcapply.changes": "\(changes)"], source: ServeLog.source)
    }

    private func standBy(_ leader: SiteLeader?) {
        let now = clock.now
        let message = "standing by: " + (leader.map { "\($0) leads the site since \(AuditChain.timestamp($0.since))" } ?? "no controller leads the site yet")
        state.status.withLock { status in
            status.leader = false
            status.leadBy = leader
            status.lastError = nil
            status.set("Ready", true, reason: "Standby", message: message, at: now)
            status.set("Stalled", false, reason: "Standby", message: "", at: now)
        }
    }

    private func refuse(_ revision: String, because message: String, reason: String) {
        let now = clock.now
        state.metrics.recordRefused()
        let text = "revision \(revision.prefix(12)) refused, staying on the last good revision: \(message)"
        state.status.withLock { status in
            status.refusedRevision = revision
            status.lastError = text
            let kept = status.lastAppliedRevision.map { "; the site stays on \($0.prefix(12))" } ?? ""
            status.set("Ready", false, reason: reason, message: text + kept, at: now)
            status.set("Stalled", true, reason: reason, message: "revision \(revision.prefix(12)) will not be retried; push a fix", at: now)
        }
        logger.error("revision refused", metadata: ["git.revision": "\(revision.prefix(12))", "dcapply.reason": "\(message)"], source: ServeLog.source)
    }

    private func fail(_ message: String, reason: String) {
        let now = clock.now
        let again = state.status.withLock { status in
            let again = status.condition("Ready").map { $0.status == "False" && $0.reason == reason } ?? false
            status.lastError = message
            status.set("Ready", false, reason: reason, message: message, at: now)
            return again
        }
        // An unreachable state store fails every pass of the outage: logged once (the store logs
        // when it is back), not once per pass.
        let level: Logger.Level = again && reason == "LeadershipUnavailable" ? .debug : .error
        logger.log(level: level, "reconcile failed", metadata: ["dcapply.error": "\(message)"], source: ServeLog.source)
    }
}
