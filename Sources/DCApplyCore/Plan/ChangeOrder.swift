/// The order a plan's changes must be carried out in: which change must finish before which,
/// and the waves that disruption budgets (`maxUnavailable`) impose. Pure: built from the plan
/// and the manifests. The planner counts waves with it; apply's `ApplyGraph` walks it.
///
/// Order rules, each an edge:
/// - power a node on before assigning it, placing on it or attaching its drives;
/// - take a node out of its old pool before putting it in a new one;
/// - free a node (evict, move away, detach) before placing or moving onto it, unassigning it or
///   powering it off;
/// - grant a pool to a policy before placing; revoke after the last eviction;
/// - drain a node before powering it off; power it on before resuming it.
/// A `move` is one step that starts the replica on its new nodes before stopping it on the old
/// ones (make before break), so a replica is never missing while it moves.
public struct ChangeOrder: Hashable, Sendable {
    /// `dependencies[i]`: indexes of the changes that must be done before change `i` starts.
    public let dependencies: [[Int]]
    /// `wave[i]`: the disruption wave of change `i` (0 for changes that disrupt no budgeted target).
    public let wave: [Int]
    /// The largest number of waves any budgeted target needs (1 when nothing is budgeted).
    public let waveCount: Int
    /// For each disruptive change, the targets it disrupts (`HardwarePool/p`, `Workload/w`,
    /// `StorageTier/t`), whether budgeted or not.
    public let disrupts: [[ResourceAddress]]
    /// `maxUnavailable` by target.
    public let budgets: [ResourceAddress: Int]

    public init(changes: [Change], desired: DesiredState) {
        var budgets: [ResourceAddress: Int] = [:]
        for (name, pool) in desired.pools { if let max = desired.policy(pool.redundancy)?.maxUnavailable { budgets[ResourceAddress(.hardwarePool, name)] = max } }
        for (name, workload) in desired.workloads { if let max = desired.policy(workload.redundancy)?.maxUnavailable { budgets[ResourceAddress(.workload, name)] = max } }
        for (name, tier) in desired.storageTiers { if let max = desired.policy(tier.redundancy)?.maxUnavailable { budgets[ResourceAddress(.storageTier, name)] = max } }
        self.init(changes: changes, budgets: budgets)
    }

