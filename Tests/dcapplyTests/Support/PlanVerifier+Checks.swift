import Foundation
import Yams

// MARK: - The checks

extension PlanVerifier {
    /// Recomputes each hard constraint from the manifests and the plan's target state.
    struct Checker {
        let manifests: Manifests
        let plan: Plan
        let assumeNothingApplied: Bool
        private(set) var violations: [String] = []

        /// Pool name -> its members in the target, sorted.
        private let membersByPool: [String: [String]]
        /// Node -> resources summed over the ordinary (non-gang) replicas on it.
        private var usage: [String: [String: Double]] = [:]
        /// Node -> the replicas on it, as "Workload/x replica i".
        private var occupants: [String: [String]] = [:]
        /// Node -> the gang replica that takes it whole, and the least GPU fraction it uses.
        private var gangs: [String: (replica: String, leastFraction: Double)] = [:]
        /// Nodes holding a replica or a drive.
        private var hosting: Set<String> = []
        /// Node -> the draw counted against its rack cap.
        private var draws: [String: Double] = [:]
        /// EnergyPolicy name -> rack -> the draw of its powered-on nodes.
        private var rackDraws: [String: [String: Double]] = [:]

        init(manifests: Manifests, plan: Plan, assumeNothingApplied: Bool) {
            self.manifests = manifests
            self.plan = plan
            self.assumeNothingApplied = assumeNothingApplied
            var members: [String: [String]] = [:]
            for (name, entry) in plan.nodes {
                if let pool = entry.pool { members[pool, default: []].append(name) }
            }
            membersByPool = members.mapValues { $0.sorted() }
        }

        mutating func run() {
            violations += plan.shapeErrors
            checkNodes()
            checkPools()
            checkWorkloads()
            checkStorageTiers()
            checkPower()
            checkUnplacedReplicasHaveNoRoom()
        }

        // MARK: Helpers

        private mutating func flag(_ violation: String) {
            violations.append(violation)
        }

        private func health(of node: String) -> String {
            manifests.nodes[node]?.health ?? "healthy"
        }

        /// Whether a node may not take anything: failed, or degraded with nothing applied before.
        private func unfitReason(of node: String) -> String? {
            let health = health(of: node)
            if health == "failed" { return "failed" }
            if assumeNothingApplied, health == "degraded" { return "degraded (it keeps what it has, takes nothing new)" }
            return nil
        }

        private func hasError(on resource: String) -> Bool {
            plan.problems.contains { $0.severity == "error" && $0.resource == resource }
        }

        private func domain(of node: String, key: String) -> String {
            manifests.nodes[node]?.labels[key] ?? "(no \(key) label)"
        }

        private func policy(named name: String?) -> RedundancyPolicy? {
            name.flatMap { manifests.policies[$0] }
        }

        /// Checks maxPerDomain (always hard) and minDomains (hard unless an error problem is reported).
        /// A member counts once in every domain its nodes touch.
        private mutating func checkSpread(
            of resource: String, memberDomains: [[String]], policy: RedundancyPolicy?,
            memberNoun: String, expectsMembers: Bool
        ) {
            guard let policy else { return }
            var counts: [String: Int] = [:]
            for domains in memberDomains {
                for domain in Set(domains) { counts[domain, default: 0] += 1 }
            }
            if let maxPerDomain = policy.maxPerDomain {
                for (domain, count) in counts.sorted(by: { $0.key < $1.key }) where count > maxPerDomain {
                    flag("\(resource) has \(count) \(memberNoun) in \(policy.failureDomain)=\(domain); "
                         + "RedundancyPolicy/\(policy.name) allows at most \(maxPerDomain)")
                }
            }
            if let minDomains = policy.minDomains, expectsMembers, counts.count < minDomains, !hasError(on: resource) {
                flag("\(resource) spans \(counts.count) \(policy.failureDomain) domain(s), fewer than minDomains "
                     + "\(minDomains) of RedundancyPolicy/\(policy.name), and the plan reports no error problem for it")
            }
        }

        // MARK: Nodes

