import DCApplyCore
import Foundation

/// A Flux-style condition: `Ready`, `Reconciling` or `Stalled`.
public struct ServeCondition: Codable, Sendable, Equatable {
    public var type: String
    /// `True` or `False`.
    public var status: String
    public var reason: String
    public var message: String
    public var lastTransitionTime: Date
}

/// What the daemon reports on `/status`: the revisions it applied and attempted, the last
/// error, drift, and its conditions. Written on every exit path of a reconcile pass.
public struct ServeStatus: Codable, Sendable {
    public var repository: String
    public var branch: String
    /// The site's name (its Site) when one serve runs several sites; absent otherwise.
    public var site: String?
    public var path: String
    public var selfHeal: Bool
    /// The revision the site is converged to; nil until the first success.
    public var lastAppliedRevision: String?
    /// The newest revision a pass tried, good or not.
    public var lastAttemptedRevision: String?
    /// The revision refused as invalid or unsatisfiable, until a newer one arrives.
    public var refusedRevision: String?
    public var lastError: String?
    public var lastReconcileTime: Date?
    public var lastSuccessTime: Date?
    public var lastAppliedTime: Date?
    /// The drift the last pass found against the applied revision (nil when none), and whether it was corrected.
    public var drift: String?
    /// The last drift any pass found (kept after clean passes), and when: a drift corrected
    /// within one interval is still visible to a monitor that polls less often.
    public var lastDrift: String?
    public var lastDriftTime: Date?
    public var reconcileCount = 0
    /// Whether this controller leads the site; nil when it runs alone (no shared store).
    public var leader: Bool?
    /// Who leads the site (this controller when `leader` is true), as the leader row names it.
    public var leadBy: SiteLeader?
    public var conditions: [ServeCondition] = []

    /// The status of a daemon that has not reconciled yet.
    public init(repository: String, branch: String, path: String, selfHeal: Bool) {
        self.repository = repository
        self.branch = branch
        self.path = path
        self.selfHeal = selfHeal
    }

    /// Sets a condition, keeping its transition time when its status does not change.
    public mutating func set(_ type: String, _ status: Bool, reason: String, message: String, at now: Date) {
        let text = status ? "True" : "False"
        if let index = conditions.firstIndex(where: { $0.type == type }) {
            let changed = conditions[index].status != text
            conditions[index] = ServeCondition(type: type, status: text, reason: reason, message: message,
                                               lastTransitionTime: changed ? now : conditions[index].lastTransitionTime)
        } else {
            conditions.append(ServeCondition(type: type, status: text, reason: reason, message: message, lastTransitionTime: now))
        }
    }

    /// The condition of this type, if set.
    public func condition(_ type: String) -> ServeCondition? { conditions.first { $0.type == type } }

    /// A revision is applied (the site runs it), or this controller is a hot standby.
    public var isReady: Bool { lastAppliedRevision != nil || leader == false }

    /// The status as `/status` serves it: sorted keys, ISO 8601 dates, secrets redacted.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return (try? encoder.encode(self)).map { Secrets.redact(String(decoding: $0, as: UTF8.self)) } ?? "{}"
    }
}
