import DCApplyCore
import DCApplyGit
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Why a reconcile pass runs.
enum PassTrigger: String, Sendable {
    case start, interval, webhook
}

/// What the daemon shares between its reconcile loop and its HTTP routes.
final class ServeState: Sendable {
    let status: Mutex<ServeStatus>
    let metrics = ServeMetrics()
    let page = ServePage()
    private let pending = Mutex<PassTrigger?>(nil)
    private let stopping = Mutex(false)

    init(status: ServeStatus) {
        self.status = Mutex(status)
    }

    /// Asks for a pass as soon as the current one ends (a webhook).
    func trigger(_ trigger: PassTrigger) { pending.withLock { $0 = trigger } }
    func takeTrigger() -> PassTrigger? { pending.withLock { value in defer { value = nil }; return value } }
    func stop() { stopping.withLock { $0 = true } }
    var isStopping: Bool { stopping.withLock { $0 } }
}

/// Keeps the site converged to a git branch: fetch, check, plan, apply, on every interval and
/// on every webhook. A revision whose manifests are invalid or unsatisfiable is refused whole
/// and the site stays on the last good one. Level-based: every pass re-reads the revision and
/// re-observes the hardware, so drift is found and (with self-heal) corrected.
struct GitOpsLoop: Service {
    let repository: LibGit2Repository
    let branch: String
    let paths: [String]
    let interval: Double
    let selfHeal: Bool
    /// Actions in flight at once in an apply.
    let parallelism: Int
    let reconciler: Reconciler
    let state: ServeState
    let logger: Logger
    /// Commit signatures and `manage` rights, checked before a new revision is read.
    let trust: TrustGate
    /// The share of what is applied a plan may take away (nil: any, with --allow-destroy).
    var destroyLimit: Double? = 0.5

    func run() async throws {
        await withGracefulShutdownHandler {
            var trigger = PassTrigger.start
            while !state.isStopping {
                await pass(trigger)
                guard let next = await wait() else { break }
                trigger = next
            }
        } onGracefulShutdown: {
            // The pass under way finishes (an apply is never cut short); no new one starts.
            state.stop()
        }
        logger.info("reconcile loop stopped")
    }