        private mutating func checkNodes() {
            for name in manifests.nodes.keys.sorted() where plan.nodes[name] == nil {
                flag("Node/\(name) is in the inventory but missing from target.nodes")
            }
            for (name, entry) in plan.nodes.sorted(by: { $0.key < $1.key }) {
                if manifests.nodes[name] == nil {
                    flag("target.nodes has \(name), which is not in the inventory")
                }
                if let pool = entry.pool, manifests.pools[pool] == nil {
                    flag("Node/\(name) is in pool \(pool), which no HardwarePool declares")
                }
                if entry.powerState != "on", entry.powerState != "off" {
                    flag("Node/\(name) has powerState \(entry.powerState); it must be on or off")
                }
            }
            for name in plan.workloads.keys.sorted() where manifests.workloads[name] == nil {
                flag("target.workloads has \(name), which no Workload declares")
            }
            for name in plan.tiers.keys.sorted() where manifests.tiers[name] == nil {
                flag("target.storageTiers has \(name), which no StorageTier declares")
            }
        }

        // MARK: Pools

        private func ineligibility(of node: InventoryNode, for pool: HardwarePool) -> [String] {
            var reasons: [String] = []
            if node.site != pool.site { reasons.append("is in site \(node.site), not \(pool.site)") }
            if !pool.selector.matches(node.labels) { reasons.append("does not match its nodeSelector") }
            if let model = pool.gpuModel, node.gpuModel != model {
                reasons.append("has GPU model \(node.gpuModel ?? "none"), not \(model)")
            }
            if let minimum = pool.minGpuMemoryGiB, (node.gpuMemoryGiB ?? 0) < minimum {
                reasons.append("has \(node.gpuMemoryGiB ?? 0) GiB GPUs, less than minGpuMemoryGiB \(minimum)")
            }
            return reasons
        }

        private mutating func checkPools() {
            for pool in manifests.pools.values.sorted(by: { $0.name < $1.name }) {
                let resource = "HardwarePool/\(pool.name)"
                let members = membersByPool[pool.name] ?? []
                let policy = policy(named: pool.redundancy)
                let spares = policy?.spares ?? 0
                for member in members {
                    guard let node = manifests.nodes[member] else { continue }
                    let reasons = ineligibility(of: node, for: pool)
                    if !reasons.isEmpty {
                        flag("\(resource) has member \(member), which \(reasons.joined(separator: " and "))")
                    }
                    if let unfit = unfitReason(of: member) {
                        flag("\(resource) has member \(member), which is \(unfit)")
                    }
                }
                let healthyMembers = members.filter { health(of: $0) == "healthy" }
                if let nodes = pool.sizeNodes {
                    if healthyMembers.count > nodes + spares {
                        flag("\(resource) has \(healthyMembers.count) healthy members; size.nodes \(nodes) "
                             + "plus \(spares) spare(s) allows at most \(nodes + spares)")
                    }
                    if members.count < nodes + spares, !hasError(on: resource) {
                        flag("\(resource) has \(members.count) members, fewer than size.nodes \(nodes) plus "
                             + "\(spares) spare(s), and the plan reports no error problem for it")
                    }
                }
                var short = pool.sizeNodes.map { members.count < $0 + spares } ?? false
                if let gpus = pool.sizeGpus {
                    short = checkGpuSize(of: pool, gpus: gpus, members: members, policy: policy)
                }
                let free = freeNodes(eligibleFor: pool, members: members, policy: policy)
                if pool.sizeNodes == nil, pool.sizeGpus == nil {
                    for node in free {
                        flag("Node/\(node) is healthy, matches HardwarePool/\(pool.name) (which has no size, so "
                             + "takes every matching healthy node) and is in no pool")
                    }
                } else if short, let node = free.first {
                    flag("\(resource) is short of its size but leaves Node/\(node) out, which is healthy, "
                         + "matches it, is in no pool and fits its spread")
                }
                checkSpread(
                    of: resource,
                    memberDomains: members.map { [domain(of: $0, key: policy?.failureDomain ?? "")] },
                    policy: policy, memberNoun: "members", expectsMembers: true)
            }
        }

        /// Healthy nodes in no pool that match `pool` and that its maxPerDomain still has room for.
        private func freeNodes(eligibleFor pool: HardwarePool, members: [String], policy: RedundancyPolicy?) -> [String] {
            var perDomain: [String: Int] = [:]
            if let policy {
                for member in members { perDomain[domain(of: member, key: policy.failureDomain), default: 0] += 1 }
            }
            return manifests.nodes.values.sorted(by: { $0.name < $1.name }).compactMap { node in
                guard node.health == "healthy", let entry = plan.nodes[node.name], entry.pool == nil,
                      ineligibility(of: node, for: pool).isEmpty
                else { return nil }
                if let policy, let maxPerDomain = policy.maxPerDomain,
                   perDomain[domain(of: node.name, key: policy.failureDomain), default: 0] >= maxPerDomain {
                    return nil
                }
                return node.name
            }
        }

