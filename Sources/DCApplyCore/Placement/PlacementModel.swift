/// The placement kernel's working state: nodes indexed, what each holds (dense by resource
/// key), pool owner, health, power per rack and rack caps, failure domains; and the
/// hard-rule checks every strategy asks (capacity, rack caps with the draw formula,
/// eligibility), each comparison delegated to its rule (``CapacityRule``, ``RackCapRule``,
/// ``HealthRule``, ``SpreadRule``). docs/placement.md lists where each rule lives.
struct PlacementModel {
    let desired: DesiredState
    let nodes: [ObservedNode]
    let index: [String: Int]
    /// The rack (power domain) of each node, as "site/rack".
    let rack: [String]
    /// The cap in watts of each rack, if any.
    let rackCapW: [String: Double]
    /// The rack of each node as a small integer (first seen, in index order), and per rack id
    /// its cap (nil: none) and its draw: the hot loops read these, not `rack`'s strings.
    let rackID: [Int]
    private let rackCapDense: [Double?]
    private var rackDrawDense: [Double]

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
    /// The draw of each rack, by name: kept beside the dense mirror, which follows every
    /// change, whole assignments included.
    var rackDrawW: [String: Double] {
        get { rackDrawByName }
        set {
            rackDrawByName = newValue
            for (id, name) in rackNames.enumerated() { rackDrawDense[id] = newValue[name] ?? 0 }
        }
    }
    private var rackDrawByName: [String: Double]
    private let rackNames: [String]
    /// Failure domains as integers, per label key that a policy spreads by or a workload
    /// colocates by: `domainIDs[key]?[node]`. The hot loops compare these, not strings.
    let domainIDs: [String: [Int]]
    /// How many distinct domains each key of `domainIDs` has.
    let domainCounts: [String: Int]
    /// Position of `gpus` in `resourceKeys`.
    let gpuKey: Int?
    /// Per node, for the hot loops: healthy, and on when observed.
    let healthy: [Bool]
    let observedOn: [Bool]
    /// Per node: ``ObservedNode/gpuCount``.
    let gpuCount: [Int]
    /// Per node: its power rating (``ObservedNode/power``), dense: the draw reads these, not
    /// the node (decision 383).
    private let idleW: [Double]
    private let maxW: [Double]

    init(desired: DesiredState, observed: ObservedState) {
        self.desired = desired
        let sorted = observed.sortedNodes
        nodes = sorted
        var index: [String: Int] = [:]
        for position in sorted.indices { index[sorted[position].name] = position }
        self.index = index
        // Fields are read through the array (`sorted[position].site`; `sorted` is `nodes`), not
        // by binding each node: a bound node is a copy of the whole struct, retains included
        // (decision 432).
        rack = sorted.indices.map { position in
            let site = sorted[position].site
            let key = desired.sites[site]?.powerDomain ?? "rack"
            return "\(site)/\(sorted[position].labels[key] ?? sorted[position].name)"
        }
        var caps: [String: Double] = [:]
        for position in sorted.indices {
            if let policy = desired.energyPolicy(site: sorted[position].site) {
                let rackName = String(rack[position].dropFirst(sorted[position].site.count + 1))
                caps[rack[position]] = policy.capW(rack: rackName)
            }
        }
        rackCapW = caps
        var rackIDs: [String: Int] = [:], names: [String] = []
        rackID = rack.map { name in
            if let id = rackIDs[name] { return id }
            rackIDs[name] = names.count
            names.append(name)
            return names.count - 1
        }
        rackNames = names
        rackCapDense = names.map { caps[$0] }
        rackDrawDense = Array(repeating: 0, count: names.count)
        pool = Array(repeating: nil, count: nodes.count)
        used = Array(repeating: [:], count: nodes.count)
        var keySet = Set<String>()
        for position in sorted.indices { keySet.formUnion(sorted[position].capacity.keys) }
        for workload in desired.workloads.values { keySet.formUnion(workload.resources.keys) }
        resourceKeys = keySet.sorted()
        var resourceIndex: [String: Int] = [:]
        for (position, key) in resourceKeys.enumerated() { resourceIndex[key] = position }
        self.resourceIndex = resourceIndex
        let keys = resourceKeys
        capacityDense = sorted.indices.map { position in keys.map { sorted[position].capacity[$0] ?? 0 } }
        usedDense = Array(repeating: Array(repeating: 0, count: keys.count), count: nodes.count)
        wholeNode = Array(repeating: false, count: nodes.count)
        replicaCount = Array(repeating: 0, count: nodes.count)
        driveCount = Array(repeating: 0, count: nodes.count)
        // Idle healthy nodes of a site that powers idle nodes off start off; everything else
        // keeps the power state it has until something needs it on.
        on = sorted.indices.map { position in
            let powersOff = desired.energyPolicy(site: sorted[position].site)?.powerOffIdle ?? false
            return powersOff && HealthRule.takesNew(sorted[position].health) ? false : sorted[position].powerState == .on
        }
        rackDrawByName = [:]
        var domainKeys = Set(desired.redundancyPolicies.values.compactMap(\.failureDomain))
        domainKeys.formUnion(desired.workloads.values.compactMap(\.colocate))
        var ids: [String: [Int]] = [:], counts: [String: Int] = [:]
        for key in domainKeys.sorted() {
            var seen: [String: Int] = [:]
            ids[key] = sorted.indices.map { position in
                let name = sorted[position].labels[key] ?? "node:\(sorted[position].name)"
                if let id = seen[name] { return id }
                seen[name] = seen.count
                return seen.count - 1
            }
            counts[key] = seen.count
        }
        domainIDs = ids
        domainCounts = counts
        gpuKey = resourceIndex["gpus"]
        healthy = sorted.indices.map { HealthRule.takesNew(sorted[$0].health) }
        observedOn = sorted.indices.map { sorted[$0].powerState == .on }
        gpuCount = sorted.indices.map { sorted[$0].gpuCount }
        idleW = sorted.indices.map { sorted[$0].power.idleW }
        maxW = sorted.indices.map { sorted[$0].power.maxW }
        for position in nodes.indices { rackDrawDense[rackID[position]] += drawW(position) }
        var byName: [String: Double] = [:]
        for (id, name) in names.enumerated() { byName[name] = rackDrawDense[id] }
        rackDrawByName = byName
    }

