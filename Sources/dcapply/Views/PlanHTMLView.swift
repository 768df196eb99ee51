import DCApplyCore
import DCApplyHTML
import Foundation

/// `--output html` for plan, apply and what-if: the self-contained page of `DCApplyHTML`.
enum PlanHTMLView {
    /// The page of `plan`, its map drawn from `site` against what `store` says is applied.
    static func render(_ plan: Plan, site: LoadedSite?, store: any StateStore) -> String {
        let applied = (try? store.load()) ?? StoredState()
        return PlanPage(plan: plan, desired: site?.desired ?? DesiredState(), observed: site?.observed ?? ObservedState(),
                        observedAt: site?.observedAt ?? Date(), applied: applied).html
    }
}