        /// size.gpus: at least N GPUs in whole nodes, with as little excess as the inventory allows.
        /// Returns whether the pool is short of its GPUs or spares.
        private mutating func checkGpuSize(
            of pool: HardwarePool, gpus wanted: Int, members: [String], policy: RedundancyPolicy?
        ) -> Bool {
            let resource = "HardwarePool/\(pool.name)"
            let spares = policy?.spares ?? 0
            let counts = members.map { manifests.nodes[$0]?.gpus ?? 0 }
            let total = counts.reduce(0, +)
            let wantedGpus = Double(wanted)
            if total < wantedGpus {
                if !hasError(on: resource) {
                    flag("\(resource) has \(Int(total)) GPUs, fewer than size.gpus \(wanted), and the plan "
                         + "reports no error problem for it")
                }
                return true
            }
            // A kept degraded member may sit beside its replacement: excess is then expected.
            guard members.allSatisfy({ health(of: $0) == "healthy" }) else { return false }
            guard assumeNothingApplied else {
                // Without knowing what was applied before, only the coarse bound holds.
                guard policy?.minDomains == nil else { return false }
                let spareGpus = counts.sorted(by: >).prefix(spares).reduce(0, +)
                let largest = counts.max() ?? 0
                if total - wantedGpus - spareGpus >= largest, largest > 0 {
                    flag("\(resource) has \(Int(total)) GPUs for size.gpus \(wanted) with \(spares) spare(s): "
                         + "at least one whole node more than needed")
                }
                return false
            }
            let minDomains = policy?.minDomains ?? 0
            let domains = members.map { domain(of: $0, key: policy?.failureDomain ?? "") }
            for spareCount in stride(from: min(spares, members.count), through: 0, by: -1) {
                guard let found = Self.someSpareSetLeavesMinimalCore(
                    counts: counts, domains: domains, spareCount: spareCount,
                    wanted: wantedGpus, minDomains: minDomains)
                else { return false }  // too many combinations to search: no verdict
                if found {
                    if spareCount < spares, !hasError(on: resource) {
                        flag("\(resource) covers size.gpus \(wanted) but holds only \(spareCount) of \(spares) "
                             + "spare(s), and the plan reports no error problem for it")
                    }
                    return spareCount < spares
                }
            }
            flag("\(resource) has \(Int(total)) GPUs on \(members.count) nodes for size.gpus \(wanted) with "
                 + "\(spares) spare(s): some member can go and the rest still covers the size and minDomains")
            return false
        }

        /// Whether some choice of `spareCount` members leaves a core that covers `wanted` GPUs and from
        /// which no GPU node can be removed without dropping below it (or below minDomains).
        /// Nil when the search would be too large.
        static func someSpareSetLeavesMinimalCore(
            counts: [Double], domains: [String], spareCount: Int, wanted: Double, minDomains: Int
        ) -> Bool? {
            let memberCount = counts.count
            var combinations = 1.0
            for step in 0..<spareCount { combinations *= Double(memberCount - step) / Double(step + 1) }
            guard combinations <= 50_000 else { return nil }
            var membersPerDomain: [String: Int] = [:]
            for domain in domains { membersPerDomain[domain, default: 0] += 1 }
            let total = counts.reduce(0, +)
            func coreIsMinimal(excluding spares: Set<Int>) -> Bool {
                let coreSum = total - spares.reduce(0) { $0 + counts[$1] }
                guard coreSum >= wanted else { return false }
                for removed in 0..<memberCount where !spares.contains(removed) {
                    guard counts[removed] > 0, coreSum - counts[removed] >= wanted else { continue }
                    let lost = membersPerDomain[domains[removed]] == 1 ? 1 : 0
                    if membersPerDomain.count - lost >= minDomains { return false }
                }
                return true
            }
            func search(from start: Int, chosen: Set<Int>) -> Bool {
                if chosen.count == spareCount { return coreIsMinimal(excluding: chosen) }
                guard start < memberCount else { return false }
                for index in start..<memberCount where search(from: index + 1, chosen: chosen.union([index])) {
                    return true
                }
                return false
            }
            return search(from: 0, chosen: [])
        }

