import DCApplyCore
import Foundation

/// `dcapply plan --output html`: one self-contained page (inline CSS, script and data, nothing
/// from the network) with the site map marking what the plan changes, the change list, the
/// problems, energy, pools, workloads and tiers.
public struct PlanPage: Sendable {
    /// At most this many change rows are listed; the rest are counted (the JSON plan has all).
    public static let defaultChangeLimit = 2000
    /// Above this many nodes, cells are small squares without names.
    public static let compactAbove = 300

    public var title: String
    public var summary: String
    public var revision: String
    public var stateSerial: Int
    public var observedAt: String
    public var map: SiteMap
    public var compact: Bool
    public var detailsJSON: String
    public var changes: [ChangeRow]
    public var changeCount: Int
    public var hasChanges: Bool
    public var hiddenChanges: Int
    public var hasHiddenChanges: Bool
    public var summaryTables: SiteSummary
    public var energy: EnergyFigures
    let css = StyleSheet.css
    let script = PageScript.javascript

    /// The page of `plan`, made from `site` against what is `applied`.
    public init(plan: Plan, site: LoadedSite, applied: StoredState, changeLimit: Int = defaultChangeLimit) {
        self.init(plan: plan, desired: site.desired, observed: site.observed, observedAt: site.observedAt, applied: applied, changeLimit: changeLimit)
    }

    /// The page of `plan`, made from the manifests and hardware it was planned from against
    /// what is `applied`.
    public init(plan: Plan, desired: DesiredState, observed: ObservedState, observedAt: Date, applied: StoredState, changeLimit: Int = defaultChangeLimit) {
        let siteNames = desired.sites.keys.sorted().joined(separator: ", ")
        title = "dcapply plan" + (siteNames.isEmpty ? "" : " — \(siteNames)")
        summary = plan.summary
        revision = plan.revision ?? "not in git"
        stateSerial = plan.stateSerial
        self.observedAt = ISO8601DateFormatter().string(from: observedAt)
        map = SiteMap(MapInput(desired: desired, observed: observed, target: plan.target, drawW: plan.targetDrawW,
                                beforeW: applied.estimatedW, changes: NodeChange.of(plan.changes)))
        compact = map.nodeCount > Self.compactAbove
        detailsJSON = HTMLTemplates.scriptJSON(NodeDetailsTable(map.details))
        changes = plan.changes.prefix(changeLimit).map(ChangeRow.init)
        changeCount = plan.changes.count
        hasChanges = !plan.changes.isEmpty
        hiddenChanges = max(0, plan.changes.count - changeLimit)
        hasHiddenChanges = hiddenChanges > 0
        summaryTables = SiteSummary(desired: desired, observed: observed, target: plan.target, problems: plan.problems, outlines: map.pools)
        energy = EnergyFigures(plan.energy)
    }

    /// The whole HTML document.
    public var html: String { HTMLTemplates.render(self, template: "plan") }
}