    /// Sleeps for the interval with ±10% jitter, waking early for a webhook; nil when stopping.
    private func wait() async -> PassTrigger? {
        let jittered = interval * Double.random(in: 0.9...1.1)
        let deadline = ContinuousClock.now + .milliseconds(Int(jittered * 1000))
        while ContinuousClock.now < deadline {
            if state.isStopping { return nil }
            if let trigger = state.takeTrigger() { return trigger }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return state.isStopping ? nil : .interval
    }

    /// One pass; the status is written on every way out.
    func pass(_ trigger: PassTrigger) async {
        let clock = ContinuousClock()
        let started = clock.now
        let now = Date()
        _ = state.takeTrigger()  // this pass serves any webhook that arrived before it
        state.status.withLock { $0.set("Reconciling", true, reason: "Progressing", message: "reconciling (\(trigger.rawValue))", at: now) }
        let result = await reconcile(trigger)
        let end = Date()
        state.metrics.recordPass(result: result, duration: clock.now - started, at: end.timeIntervalSince1970)
        state.status.withLock { status in
            status.reconcileCount += 1
            status.lastReconcileTime = end
            let reason = ["success": "Succeeded", "failure": "Failed", "refused": "Refused"][result] ?? result
            status.set("Reconciling", false, reason: reason, message: "pass finished: \(result)", at: end)
        }
    }

    /// Returns the pass's result for the metrics: success, failure or refused.
    private func reconcile(_ trigger: PassTrigger) async -> String {
        let head: String
        do {
            head = try repository.fetch(branch: branch)
        } catch {
            state.metrics.recordFetchFailure()
            return fail("fetch failed: \(error)", reason: "GitOperationFailed")
        }
        let (applied, refused) = state.status.withLock { ($0.lastAppliedRevision, $0.refusedRevision) }
        guard case .reconcile(let revision, let isNew) = RevisionChoice.choose(head: head, applied: applied, refused: refused) else {
            return "refused"
        }
        if isNew { state.status.withLock { $0.lastAttemptedRevision = revision } }
        var log = logger
        log[metadataKey: "git.revision"] = "\(revision.prefix(12))"
        // The audit log names who signed the commits a new revision brings; drift corrections
        // are the daemon's own (user@host).
        var actor: String?
        if isNew {
            do {
                let decision = try trust.check(revision, after: applied, in: repository, paths: paths, limits: reconciler.limits, logger: log)
                if let refusal = decision.refusal {
                    return refuse(revision, because: refusal, reason: "Unauthorized", isNew: isNew)
                }
                if !decision.signers.isEmpty { actor = decision.signers.joined(separator: ", ") + " (signed revision \(revision.prefix(12)))" }
            } catch {
                return fail("cannot check the signatures and rights of \(revision.prefix(12)): \(error)", reason: "GitOperationFailed")
            }
        }
        do {
            let local = reconciler.readingInventory(from: repository, at: revision)
            let site = try await local.load(commit: revision, paths: paths, from: repository)
            let errors = site.diagnostics.filter { $0.severity == .error }
            if !errors.isEmpty {
                let shown = errors.prefix(3).map(\.description).joined(separator: "; ")
                return refuse(revision, because: "\(errors.count) error\(errors.count == 1 ? "" : "s") in the manifests: \(shown)", reason: "ValidationFailed", isNew: isNew)
            }
            let plan = try local.plan(site, revision: revision)
            if !plan.hasErrors { state.page.record(site: site, plan: plan, store: local.store) }  // the map at GET /
            if plan.hasErrors {
                let shown = plan.problems.filter { $0.severity == .error }.prefix(3).map { "\($0.resource): \($0.message)" }.joined(separator: "; ")
                return refuse(revision, because: "unsatisfiable: \(shown)", reason: "Unsatisfiable", isNew: isNew)
            }
            if !isNew && !plan.isEmpty {
                state.metrics.recordDrift()
                log.warning("drift detected", metadata: ["dcapply.plan": "\(plan.summary)"])
            }
            if !plan.isEmpty && (isNew || selfHeal), let limit = destroyLimit {
                let applied = try local.store.load().target
                let radius = BlastRadius(applied: applied, target: plan.target)
                if radius.exceeds(limit) {
                    let missing = BlastRadius.missingManifests(applied: applied, desired: site.desired)
                    return refuse(revision, because: BlastRadius.refusal(radius, threshold: limit, missing: missing,
                                                                         flag: "Start serve with --allow-destroy to allow it."),
                                  reason: "DestroyRefused", isNew: isNew)
                }
            }
            if !plan.isEmpty && (isNew || selfHeal) {
                log.info("applying", metadata: ["dcapply.plan": "\(plan.summary)"])
                // A shutdown (SIGTERM) stops the apply at the next action boundary; the journal
                // stays open and the next start resumes it.
                let options = ApplyOptions(parallelism: parallelism, failpoints: try Failpoints.fromEnvironment(), actor: actor, shouldStop: { [state] in state.isStopping })
                _ = try await local.apply(plan, site: site, options: options)
                state.metrics.recordApplied(plan.changes.count)
            }
            let drift: String? = !isNew && !plan.isEmpty ? (selfHeal ? "corrected: \(plan.summary)" : "not corrected (self-heal is off): \(plan.summary)") : nil
            succeed(revision, isHead: revision == head, drift: drift, changes: isNew || selfHeal ? plan.changes.count : 0)
            return "success"
        } catch let stopped as ApplyStopped {
            log.notice("apply stopped for shutdown; the next start resumes it", metadata: ["dcapply.done": "\(stopped.done)", "dcapply.remaining": "\(stopped.remaining)"])
            state.status.withLock { $0.lastError = "\(stopped)" }
            return "stopped"
        } catch let error as DCApplyError where error.code == .locked {
            return fail("the state store is locked; retrying next pass: \(error)", reason: "Locked")
        } catch {
            return fail("\(error)", reason: "ReconciliationFailed")
        }
    }

    private func succeed(_ revision: String, isHead: Bool, drift: String?, changes: Int) {
        let now = Date()
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
        logger.info("reconciled", metadata: ["git.revision": "\(revision.prefix(12))", "dcapply.changes": "\(changes)"])
    }

    private func refuse(_ revision: String, because message: String, reason: String, isNew: Bool) -> String {
        let now = Date()
        state.metrics.recordRefused()
        let text = "revision \(revision.prefix(12)) refused, staying on the last good revision: \(message)"
        state.status.withLock { status in
            status.refusedRevision = revision
            status.lastError = text
            let kept = status.lastAppliedRevision.map { "; the site stays on \($0.prefix(12))" } ?? ""
            status.set("Ready", false, reason: reason, message: text + kept, at: now)
            status.set("Stalled", true, reason: reason, message: "revision \(revision.prefix(12)) will not be retried; push a fix", at: now)
        }
        logger.error("revision refused", metadata: ["git.revision": "\(revision.prefix(12))", "dcapply.reason": "\(message)"])
        return "refused"
    }

    private func fail(_ message: String, reason: String) -> String {
        let now = Date()
        state.status.withLock { status in
            status.lastError = message
            status.set("Ready", false, reason: reason, message: message, at: now)
        }
        logger.error("reconcile failed", metadata: ["dcapply.error": "\(message)"])
        return "failure"
    }
}