        // MARK: Workloads

        private mutating func checkWorkloads() {
            for workload in manifests.workloads.values.sorted(by: { $0.name < $1.name }) {
                let resource = "Workload/\(workload.name)"
                guard let target = plan.workloads[workload.name] else {
                    if workload.replicas > 0 { flag("\(resource) is missing from target.workloads") }
                    continue
                }
                let indexes = target.replicas.map(\.index)
                if Set(indexes).count != indexes.count {
                    flag("\(resource) has duplicate replica indexes \(indexes.sorted())")
                }
                for index in indexes where index < 0 || index >= workload.replicas {
                    flag("\(resource) has replica index \(index), outside 0..<\(workload.replicas)")
                }
                if target.unplaced < 0 || target.replicas.count + target.unplaced != workload.replicas {
                    flag("\(resource) places \(target.replicas.count) and leaves \(target.unplaced) unplaced, "
                         + "but asks for \(workload.replicas) replicas")
                }
                if target.unplaced > 0, !hasError(on: resource) {
                    flag("\(resource) leaves \(target.unplaced) replica(s) unplaced and the plan reports no error "
                         + "problem for it")
                }
                if !target.replicas.isEmpty, let tenant = workload.tenant, !manifests.accessPolicies.isEmpty {
                    let rules = manifests.accessPolicies[tenant] ?? []
                    if !rules.contains(where: { $0.grants("use", kind: "HardwarePool", name: workload.pool) }) {
                        flag("\(resource) has replicas placed, but its tenant \(tenant) is not granted use on "
                             + "HardwarePool/\(workload.pool)")
                    }
                }
                let members = Set(membersByPool[workload.pool] ?? [])
                let gpusPerNode = members.compactMap { manifests.nodes[$0]?.gpus }.max() ?? 0
                let wantedGpus = workload.resources["gpus"] ?? 0
                for replica in target.replicas.sorted(by: { $0.index < $1.index }) {
                    checkReplica(replica, of: workload, members: members, gpusPerNode: gpusPerNode,
                                 wantedGpus: wantedGpus)
                }
                let policy = policy(named: workload.redundancy)
                checkSpread(
                    of: resource,
                    memberDomains: target.replicas.map { replica in
                        replica.nodes.map { domain(of: $0, key: policy?.failureDomain ?? "") }
                    },
                    policy: policy, memberNoun: "replicas", expectsMembers: workload.replicas > 0)
            }
            for (node, replica) in gangs.sorted(by: { $0.key < $1.key }) {
                let others = (occupants[node] ?? []).filter { $0 != replica.replica }
                if !others.isEmpty {
                    flag("Node/\(node) is taken whole by gang \(replica.replica) but also hosts "
                         + others.joined(separator: ", "))
                }
            }
            for (name, used) in usage.sorted(by: { $0.key < $1.key }) {
                guard let node = manifests.nodes[name] else { continue }
                for (key, amount) in used.sorted(by: { $0.key < $1.key }) {
                    let capacity = node.capacity[key] ?? 0
                    if amount > capacity + 1e-9 {
                        flag("Node/\(name) exceeds capacity: its replicas use \(Self.format(amount)) \(key), "
                             + "it has \(Self.format(capacity)) (\((occupants[name] ?? []).joined(separator: ", ")))")
                    }
                }
            }
        }

