/// Compares what is applied and observed with a placement's target and lists the changes.
/// Pure and deterministic.
public struct Planner {
    public init() {}

    public func plan(desired: DesiredState, observed: ObservedState, current: TargetState, placement: PlacementResult,
                     revision: String? = nil, stateSerial: Int = 0, actuators: ActuatorFindings = ActuatorFindings()) -> Plan {
        var target = placement.target
        target.drained = Self.drained(desired: desired, observed: observed, target: target, findings: actuators)
        var changes: [Change] = []
        let nodeNames = Set(observed.nodes.keys).union(current.nodes.keys).sorted()

        // Pool membership.
        var unassignedFrom: [String: [String]] = [:]
        for name in nodeNames {
            let before = current.nodes[name]?.pool
            let after = target.nodes[name]?.pool
            guard before != after else { continue }
            if let before {
                let reason = whyLeaves(node: name, pool: before, desired: desired, observed: observed, target: target)
                changes.append(Change(.unassign, .node(name), from: "HardwarePool/\(before)", reason: reason, subject: ResourceAddress(.hardwarePool, before)))
                if observed.nodes[name].map({ $0.health != .healthy }) ?? true { unassignedFrom[before, default: []].append(name) }
            }
        }
        for name in nodeNames {
            let before = current.nodes[name]?.pool
            guard let after = target.nodes[name]?.pool, before != after else { continue }
            var reason = "HardwarePool/\(after) needs more members"
            if var replaced = unassignedFrom[after], !replaced.isEmpty {
                let old = replaced.removeFirst()
                unassignedFrom[after] = replaced
                reason = "replaces \(old) (\(observed.nodes[old]?.health.rawValue ?? "gone"))"
            } else if case .nodes(let count)? = desired.pools[after]?.size {
                reason = "HardwarePool/\(after) needs \(count + (desired.policy(desired.pools[after]?.redundancy)?.spares ?? 0)) nodes"
            } else if case .gpus(let count)? = desired.pools[after]?.size {
                reason = "HardwarePool/\(after) needs \(count) GPUs"
            } else if desired.pools[after]?.size == nil {
                reason = "matches HardwarePool/\(after), which takes every matching healthy node"
            }
            changes.append(Change(.assign, .node(name), to: "HardwarePool/\(after)", reason: reason, subject: ResourceAddress(.hardwarePool, after)))
        }

        // Power.
        let hostsOfNode = hostedBy(target)
        for name in nodeNames {
            guard let node = observed.nodes[name], let after = target.nodes[name]?.powerState, after != node.powerState else { continue }
            let hosts = hostsOfNode[name] ?? []
            if after == .on {
                changes.append(Change(.powerOn, .node(name), reason: hosts.isEmpty ? "kept warm for fast failover (EnergyPolicy keepWarm)" : "hosts \(hosts.joined(separator: ", "))", subject: .node(name)))
            } else {
                let policy = desired.energyPolicy(site: node.site)?.metadata.name ?? "?"
                changes.append(Change(.powerOff, .node(name), reason: "hosts nothing (EnergyPolicy/\(policy) powerOffIdle)", subject: .node(name)))
            }
        }

        // Replicas.
        for name in Set(current.workloads.keys).union(target.workloads.keys).sorted() {
            let subject = ResourceAddress(.workload, name)
            let before = Dictionary(current.workloads[name]?.replicas.map { ($0.index, $0.nodes) } ?? [], uniquingKeysWith: { a, _ in a })
            let after = Dictionary(target.workloads[name]?.replicas.map { ($0.index, $0.nodes) } ?? [], uniquingKeysWith: { a, _ in a })
            for index in Set(before.keys).union(after.keys).sorted() {
                switch (before[index], after[index]) {
                case (nil, let new?):
                    changes.append(Change(.place, subject, to: nodeList(new), replica: index, toNodes: new,
                                          reason: new.count > 1 ? "gang of \(new.count) whole nodes" : "new replica", subject: subject))
                case (let old?, let new?) where old != new:
                    changes.append(Change(.move, subject, from: nodeList(old), to: nodeList(new), replica: index, fromNodes: old, toNodes: new,
                                          reason: whyMoves(old, workload: name, desired: desired, observed: observed, target: target), subject: subject))
                case (let old?, nil):
                    let wanted = desired.workloads[name]?.replicas ?? 0
                    let reason = desired.workloads[name] == nil ? "Workload/\(name) removed from the manifests"
                        : index >= wanted ? "scaled down to \(wanted) replica\(wanted == 1 ? "" : "s")"
                        : "cannot be placed: \(placement.problems.first { $0.resource == subject }?.message ?? "no room")"
                    changes.append(Change(.evict, subject, from: nodeList(old), replica: index, fromNodes: old, reason: reason, subject: subject))
                default: break
                }
            }
        }

        // Drives.
        for name in Set(current.storageTiers.keys).union(target.storageTiers.keys).sorted() {
            let subject = ResourceAddress(.storageTier, name)
            let before = Set(current.storageTiers[name]?.drives ?? [])
            let after = Set(target.storageTiers[name]?.drives ?? [])
            for drive in after.subtracting(before).sorted() {
                changes.append(Change(.attachDrive, .drive(drive), to: subject.description, reason: "StorageTier/\(name) needs capacity", subject: subject))
            }
            for drive in before.subtracting(after).sorted() {
                let health = observed.nodes[drive.node]?.health
                let reason = desired.storageTiers[name] == nil ? "StorageTier/\(name) removed from the manifests"
                    : health == nil ? "node \(drive.node) is gone" : health == .failed ? "node \(drive.node) failed" : "no longer needed or no longer qualifies"
                changes.append(Change(.detachDrive, .drive(drive), from: subject.description, reason: reason, subject: subject))
            }
        }

        // Grants.
        for policy in Set(current.grants.keys).union(target.grants.keys).sorted() {
            let subject = ResourceAddress(.accessPolicy, policy)
            let before = Set(current.grants[policy] ?? []), after = Set(target.grants[policy] ?? [])
            for pool in after.subtracting(before).sorted() {
                changes.append(Change(.grant, subject, to: "HardwarePool/\(pool)", reason: "use granted by AccessPolicy/\(policy)", subject: subject))
            }
            for pool in before.subtracting(after).sorted() {
                changes.append(Change(.revoke, subject, from: "HardwarePool/\(pool)", reason: "no rule grants use any more", subject: subject))
            }
        }

        // Out of service and back: only nodes of Sites with actuators are ever drained.
        for name in Set(current.drained.keys).union(target.drained.keys).sorted() where observed.nodes[name] != nil {
            let before = current.drained[name], after = target.drained[name]
            guard before != after else { continue }
            if let after {
                let reason = switch after {
                case .failed: "node failed"
                case .degraded: "node degraded: it takes no new work"
                case .powerOff: "to be powered off"
                }
                changes.append(Change(.drain, .node(name), from: before?.rawValue, to: after.rawValue, reason: reason, subject: .node(name)))
            } else if let before {
                let reason = before == .powerOff ? "powered on again" : "node healthy again"
                changes.append(Change(.resume, .node(name), from: before.rawValue, reason: reason, subject: .node(name)))
            }
        }

        // Repairs of what was changed outside dcapply, unless the plan changes that resource anyway.
        let planned = Set(changes.map { "\($0.resource)#\($0.replica ?? -1)" })
        var seenRepairs = Set<String>()
        for repair in actuators.repairs where !planned.contains("\(repair.resource)#\(repair.replica ?? -1)") {
            guard seenRepairs.insert(StandingActions.key(repair) + "\t" + (repair.actuator ?? "")).inserted else { continue }
            changes.append(repair)
        }

        changes.sort { ($0.action.phase, $0.resource, $0.replica ?? -1, $0.to ?? "", $0.actuator ?? "") < ($1.action.phase, $1.resource, $1.replica ?? -1, $1.to ?? "", $1.actuator ?? "") }
        // Sums in node name order (bit-identical on every run): `nodeNames` is sorted already,
        // and a draw's keys are observed nodes, all in it.
        func total(_ draws: [String: Double]) -> Double { nodeNames.reduce(0) { $0 + (draws[$1] ?? 0) } }
        // What the nodes draw now: the applied replicas on each observed node in its observed
        // power state, summed without building a state and a draw per node (decision 403).
        let currentUse = PowerModel.usage(of: TargetState(workloads: current.workloads), desired: desired, observed: observed)
        let currentDraw = nodeNames.reduce(0.0) { sum, name in
            guard let node = observed.nodes[name] else { return sum }
            return sum + PowerModel.estimatedW(node, used: currentUse[name] ?? [:], on: node.powerState == .on)
        }
        let targetDraw = PowerModel.draws(of: target, desired: desired, observed: observed)
        var plan = Plan(revision: revision, changes: changes, target: target, targetDrawW: targetDraw,
                        energy: EnergyEstimate(currentW: currentDraw, plannedW: total(targetDraw),
                                               lowerBoundW: placement.lowerBoundW,
                                               poweredNodes: target.nodes.values.filter { $0.powerState == .on }.count,
                                               poweredNodesLowerBound: placement.lowerBoundNodes),
                        problems: placement.problems + actuators.problems, manifestDigest: desired.digest, stateSerial: stateSerial,
                        nodeCount: observed.nodes.count)
        plan.redundancy = redundancy(desired: desired, observed: observed, target: target)
        plan.moves = moves(changes, desired: desired, observed: observed, current: current)
        plan.observedDigest = observed.digest
        plan.waves = ChangeOrder(changes: changes, desired: desired).waveCount
        return plan
    }

