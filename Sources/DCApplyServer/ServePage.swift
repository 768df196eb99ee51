import DCApplyCore
import DCApplyHTML
import Foundation
import Synchronization

/// What serve's page at `/` is drawn from: the last pass's manifests, hardware and plan (kept
/// by the reconcile loop), the state store's applied target, history and audit log, and the
/// daemon's status.
final class ServePage: Sendable {
    private struct Pass: Sendable {
        var site: LoadedSite
        var plan: Plan
        var store: any StateStore
    }

    private let last = Mutex<Pass?>(nil)
    /// How often the page's script polls `/status`.
    let pollSeconds: Int
    /// Applies listed, newest first.
    static let historyShown = 10

    init(pollSeconds: Int = 2) {
        self.pollSeconds = pollSeconds
    }

    /// Called by the loop after a pass read and planned a revision (applied or not).
    func record(site: LoadedSite, plan: Plan, store: any StateStore) {
        last.withLock { $0 = Pass(site: site, plan: plan, store: store) }
    }

    /// What the page's script compares with the same fields of `/status` (PageScript): the page
    /// is fetched again only when one of them changes, not on every pass.
    static func changeKey(_ status: ServeStatus) -> String {
        [status.lastAppliedRevision, status.lastAttemptedRevision, status.refusedRevision, status.lastError, status.drift,
         status.lastAppliedTime.map { ISO8601DateFormatter().string(from: $0) }].map { $0 ?? "" }.joined(separator: "|")
    }

    /// The page for `status` as it is now.
    func html(status: ServeStatus, now: Date = Date()) -> String {
        let pass = last.withLock { $0 }
        let applied = pass.flatMap { try? $0.store.load() }
        let history = (pass.flatMap { try? $0.store.history() } ?? []).suffix(Self.historyShown).reversed()
        let audit: (text: String, holds: Bool) = {
            guard let store = pass?.store, let entries = try? store.auditLog() else { return ("not read yet", true) }
            switch AuditChain.verify(entries) {
            case .intact(let count, _): return ("holds: \(count) entr\(count == 1 ? "y" : "ies") chained", true)
            case .broken(let entry, let reason): return ("broken at entry \(entry): \(reason)", false)
            }
        }()
        let stamp = { (date: Date?) in date.map { ISO8601DateFormatter().string(from: $0) } }
        let drift = status.drift ?? status.lastDrift.map { "none now; last \($0)" + (stamp(status.lastDriftTime).map { " at \($0)" } ?? "") }
        let panel = GitOpsPanel(
            repository: status.repository, branch: status.branch, path: status.path,
            lastApplied: status.lastAppliedRevision, lastAttempted: status.lastAttemptedRevision, reconcileCount: status.reconcileCount,
            lastReconcile: stamp(status.lastReconcileTime), drift: drift, refusedRevision: status.refusedRevision, lastError: status.lastError,
            conditions: status.conditions.map {
                GitOpsPanel.Condition(type: $0.type, status: $0.status, reason: $0.reason, message: $0.message, since: stamp($0.lastTransitionTime) ?? "")
            },
            history: history.map {
                GitOpsPanel.HistoryRow(id: $0.id, finished: stamp($0.finishedAt) ?? "", revision: $0.revision.map { String($0.prefix(12)) } ?? "none",
                                       actor: $0.actor ?? "\($0.user)@\($0.host)", status: $0.status.rawValue, summary: $0.summary)
            },
            audit: audit.text, auditHolds: audit.holds)
        let key = Self.changeKey(status)
        let page = StatusPage(gitops: panel, passKey: key, site: pass?.site, plan: pass?.plan, applied: applied, generatedAt: now, pollSeconds: pollSeconds)
        return Secrets.redact(page.html)
    }
}
