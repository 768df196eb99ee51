import DCApplyCore
import Foundation

/// serve's page at `/`: the GitOps state, and the site map of what is applied with pools,
/// workloads, tiers and energy; a small script polls `/status` and swaps in the new page
/// content when a pass finishes, without a reload.
public struct StatusPage: Sendable {
    public var title: String
    public var generatedAt: String
    public var pollSeconds: Int
    /// Changes when a revision is applied, attempted or refused, or the error or drift changes:
    /// the script compares it with the same key made from `/status`.
    public var passKey: String
    public var gitops: GitOpsPanel
    public var hasMap: Bool
    public var map: SiteMap
    public var compact: Bool
    public var detailsJSON: String
    public var summaryTables: SiteSummary
    public var energy: EnergyFigures
    let css = StyleSheet.css
    let script = PageScript.javascript

    /// `site` and `plan` are the last pass's (nil before the first); `applied` is the state
    /// store's, whose target the map shows once anything is applied.
    public init(gitops: GitOpsPanel, passKey: String, site: LoadedSite?, plan: Plan?, applied: StoredState?, generatedAt: Date, pollSeconds: Int) {
        self.gitops = gitops
        self.passKey = passKey
        self.generatedAt = ISO8601DateFormatter().string(from: generatedAt)
        self.pollSeconds = pollSeconds
        let siteNames = site.map { $0.desired.sites.keys.sorted().joined(separator: ", ") } ?? ""
        title = "dcapply serve" + (siteNames.isEmpty ? "" : " — \(siteNames)")
        let desired = site?.desired ?? DesiredState()
        let observed = site?.observed ?? ObservedState()
        let target: TargetState
        let draws: [String: Double]
        if let applied, !applied.target.isEmpty {
            target = applied.target
            draws = applied.estimatedW
        } else {
            target = plan?.target ?? .empty
            draws = plan?.targetDrawW ?? [:]
        }
        hasMap = site != nil
        map = SiteMap(MapInput(desired: desired, observed: observed, target: target, drawW: draws))
        compact = map.nodeCount > PlanPage.compactAbove
        detailsJSON = HTMLTemplates.scriptJSON(NodeDetailsTable(map.details))
        summaryTables = SiteSummary(desired: desired, observed: observed, target: target, problems: plan?.problems ?? [], outlines: map.pools)
        energy = EnergyFigures(plan?.energy)
    }

    /// The whole HTML document.
    public var html: String { HTMLTemplates.render(self, template: "status") }
}