    /// Which nodes actuators should keep out of service: on Sites with actuators, failed and
    /// degraded nodes, and nodes the target powers off. A node someone else took out of service
    /// (an actuator observed it) is left to them.
    static func drained(desired: DesiredState, observed: ObservedState, target: TargetState, findings: ActuatorFindings) -> [String: DrainCause] {
        var drained: [String: DrainCause] = [:]
        for node in observed.nodes.values where !(desired.sites[node.site]?.actuators.isEmpty ?? true) {
            guard findings.degraded[node.name] == nil else { continue }
            switch node.health {
            case .failed: drained[node.name] = .failed
            case .degraded: drained[node.name] = .degraded
            case .healthy: if target.nodes[node.name]?.powerState == .off { drained[node.name] = .powerOff }
            }
        }
        return drained
    }

    /// Moves of existing replicas (a move, or an evict of a replica that stays wanted and is
    /// placed again), and how many were forced: a node that failed, is gone, or left its pool
    /// because it no longer qualifies.
    private func moves(_ changes: [Change], desired: DesiredState, observed: ObservedState, current: TargetState) -> Plan.Moves {
        var count = 0, required = 0
        for change in changes where change.action == .move {
            count += 1
            let forced = (change.fromNodes ?? []).contains { name in
                guard let node = observed.nodes[name] else { return true }
                if node.health == .failed { return true }
                guard let workload = desired.workloads[change.subject.name], let pool = desired.pools[workload.pool] else { return true }
                if node.site != pool.site { return true }
                if let model = pool.gpuModel, node.gpu?.model != model { return true }
                if let minimum = pool.minGpuMemoryGiB, (node.gpu?.memoryGiB ?? 0) < minimum { return true }
                if let selector = pool.nodeSelector, !selector.matches(node.labels) { return true }
                return false
            }
            if forced { required += 1 }
        }
        return Plan.Moves(count: count, required: required)
    }