    /// The draw of `node`, on, with `demand` (dense: key position, amount) added to what it
    /// uses: the contract's estimate (``PowerModel``) on the dense mirrors, bit for bit.
    func drawW(_ node: Int, adding demand: [(Int, Double)]) -> Double {
        drawW(node, adding: demand, capacity: capacityDense[node], usage: usedDense[node])
    }

    /// ``drawW(_:adding:)`` with the node's `capacity` and `usage` rows given by the caller
    /// (equal to `capacityDense[node]` and `usedDense[node]`: a candidate bucket's rows).
    private func drawW(_ node: Int, adding demand: [(Int, Double)], capacity: [Double], usage: [Double]) -> Double {
        let gpu = gpuKey.flatMap { capacity[$0] > 0 ? $0 : nil }
        let utilisation = PowerModel.utilisation(gpu: gpu, keys: capacity.indices, capacity: { capacity[$0] }, used: { k in
            var used = usage[k]
            for (key, amount) in demand where key == k { used += amount }
            return used
        })
        return PowerModel.drawW(idleW: idleW[node], maxW: maxW[node], utilisation: utilisation)
    }

    /// ``powerFits(_:newUsage:)`` for `demand` added to what the node uses, without building maps.
    func powerFits(_ node: Int, adding demand: [(Int, Double)]) -> Bool {
        powerFits(node, adding: demand, capacity: capacityDense[node], usage: usedDense[node])
    }

    /// ``powerFits(_:adding:)`` with the node's `capacity` and `usage` rows given by the caller,
    /// equal to `capacityDense[node]` and `usedDense[node]` (a candidate bucket's rows, read
    /// once per bucket instead of once per node): the same arithmetic (decision 383).
    func powerFits(_ node: Int, adding demand: [(Int, Double)], capacity: [Double], usage: [Double]) -> Bool {
        let id = rackID[node]
        guard let cap = rackCapDense[id] else { return true }
        let now = on[node] ? drawW(node, adding: [], capacity: capacity, usage: usage) : 0
        let delta = drawW(node, adding: demand, capacity: capacity, usage: usage) - now
        return RackCapRule.allows(projectedW: rackDrawDense[id] + delta, capW: cap)
    }

    /// Whether `demand` fits on top of what the node holds and `reserved` (dense, may be
    /// empty): ``shortfall(_:demand:reserved:)`` is nil, without building maps.
    func fits(_ node: Int, demand: [(Int, Double)], reserved: [Double]) -> Bool {
        if wholeNode[node] { return false }
        let capacity = capacityDense[node], usage = usedDense[node]
        for (k, amount) in demand {
            let held = reserved.isEmpty ? usage[k] : usage[k] + reserved[k]
            if !CapacityRule.fits(held + amount, capacity: capacity[k]) { return false }
        }
        return true
    }

