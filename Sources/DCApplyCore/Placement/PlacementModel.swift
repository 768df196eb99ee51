/// The mutable working state of a placement: nodes indexed, what each holds, power per rack,
/// and the hard-constraint checks every strategy shares.
struct PlacementModel {
    let desired: DesiredState
    let nodes: [ObservedNode]
    let index: [String: Int]
    /// The rack (power domain) of each node, as "site/rack".
    let rack: [String]
    /// The cap in watts of each rack, if any.
    let rackCapW: [String: Double]

    var pool: [String?]
    var used: [ResourceMap]
    /// Dense mirrors of `capacity` and `used` by `resourceKeys`, for the hot loops.
    let resourceKeys: [String]
    let resourceIndex: [String: Int]
    let capacityDense: [[Double]]
    private(set) var usedDense: [[Double]]
    /// Taken whole by a gang replica.
    var wholeNode: [Bool]
    var replicaCount: [Int]
    var driveCount: [Int]
    var on: [Bool]
    var rackDrawW: [String: Double]

    init(desired: DesiredState, observed: ObservedState) {
        self.desired = desired
        nodes = observed.sortedNodes
        var index: [String: Int] = [:]
        for (position, node) in nodes.enumerated() { index[node.name] = position }
        self.index = index
        rack = nodes.map { node in
            let key = desired.sites[node.site]?.powerDomain ?? "rack"
            return "\(node.site)/\(node.labels[key] ?? node.name)"
        }
        var caps: [String: Double] = [:]
        for (position, node) in nodes.enumerated() {
            if let policy = desired.energyPolicy(site: node.site) {
                let rackName = String(rack[position].dropFirst(node.site.count + 1))
                caps[rack[position]] = policy.capW(rack: rackName)
            }
        }
        rackCapW = caps
        pool = Array(repeating: nil, count: nodes.count)
        used = Array(repeating: [:], count: nodes.count)
        var keySet = Set<String>()
        for node in nodes { keySet.formUnion(node.capacity.keys) }
        for workload in desired.workloads.values { keySet.formUnion(workload.resources.keys) }
        resourceKeys = keySet.sorted()
        var resourceIndex: [String: Int] = [:]
        for (position, key) in resourceKeys.enumerated() { resourceIndex[key] = position }
        self.resourceIndex = resourceIndex
        let keys = resourceKeys
        capacityDense = nodes.map { node in keys.map { node.capacity[$0] ?? 0 } }
        usedDense = Array(repeating: Array(repeating: 0, count: keys.count), count: nodes.count)
        wholeNode = Array(repeating: false, count: nodes.count)
        replicaCount = Array(repeating: 0, count: nodes.count)
        driveCount = Array(repeating: 0, count: nodes.count)
        // Idle healthy nodes of a site that powers idle nodes off start off; everything else
        // keeps the power state it has until something needs it on.
        on = nodes.map { node in
            let powersOff = desired.energyPolicy(site: node.site)?.powerOffIdle ?? false
            return powersOff && node.health == .healthy ? false : node.powerState == .on
        }
        rackDrawW = [:]
        for position in nodes.indices { rackDrawW[rack[position], default: 0] += drawW(position) }
    }

    // MARK: Power

    func drawW(_ node: Int, used usage: ResourceMap? = nil, on isOn: Bool? = nil) -> Double {
        PowerModel.estimatedW(nodes[node], used: usage ?? used[node], on: isOn ?? on[node])
    }

    /// Whether giving `node` the usage `newUsage` (and turning it on) keeps its rack within its cap.
    func powerFits(_ node: Int, newUsage: ResourceMap) -> Bool {
        guard let cap = rackCapW[rack[node]] else { return true }
        let delta = drawW(node, used: newUsage, on: true) - drawW(node)
        return (rackDrawW[rack[node]] ?? 0) + delta <= cap + 1e-6
    }

    mutating func setUsage(_ node: Int, _ newUsage: ResourceMap, on isOn: Bool) {
        let before = drawW(node)
        used[node] = newUsage
        usedDense[node] = resourceKeys.map { newUsage[$0] ?? 0 }
        on[node] = isOn
        rackDrawW[rack[node], default: 0] += drawW(node) - before
    }

    mutating func powerOn(_ node: Int) { setUsage(node, used[node], on: true) }
    mutating func powerOff(_ node: Int) { setUsage(node, used[node], on: false) }

    var hosts: (Int) -> Bool { { self.replicaCount[$0] > 0 || self.driveCount[$0] > 0 || self.wholeNode[$0] } }

    // MARK: Capacity

    /// The first resource key that does not fit, or nil when `demand` fits on top of what the node holds.
    func shortfall(_ node: Int, demand: ResourceMap, reserved: ResourceMap = [:]) -> String? {
        if wholeNode[node] { return "gpus" }
        // GPUs first (the usual reason), then the other keys by name: the report is stable.
        for (key, amount) in demand.sorted(by: { ($0.key == "gpus" ? 0 : 1, $0.key) < ($1.key == "gpus" ? 0 : 1, $1.key) }) where amount > 0 {
            let capacity = nodes[node].capacity[key] ?? 0
            if (used[node][key] ?? 0) + (reserved[key] ?? 0) + amount > capacity + 1e-9 { return key }
        }
        return nil
    }

    func adding(_ demand: ResourceMap, to node: Int) -> ResourceMap {
        used[node].merging(demand, uniquingKeysWith: +)
    }

    // MARK: Domains

    func domain(_ node: Int, key: String) -> String {
        nodes[node].labels[key] ?? "node:\(nodes[node].name)"
    }

    /// The failure-domain key a policy spreads by; storage defaults to the node itself.
    func domainKey(_ policy: RedundancyPolicy?) -> String? { policy?.failureDomain }

    // MARK: Eligibility

    func eligible(_ node: Int, for pool: HardwarePool) -> Bool {
        let candidate = nodes[node]
        guard candidate.site == pool.site, candidate.health != .failed else { return false }
        if let model = pool.gpuModel, candidate.gpu?.model != model { return false }
        if let minimum = pool.minGpuMemoryGiB, (candidate.gpu?.memoryGiB ?? 0) < minimum { return false }
        if let selector = pool.nodeSelector, !selector.matches(candidate.labels) { return false }
        return true
    }

    func members(of poolName: String) -> [Int] {
        pool.indices.filter { pool[$0] == poolName }
    }
}
