/// Replicas per failure domain of one workload, domains as ``PlacementModel/domainIDs``: the
/// one representation of spread that the greedy placement and node closing share.
struct DomainSpread {
    /// The label key spread by; nil when the workload does not spread.
    let key: String?
    /// The domain of each node under `key` (empty without a key).
    let ids: [Int]
    let limit: Int
    let minDomains: Int
    /// Replicas per domain id.
    private(set) var count: [Int]
    /// Domains holding at least one replica.
    private(set) var used = 0

    init(key: String?, model: PlacementModel, limit: Int, minDomains: Int) {
        self.key = key
        ids = key.flatMap { model.domainIDs[$0] } ?? []
        self.limit = limit
        self.minDomains = minDomains
        count = Array(repeating: 0, count: key.flatMap { model.domainCounts[$0] } ?? 0)
    }

    /// The spread of `policy` (none without one).
    init(_ policy: RedundancyPolicy?, model: PlacementModel) {
        self.init(key: policy?.failureDomain, model: model, limit: policy?.maxPerDomain ?? .max, minDomains: policy?.minDomains ?? 0)
    }

    /// Whether the workload spreads at all.
    var spreads: Bool { key != nil }

    /// The domains `nodes` are in (none without a key).
    func domains(_ nodes: [Int]) -> Set<Int> { key == nil ? [] : Set(nodes.map { ids[$0] }) }

    /// Whether one more replica may go into each of `domains`.
    func allows(_ domains: Set<Int>) -> Bool { domains.allSatisfy { SpreadRule.allows(placed: count[$0], limit: limit) } }

    /// Replicas in the domain of `node` (0 without a key).
    func placed(onDomainOf node: Int) -> Int { key == nil ? 0 : count[ids[node]] }

    /// Whether one more replica may go onto `node`, once `leaving` replicas of this workload
    /// have left its domain.
    func allows(node: Int, leaving: Int = 0) -> Bool {
        key == nil || SpreadRule.allows(placed: count[ids[node]] - leaving, limit: limit)
    }

    mutating func add(_ domains: Set<Int>) {
        for domain in domains {
            if count[domain] == 0 { used += 1 }
            count[domain] += 1
        }
    }

    /// One replica more on `node`.
    mutating func add(node: Int) {
        guard key != nil else { return }
        add([ids[node]])
    }

    /// One replica fewer on `node`.
    mutating func remove(node: Int) {
        guard key != nil else { return }
        count[ids[node]] -= 1
        if count[ids[node]] == 0 { used -= 1 }
    }
}
