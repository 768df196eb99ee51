/// Spread: at most `maxPerDomain` replicas (pool members, drives) in any one failure domain of
/// a RedundancyPolicy (`manifests.md`, RedundancyPolicy). The one comparison; the counts are
/// kept in ``DomainSpread`` (or, for pools and tiers, per domain name).
enum SpreadRule {
    /// Whether one more may go into a domain that holds `placed` already.
    @inline(__always)
    static func allows(placed: Int, limit: Int) -> Bool { placed < limit }
}
