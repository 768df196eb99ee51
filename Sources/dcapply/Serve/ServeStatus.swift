import DCApplyCore
import Foundation

/// A Flux-style condition: `Ready`, `Reconciling` or `Stalled`.
struct ServeCondition: Codable, Sendable, Equatable {
    var type: String
    var status: String
    var reason: String
    var message: String
    var lastTransitionTime: Date
}

/// What the daemon reports on `/status`: the revisions it applied and attempted, the last
/// error, drift, and its conditions. Written on every exit path of a reconcile pass.
struct ServeStatus: Codable, Sendable {
    var repository: String
    var branch: String
    var path: String
    var selfHeal: Bool
    /// The revision the site is converged to; nil until the first success.
    var lastAppliedRevision: String?
    /// The newest revision a pass tried, good or not.
    var lastAttemptedRevision: String?
    /// The revision refused as invalid or unsatisfiable, until a newer one arrives.
    var refusedRevision: String?
    var lastError: String?
    var lastReconcileTime: Date?
    var lastSuccessTime: Date?
    var lastAppliedTime: Date?
    /// The drift the last pass found against the applied revision (nil when none), and whether it was corrected.
    var drift: String?
    /// The last drift any pass found (kept after clean passes), and when: a drift corrected
    /// within one interval is still visible to a monitor that polls less often.
    var lastDrift: String?
    var lastDriftTime: Date?
    var reconcileCount = 0
    var conditions: [ServeCondition] = []

    init(repository: String, branch: String, path: String, selfHeal: Bool) {
        self.repository = repository
        self.branch = branch
        self.path = path
        self.selfHeal = selfHeal
    }

    /// Sets a condition, keeping its transition time when its status does not change.
    mutating func set(_ type: String, _ status: Bool, reason: String, message: String, at now: Date) {
        let text = status ? "True" : "False"
        if let index = conditions.firstIndex(where: { $0.type == type }) {
            let changed = conditions[index].status != text
            conditions[index] = ServeCondition(type: type, status: text, reason: reason, message: message,
                                               lastTransitionTime: changed ? now : conditions[index].lastTransitionTime)
        } else {
            conditions.append(ServeCondition(type: type, status: text, reason: reason, message: message, lastTransitionTime: now))
        }
    }

    func condition(_ type: String) -> ServeCondition? { conditions.first { $0.type == type } }

    var isReady: Bool { lastAppliedRevision != nil }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return (try? encoder.encode(self)).map { Secrets.redact(String(decoding: $0, as: UTF8.self)) } ?? "{}"
    }
}