        private mutating func checkReplica(
            _ replica: PlanReplica, of workload: Workload, members: Set<String>,
            gpusPerNode: Double, wantedGpus: Double
        ) {
            let label = "Workload/\(workload.name) replica \(replica.index)"
            guard !replica.nodes.isEmpty else {
                flag("\(label) has no nodes")
                return
            }
            if Set(replica.nodes).count != replica.nodes.count {
                flag("\(label) lists a node twice: \(replica.nodes)")
            }
            for name in replica.nodes {
                guard manifests.nodes[name] != nil else {
                    flag("\(label) is on \(name), which is not in the inventory")
                    continue
                }
                hosting.insert(name)
                occupants[name, default: []].append(label)
                if !members.contains(name) {
                    flag("\(label) is on \(name), which is not a member of HardwarePool/\(workload.pool) in the target")
                }
                if let unfit = unfitReason(of: name) {
                    flag("\(label) is on \(name), which is \(unfit)")
                }
            }
            let nodes = replica.nodes.compactMap { manifests.nodes[$0] }
            if wantedGpus > 0, gpusPerNode == 0 {
                flag("\(label) asks for \(Self.format(wantedGpus)) GPUs but HardwarePool/\(workload.pool) has no GPU member")
                return
            }
            if wantedGpus > gpusPerNode {
                let expected = Int((wantedGpus / gpusPerNode).rounded(.up))
                if replica.nodes.count != expected {
                    flag("\(label) is a gang of \(Self.format(wantedGpus)) GPUs on \(replica.nodes.count) nodes; "
                         + "ceil(\(Self.format(wantedGpus)) / \(Self.format(gpusPerNode))) = \(expected)")
                }
                let gpuSum = nodes.reduce(0) { $0 + $1.gpus }
                for (key, amount) in workload.resources.sorted(by: { $0.key < $1.key }) {
                    let have = nodes.reduce(0) { $0 + ($1.capacity[key] ?? 0) }
                    if amount > have + 1e-9 {
                        flag("\(label) asks for \(Self.format(amount)) \(key) but its nodes have \(Self.format(have))")
                    }
                }
                if let key = workload.colocate {
                    let values = Set(nodes.map { $0.labels[key] ?? "(no \(key) label)" })
                    if values.count > 1 || nodes.contains(where: { $0.labels[key] == nil }) {
                        flag("\(label) is a gang colocated by \(key) but spans \(key) values \(values.sorted())")
                    }
                }
                for node in nodes {
                    let others = gpuSum - node.gpus
                    let least = node.gpus > 0 ? min(max(0, wantedGpus - others) / node.gpus, 1) : 0
                    gangs[node.name] = (label, least)
                }
            } else {
                if replica.nodes.count != 1 {
                    flag("\(label) spans \(replica.nodes.count) nodes but is no gang: \(Self.format(wantedGpus)) GPUs "
                         + "fit on one node of \(Self.format(gpusPerNode))")
                }
                for node in nodes {
                    for (key, amount) in workload.resources {
                        usage[node.name, default: [:]][key, default: 0] += amount
                    }
                }
            }
        }

        // MARK: Storage tiers

        private mutating func checkStorageTiers() {
            var owners: [String: String] = [:]
            for tier in manifests.tiers.values.sorted(by: { $0.name < $1.name }) {
                let resource = "StorageTier/\(tier.name)"
                guard let target = plan.tiers[tier.name] else {
                    flag("\(resource) is missing from target.storageTiers")
                    continue
                }
                let policy = policy(named: tier.redundancy)
                var rawTiB = 0.0
                var perDomain: [String: Double] = [:]
                var memberDomains: [[String]] = []
                for id in target.drives {
                    let parts = id.split(separator: "/", maxSplits: 1).map(String.init)
                    guard parts.count == 2, let node = manifests.nodes[parts[0]],
                          let drive = node.drives.first(where: { $0.id == parts[1] })
                    else {
                        flag("\(resource) has drive \(id), which the inventory does not have")
                        continue
                    }
                    if let owner = owners[id] {
                        flag("drive \(id) is in both StorageTier/\(owner) and \(resource)")
                    }
                    owners[id] = tier.name
                    hosting.insert(node.name)
                    if drive.media != tier.media {
                        flag("\(resource) has drive \(id) of media \(drive.media), not \(tier.media)")
                    }
                    if node.site != tier.site {
                        flag("\(resource) has drive \(id) in site \(node.site), not \(tier.site)")
                    }
                    if let unfit = unfitReason(of: node.name) {
                        flag("\(resource) has drive \(id) on \(node.name), which is \(unfit)")
                    }
                    if tier.encryptionRequired, !drive.selfEncrypting {
                        flag("\(resource) requires encryption but drive \(id) is not self-encrypting")
                    }
                    if !tier.selector.matches(node.labels) {
                        flag("\(resource) has drive \(id) on \(node.name), which does not match its nodeSelector")
                    }
                    rawTiB += drive.capacityTiB
                    let driveDomain = policy.map { domain(of: node.name, key: $0.failureDomain) } ?? node.name
                    perDomain[driveDomain, default: 0] += drive.capacityTiB
                    memberDomains.append([driveDomain])
                }
                if abs(rawTiB - target.rawTiB) > 1e-3 + 1e-9 * rawTiB {
                    flag("\(resource) reports rawTiB \(target.rawTiB); its drives add up to \(rawTiB)")
                }
                if target.satisfied {
                    let share = tier.usableTiB / Double(tier.dataChunks)
                    let covered = perDomain.values.reduce(0) { $0 + min($1, share) }
                    let needed = Double(tier.stripeWidth) * share
                    if covered < needed * (1 - 1e-9) - 1e-12 {
                        flag("\(resource) claims satisfied, but sum over domains of min(c_d, U/k) = "
                             + "\(Self.format(covered)) TiB < w*U/k = \(Self.format(needed)) TiB")
                    }
                } else if !hasError(on: resource) {
                    flag("\(resource) is not satisfied and the plan reports no error problem for it")
                }
                checkSpread(of: resource, memberDomains: memberDomains, policy: policy,
                            memberNoun: "drives", expectsMembers: tier.usableTiB > 0)
            }
        }