    /// "4 members over 2 racks, at most 2 per rack (RedundancyPolicy/rack-spread allows 2)".
    private func redundancy(desired: DesiredState, observed: ObservedState, target: TargetState) -> [ResourceAddress: String] {
        var lines: [ResourceAddress: String] = [:]
        func describe(_ memberDomains: [Set<String>], policy: RedundancyPolicy, noun: String) -> String {
            var count: [String: Int] = [:]
            for domains in memberDomains { for domain in domains { count[domain, default: 0] += 1 } }
            let key = policy.failureDomain
            var text = "\(memberDomains.count) \(noun)\(memberDomains.count == 1 ? "" : "s") over \(count.count) \(key)\(count.count == 1 ? "" : "s"), at most \(count.values.max() ?? 0) per \(key)"
            var rules: [String] = []
            if let max = policy.maxPerDomain { rules.append("maxPerDomain \(max)") }
            if let min = policy.minDomains { rules.append("minDomains \(min)") }
            if !rules.isEmpty { text += " (RedundancyPolicy/\(policy.metadata.name): \(rules.joined(separator: ", ")))" }
            return text
        }
        func domains(_ nodes: [String], _ key: String) -> Set<String> { Set(nodes.map { observed.nodes[$0]?.labels[key] ?? $0 }) }
        // Members by pool in one pass over the nodes, not one pass per pool.
        var membersOf: [String: [String]] = [:]
        for (node, state) in target.nodes {
            if let pool = state.pool { membersOf[pool, default: []].append(node) }
        }
        for (name, pool) in desired.pools {
            guard let policy = desired.policy(pool.redundancy) else { continue }
            let members = (membersOf[name] ?? []).sorted()
            lines[ResourceAddress(.hardwarePool, name)] = describe(members.map { domains([$0], policy.failureDomain) }, policy: policy, noun: "node")
        }
        for (name, workload) in desired.workloads {
            guard let policy = desired.policy(workload.redundancy) else { continue }
            let replicas = target.workloads[name]?.replicas ?? []
            lines[ResourceAddress(.workload, name)] = describe(replicas.map { domains($0.nodes, policy.failureDomain) }, policy: policy, noun: "replica")
        }
        for (name, tier) in desired.storageTiers {
            guard let policy = desired.policy(tier.redundancy) else { continue }
            let drives = target.storageTiers[name]?.drives ?? []
            lines[ResourceAddress(.storageTier, name)] = describe(drives.map { domains([$0.node], policy.failureDomain) }, policy: policy, noun: "drive")
        }
        return lines
    }