    /// Whether one single-node replica of `demand` may go onto `node`: capacity on top of what
    /// it holds and `reserved` (dense, may be empty), and its rack's cap with the node on.
    /// Spread is per workload: the caller asks its ``DomainSpread``.
    func canPlace(_ demand: [(Int, Double)], on node: Int, reserved: [Double] = []) -> Bool {
        fits(node, demand: demand, reserved: reserved) && powerFits(node, adding: demand)
    }

    /// Whether turning `node` on, holding what it holds, keeps its rack within its cap.
    func canPowerOn(_ node: Int) -> Bool { powerFits(node, newUsage: used[node]) }

    /// A workload's demand on the dense keys: the positive amounts, by key name.
    func denseDemand(_ resources: ResourceMap) -> [(Int, Double)] {
        resources.filter { $0.value > 0 }.sorted { $0.key < $1.key }.compactMap { entry in resourceIndex[entry.key].map { ($0, entry.value) } }
    }

    // MARK: Power

    /// The draw of `node` (``PowerModel``): with what it uses now, read from the dense mirrors
    /// (bit for bit the same, without hashing), or with `usage`.
    func drawW(_ node: Int, used usage: ResourceMap? = nil, on isOn: Bool? = nil) -> Double {
        guard let usage else { return (isOn ?? on[node]) ? drawW(node, adding: []) : 0 }
        return PowerModel.estimatedW(nodes[node], used: usage, on: isOn ?? on[node])
    }

    /// The draw of `node` on and taken whole (all its capacity used): `drawW(node, used:
    /// capacity, on: true)` from the dense mirrors, bit for bit.
    func wholeDrawW(_ node: Int) -> Double {
        let capacity = capacityDense[node]
        let gpu = gpuKey.flatMap { capacity[$0] > 0 ? $0 : nil }
        let utilisation = PowerModel.utilisation(gpu: gpu, keys: capacity.indices, capacity: { capacity[$0] }, used: { capacity[$0] })
        return PowerModel.drawW(idleW: idleW[node], maxW: maxW[node], utilisation: utilisation)
    }

    /// Whether giving `node` the usage `newUsage` (and turning it on) keeps its rack within its cap.
    func powerFits(_ node: Int, newUsage: ResourceMap) -> Bool {
        let id = rackID[node]
        guard let cap = rackCapDense[id] else { return true }
        let delta = drawW(node, used: newUsage, on: true) - drawW(node)
        return RackCapRule.allows(projectedW: rackDrawDense[id] + delta, capW: cap)
    }

    /// Whether taking `nodes` whole (a gang), several possibly in one rack, keeps every rack
    /// within its cap.
    func powerFitsWhole(_ nodes: [Int]) -> Bool {
        // A gang spans a few racks: a short list, summed in node order as a map would.
        var extra: [(rack: Int, delta: Double)] = []
        for node in nodes {
            let delta = wholeDrawW(node) - drawW(node)
            if let position = extra.firstIndex(where: { $0.rack == rackID[node] }) {
                extra[position].delta += delta
            } else {
                extra.append((rackID[node], 0 + delta))
            }
        }
        return extra.allSatisfy { rack, delta in
            guard let cap = rackCapDense[rack] else { return true }
            return RackCapRule.allows(projectedW: rackDrawDense[rack] + delta, capW: cap)
        }
    }

    mutating func setUsage(_ node: Int, _ newUsage: ResourceMap, on isOn: Bool) {
        let before = drawW(node)
        used[node] = newUsage
        usedDense[node] = resourceKeys.map { newUsage[$0] ?? 0 }
        on[node] = isOn
        let id = rackID[node]
        rackDrawDense[id] += drawW(node) - before
        rackDrawByName[rack[node]] = rackDrawDense[id]
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
            if !CapacityRule.fits((used[node][key] ?? 0) + (reserved[key] ?? 0) + amount, capacity: capacity) { return key }
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
        guard candidate.site == pool.site, HealthRule.keeps(candidate.health) else { return false }
        if let model = pool.gpuModel, candidate.gpu?.model != model { return false }
        if let minimum = pool.minGpuMemoryGiB, (candidate.gpu?.memoryGiB ?? 0) < minimum { return false }
        if let selector = pool.nodeSelector, !selector.matches(candidate.labels) { return false }
        return true
    }

    func members(of poolName: String) -> [Int] {
        pool.indices.filter { pool[$0] == poolName }
    }
}