        // MARK: Power

        /// The estimated draw a node may show, from the least to the most (they differ only for
        /// gang nodes, whose GPUs may be counted as split or as taken whole).
        private func drawRange(of node: InventoryNode, on: Bool) -> (least: Double, most: Double) {
            guard on else { return (0, 0) }
            let span = node.maxW - node.idleW
            if let gang = gangs[node.name] {
                return (node.idleW + span * gang.leastFraction, node.maxW)
            }
            let draw = Self.draw(of: node, using: usage[node.name] ?? [:])
            return (draw, draw)
        }

        /// A powered-on node's draw with `used` resources of ordinary replicas on it.
        static func draw(of node: InventoryNode, using used: [String: Double]) -> Double {
            let fraction: Double
            if node.gpus > 0 {
                fraction = (used["gpus"] ?? 0) / node.gpus
            } else {
                fraction = node.capacity.compactMap { key, capacity in
                    capacity > 0 ? (used[key] ?? 0) / capacity : nil
                }.max() ?? 0
            }
            return node.idleW + (node.maxW - node.idleW) * fraction
        }

        /// The power-cap group of a node: its `rack` label, else the finest failure domain of its site.
        private func rack(of node: InventoryNode) -> String {
            let finest = manifests.sites[node.site]?.failureDomains.last
            return node.labels["rack"] ?? finest.flatMap { node.labels[$0] } ?? node.name
        }

        private mutating func checkPower() {
            for name in hosting.sorted() where plan.nodes[name]?.powerState != "on" {
                flag("Node/\(name) hosts a replica or a drive but its target powerState is not on")
            }
            var draw: [String: Double] = [:]
            var plannedTotal = 0.0
            for (name, entry) in plan.nodes.sorted(by: { $0.key < $1.key }) {
                guard let node = manifests.nodes[name] else { continue }
                let range = drawRange(of: node, on: entry.powerState == "on")
                guard let estimated = entry.estimatedW else {
                    flag("Node/\(name) has no estimatedW")
                    draw[name] = range.least
                    continue
                }
                plannedTotal += estimated
                if estimated < range.least - 0.5 || estimated > range.most + 0.5 {
                    let expected = range.least == range.most
                        ? Self.format(range.least)
                        : "\(Self.format(range.least))...\(Self.format(range.most))"
                    flag("Node/\(name) has estimatedW \(Self.format(estimated)); idleW + (maxW - idleW) * used "
                         + "fraction gives \(expected)")
                    draw[name] = range.least
                } else {
                    draw[name] = estimated
                }
            }
            if let plannedW = plan.plannedW, abs(plannedW - plannedTotal) > 0.5 * Double(plan.nodes.count) + 1 {
                flag("energy.plannedW is \(Self.format(plannedW)) but the target's estimatedW add up to "
                     + Self.format(plannedTotal))
            }
            draws = draw
            for policy in manifests.energyPolicies.sorted(by: { $0.name < $1.name }) {
                checkEnergyPolicy(policy)
            }
        }

