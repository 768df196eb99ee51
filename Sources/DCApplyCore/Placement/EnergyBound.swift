/// A lower bound on the estimated draw (and on powered nodes) of any placement of the same
/// demand, computed alongside the plan so it can say how far from the best it may be.
///
/// A relaxation: every single-node replica may go anywhere in its pool (even existing ones);
/// nodes that must stay on (sites that do not power idle nodes off, unhealthy nodes, nodes
/// holding drives) count their idle draw; a gang counts its nodes at the cheapest full draw;
/// GPU work counts at the cheapest dynamic watts per GPU of its pool; load beyond the
/// always-on nodes' capacity needs at least ceil(excess / largest capacity) more nodes, each
/// at the cheapest idle draw. keepWarm nodes are left out, so the bound stays a bound.
struct EnergyBound {
    var watts = 0.0
    var nodes = 0

    init(model: PlacementModel, states: [String: TargetState.WorkloadState]) {
        var alwaysOn = Set<Int>()
        for node in model.nodes.indices where model.on[node] && !model.wholeNode[node] {
            let powersOff = model.desired.energyPolicy(site: model.nodes[node].site)?.powerOffIdle ?? false
            if !powersOff || !HealthRule.takesNew(model.nodes[node].health) || model.driveCount[node] > 0 { alwaysOn.insert(node) }
        }
        watts = alwaysOn.reduce(0) { $0 + model.nodes[$1].power.idleW }
        nodes = alwaysOn.count

        for pool in Set(model.desired.workloads.values.map(\.pool)).sorted() {
            let members = model.nodes.indices.filter { model.pool[$0] == pool && model.nodes[$0].health != .failed }
            guard !members.isEmpty else { continue }
            let candidates = members.filter { !alwaysOn.contains($0) }
            let cheapestIdle = candidates.map { model.nodes[$0].power.idleW }.min() ?? 0
            let cheapestFull = members.map { model.nodes[$0].power.maxW }.min() ?? 0
            let cheapestPerGPU = members.filter { model.nodes[$0].gpuCount > 0 }
                .map { (model.nodes[$0].power.maxW - model.nodes[$0].power.idleW) / Double(model.nodes[$0].gpuCount) }.min() ?? 0
            var load: ResourceMap = [:]
            for (name, state) in states.sorted(by: { $0.key < $1.key }) {
                guard let workload = model.desired.workloads[name], workload.pool == pool else { continue }
                for replica in state.replicas {
                    if replica.nodes.count > 1 {
                        // A gang: its nodes at full draw, wherever it goes.
                        watts += Double(replica.nodes.count) * cheapestFull
                        nodes += replica.nodes.count
                    } else {
                        load.merge(workload.resources, uniquingKeysWith: +)
                    }
                }
            }
            watts += (load["gpus"] ?? 0) * cheapestPerGPU
            var extraNodes = 0
            for (key, amount) in load.sorted(by: { $0.key < $1.key }) where amount > 0 {
                let fixedRoom = members.filter { alwaysOn.contains($0) }.reduce(0.0) { $0 + (model.nodes[$1].capacity[key] ?? 0) }
                let largest = candidates.map { model.nodes[$0].capacity[key] ?? 0 }.max() ?? 0
                let excess = amount - fixedRoom
                if excess > Tolerance.capacity, largest > 0 { extraNodes = max(extraNodes, Int((excess / largest - Tolerance.capacity).rounded(.up))) }
            }
            watts += Double(extraNodes) * cheapestIdle
            nodes += extraNodes
        }
    }
}