    private func nodeList(_ nodes: [String]) -> String { nodes.map { "Node/\($0)" }.joined(separator: ",") }

    /// What each node hosts, workloads then storage tiers, each by name: built once, since a
    /// search per node is quadratic on large sites.
    private func hostedBy(_ target: TargetState) -> [String: [String]] {
        var hosts: [String: [String]] = [:]
        for (name, state) in target.workloads.sorted(by: { $0.key < $1.key }) {
            for node in Set(state.replicas.flatMap(\.nodes)).sorted() { hosts[node, default: []].append("Workload/\(name)") }
        }
        for (name, state) in target.storageTiers.sorted(by: { $0.key < $1.key }) {
            for node in Set(state.drives.map(\.node)).sorted() { hosts[node, default: []].append("StorageTier/\(name)") }
        }
        return hosts
    }

    private func whyLeaves(node: String, pool: String, desired: DesiredState, observed: ObservedState, target: TargetState) -> String {
        guard let definition = desired.pools[pool] else { return "HardwarePool/\(pool) removed from the manifests" }
        guard let observedNode = observed.nodes[node] else { return "node is gone from the inventory" }
        if observedNode.health == .failed { return "node failed" }
        if observedNode.health == .degraded { return "node degraded: it hosts nothing and can take nothing new, so a healthy node replaces it" }
        if let model = definition.gpuModel, observedNode.gpu?.model != model { return "GPU model is no longer \(model)" }
        if let selector = definition.nodeSelector, !selector.matches(observedNode.labels) { return "no longer matches the pool's nodeSelector" }
        if let spread = desired.policy(definition.redundancy), spread.maxPerDomain != nil { return "pool size or spread (RedundancyPolicy/\(spread.metadata.name)) changed" }
        return "pool needs fewer nodes"
    }

    private func whyMoves(_ old: [String], workload: String, desired: DesiredState, observed: ObservedState, target: TargetState) -> String {
        for node in old {
            guard let observedNode = observed.nodes[node] else { return "\(node) is gone from the inventory" }
            if observedNode.health == .failed { return "\(node) failed" }
            if let pool = desired.workloads[workload]?.pool, target.nodes[node]?.pool != pool { return "\(node) left HardwarePool/\(pool)" }
        }
        return "its node no longer satisfies capacity, spread or power constraints"
    }
}