        private mutating func checkEnergyPolicy(_ policy: EnergyPolicy) {
            let nodes = manifests.nodes.values.filter { $0.site == policy.site }.sorted { $0.name < $1.name }
            var perRack: [String: Double] = [:]
            for node in nodes where plan.nodes[node.name]?.powerState == "on" {
                perRack[rack(of: node), default: 0] += draws[node.name] ?? 0
            }
            rackDraws[policy.name] = perRack
            for (rack, watts) in perRack.sorted(by: { $0.key < $1.key }) {
                guard let capKW = policy.rackCapsKW[rack] ?? policy.rackPowerCapKW else { continue }
                if watts > capKW * 1000 + 0.5 {
                    flag("rack \(rack) of site \(policy.site) draws an estimated \(Self.format(watts)) W, over the "
                         + "\(Self.format(capKW)) kW cap of EnergyPolicy/\(policy.name)")
                }
            }
            if policy.powerOffIdle {
                let idle = nodes.filter { node in
                    node.health == "healthy" && !hosting.contains(node.name)
                        && plan.nodes[node.name]?.powerState == "on"
                }
                if idle.count > policy.keepWarm {
                    flag("site \(policy.site) keeps \(idle.count) healthy nodes on that host nothing "
                         + "(\(idle.map(\.name).joined(separator: ", "))); EnergyPolicy/\(policy.name) has "
                         + "powerOffIdle with keepWarm \(policy.keepWarm)")
                }
            }
        }

        // MARK: Placing as much as possible

        /// An unplaced ordinary replica must not fit anywhere in the target as it stands: on a
        /// healthy member of its pool, within capacity, spread and every rack cap. (Gangs are not
        /// judged here: finding whole free nodes in one domain is a search of its own.)
        private mutating func checkUnplacedReplicasHaveNoRoom() {
            for workload in manifests.workloads.values.sorted(by: { $0.name < $1.name }) {
                guard let target = plan.workloads[workload.name], target.unplaced > 0 else { continue }
                if let tenant = workload.tenant, !manifests.accessPolicies.isEmpty,
                   !(manifests.accessPolicies[tenant] ?? []).contains(where: {
                       $0.grants("use", kind: "HardwarePool", name: workload.pool)
                   }) {
                    continue
                }
                let members = membersByPool[workload.pool] ?? []
                let gpusPerNode = members.compactMap { manifests.nodes[$0]?.gpus }.max() ?? 0
                let wantedGpus = workload.resources["gpus"] ?? 0
                guard wantedGpus <= gpusPerNode else { continue }
                let policy = policy(named: workload.redundancy)
                var replicasPerDomain: [String: Int] = [:]
                if let policy {
                    for replica in target.replicas {
                        for value in Set(replica.nodes.map({ domain(of: $0, key: policy.failureDomain) })) {
                            replicasPerDomain[value, default: 0] += 1
                        }
                    }
                }
                if let room = members.first(where: { fits(workload, on: $0, policy: policy, replicasPerDomain) }) {
                    flag("Workload/\(workload.name) leaves \(target.unplaced) replica(s) unplaced, but one more fits on "
                         + "Node/\(room) within its capacity, the workload's spread and the rack power cap")
                }
            }
        }

        private func fits(
            _ workload: Workload, on name: String, policy: RedundancyPolicy?, _ replicasPerDomain: [String: Int]
        ) -> Bool {
            guard let node = manifests.nodes[name], node.health == "healthy", gangs[name] == nil,
                  plan.nodes[name] != nil
            else { return false }
            var used = usage[name] ?? [:]
            for (key, amount) in workload.resources {
                used[key, default: 0] += amount
                if used[key, default: 0] > (node.capacity[key] ?? 0) + 1e-9 { return false }
            }
            if let policy, let maxPerDomain = policy.maxPerDomain,
               replicasPerDomain[domain(of: name, key: policy.failureDomain), default: 0] >= maxPerDomain {
                return false
            }
            let added = Self.draw(of: node, using: used) - (draws[name] ?? 0)
            for energy in manifests.energyPolicies where energy.site == node.site {
                let rack = rack(of: node)
                guard let capKW = energy.rackCapsKW[rack] ?? energy.rackPowerCapKW else { continue }
                if (rackDraws[energy.name]?[rack] ?? 0) + added > capKW * 1000 - 1 { return false }
            }
            return true
        }

        static func format(_ value: Double) -> String {
            value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.3f", value)
        }
    }
}