    public init(changes: [Change], budgets: [ResourceAddress: Int]) {
        self.budgets = budgets
        var powerOn: [String: Int] = [:], unassign: [String: Int] = [:], assign: [String: Int] = [:], drain: [String: Int] = [:]
        var freeing: [String: [Int]] = [:]  // evict, move away, detach: make room on a node
        var using: [String: [Int]] = [:]    // place, move onto, attach
        var grants: [Int] = [], evictions: [Int] = []
        var disrupts = Array(repeating: [ResourceAddress](), count: changes.count)
        for (i, change) in changes.enumerated() {
            let node = change.resource.kind == "Node" ? change.resource.name : nil
            switch change.action {
            case .powerOn: if let node, change.actuator == nil { powerOn[node] = i }
            case .powerOff, .resume: break
            case .drain: if let node, change.actuator == nil { drain[node] = i }
            case .assign: if let node { assign[node] = i }
            case .unassign:
                if let node { unassign[node] = i }
                if let pool = change.from.flatMap(ResourceAddress.init(parsing:)) { disrupts[i].append(pool) }
            case .place:
                for n in change.toNodes ?? [] { using[n, default: []].append(i) }
            case .move:
                for n in change.toNodes ?? [] { using[n, default: []].append(i) }
                for n in change.fromNodes ?? [] where !(change.toNodes ?? []).contains(n) { freeing[n, default: []].append(i) }
                disrupts[i].append(change.resource)
                evictions.append(i)
            case .evict:
                for n in change.fromNodes ?? [] { freeing[n, default: []].append(i) }
                disrupts[i].append(change.resource)
                evictions.append(i)
            case .attachDrive:
                if let n = change.resource.driveNode { using[n, default: []].append(i) }
            case .detachDrive:
                if let n = change.resource.driveNode { freeing[n, default: []].append(i) }
                if let tier = change.from.flatMap(ResourceAddress.init(parsing:)) { disrupts[i].append(tier) }
            case .grant: grants.append(i)
            case .revoke: break
            }
        }
        var dependencies = Array(repeating: Set<Int>(), count: changes.count)
        for (i, change) in changes.enumerated() {
            switch change.action {
            case .assign:
                if let node = change.resource.kind == "Node" ? change.resource.name : nil {
                    if let on = powerOn[node] { dependencies[i].insert(on) }
                    if let off = unassign[node] { dependencies[i].insert(off) }
                }
            case .place, .move, .attachDrive:
                let nodes = change.action == .attachDrive ? [change.resource.driveNode].compactMap { $0 } : (change.toNodes ?? [])
                for node in nodes {
                    if let on = powerOn[node] { dependencies[i].insert(on) }
                    if change.action != .attachDrive, let join = assign[node] { dependencies[i].insert(join) }
                    for free in freeing[node] ?? [] where free != i && changes[free].action != .move { dependencies[i].insert(free) }
                }
                if change.action == .place { dependencies[i].formUnion(grants) }
            case .unassign:
                if let node = change.resource.kind == "Node" ? change.resource.name : nil {
                    dependencies[i].formUnion(freeing[node] ?? [])
                }
            case .powerOff:
                if let node = change.resource.kind == "Node" ? change.resource.name : nil {
                    dependencies[i].formUnion(freeing[node] ?? [])
                    if let off = unassign[node] { dependencies[i].insert(off) }
                    if let out = drain[node] { dependencies[i].insert(out) }
                }
            case .resume:
                if let node = change.resource.kind == "Node" ? change.resource.name : nil, let on = powerOn[node] { dependencies[i].insert(on) }
            case .revoke: dependencies[i].formUnion(evictions)
            default: break
            }
            dependencies[i].remove(i)
        }
        Self.breakCycles(&dependencies)
        // Waves: each budgeted target's disruptive changes, in plan order, in groups of its
        // budget; a group starts when the one before it is done.
        var wave = Array(repeating: 0, count: changes.count)
        var waveCount = 1
        var membersOf: [ResourceAddress: [Int]] = [:]
        for (i, targets) in disrupts.enumerated() { for target in targets where budgets[target] != nil { membersOf[target, default: []].append(i) } }
        for (target, asked) in budgets.sorted(by: { $0.key < $1.key }) {
            // 0 cannot stop changes the manifests require (a failed node's replicas must go):
            // it is as strict as can be, one at a time.
            let budget = max(1, asked)
            let members = membersOf[target] ?? []
            guard members.count > budget else { continue }
            let groups = stride(from: 0, to: members.count, by: budget).map { Array(members[$0..<min($0 + budget, members.count)]) }
            waveCount = max(waveCount, groups.count)
            for (number, group) in groups.enumerated() {
                for i in group { wave[i] = max(wave[i], number) }
                if number > 0 { for i in group { dependencies[i].formUnion(groups[number - 1]) } }
            }
        }
        self.dependencies = dependencies.map { $0.sorted() }
        self.wave = wave
        self.waveCount = waveCount
        self.disrupts = disrupts
    }
}

extension ChangeOrder {
    /// Rare plans (two nodes swapping pools while replicas swap between them) can make the
    /// rules above circular. Kahn's algorithm finds the changes left in a cycle; among those,
    /// edges pointing to a later change in plan order are dropped until none is left.
    static func breakCycles(_ dependencies: inout [Set<Int>]) {
        while true {
            var indegree = dependencies.map(\.count)
            var dependents = Array(repeating: [Int](), count: dependencies.count)
            for (i, deps) in dependencies.enumerated() { for d in deps { dependents[d].append(i) } }
            var ready = indegree.indices.filter { indegree[$0] == 0 }
            var seen = 0
            while let i = ready.popLast() {
                seen += 1
                for j in dependents[i] { indegree[j] -= 1; if indegree[j] == 0 { ready.append(j) } }
            }
            guard seen < dependencies.count else { return }
            let stuck = indegree.indices.filter { indegree[$0] > 0 }
            for i in stuck { dependencies[i] = dependencies[i].filter { $0 < i || indegree[$0] == 0 } }
        }
    }
}
