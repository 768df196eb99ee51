/// Whether one redundancy promise holds under a plan's target.
///
/// The promises are every HardwarePool, Workload and StorageTier that names a RedundancyPolicy,
/// and every StorageTier (its protection is a promise of its own). A promise is broken when the
/// plan has an error problem on that resource, or when the target itself shows it: a replica
/// left unplaced, a tier not satisfied, more members in one failure domain than the policy
/// allows, or fewer domains than it asks for.
public struct PromiseVerdict: Hashable, Sendable {
    public var resource: ResourceAddress
    /// The RedundancyPolicy the resource names, if any.
    public var policy: String?
    /// What the promise is: "RedundancyPolicy/rack-spread", "its protection (2 replicas)".
    public var promise: String
    /// Why it is broken, one entry per problem; empty when it holds.
    public var reasons: [String]

    public init(resource: ResourceAddress, policy: String?, promise: String, reasons: [String]) {
        self.resource = resource
        self.policy = policy
        self.promise = promise
        self.reasons = reasons
    }

    public var holds: Bool { reasons.isEmpty }

    /// "still meets RedundancyPolicy/rack-spread", or the reasons joined with "; ".
    public var message: String { holds ? "still meets \(promise)" : reasons.joined(separator: "; ") }

    /// A verdict per promise of `desired`, in resource order. Pure and deterministic.
    public static func evaluate(_ plan: Plan, desired: DesiredState, observed: ObservedState) -> [PromiseVerdict] {
        var verdicts: [PromiseVerdict] = []
        let target = plan.target

        func verdict(_ address: ResourceAddress, policy: RedundancyPolicy?, promise: String, targetFindings: [String]) -> PromiseVerdict {
            let problems = plan.problems.filter { $0.resource == address && $0.severity == .error }.sorted().map(\.message)
            return PromiseVerdict(resource: address, policy: policy?.metadata.name, promise: promise,
                                  reasons: problems.isEmpty ? targetFindings : problems)
        }

        for (name, pool) in desired.pools.sorted(by: { $0.key < $1.key }) {
            guard let policy = desired.policy(pool.redundancy) else { continue }
            let members = target.nodes.filter { $0.value.pool == name }.keys.sorted()
            var findings = spreadFindings(members.map { [$0] }, policy: policy, noun: "member", observed: observed)
            let failed = members.filter { observed.nodes[$0].map { $0.health == .failed } ?? true }
            if !failed.isEmpty { findings.insert("keeps failed member\(failed.count == 1 ? "" : "s") \(failed.joined(separator: ", "))", at: 0) }
            verdicts.append(verdict(ResourceAddress(.hardwarePool, name), policy: policy,
                                    promise: "RedundancyPolicy/\(policy.metadata.name)", targetFindings: findings))
        }

        for (name, workload) in desired.workloads.sorted(by: { $0.key < $1.key }) {
            guard let policy = desired.policy(workload.redundancy) else { continue }
            let state = target.workloads[name]
            let placed = state?.replicas ?? []
            let unplaced = state?.unplaced ?? workload.replicas
            var findings: [String] = []
            if unplaced > 0 { findings.append("\(unplaced) of \(workload.replicas) replica\(workload.replicas == 1 ? "" : "s") unplaced") }
            findings += spreadFindings(placed.map(\.nodes), policy: policy, noun: "replica", observed: observed)
            verdicts.append(verdict(ResourceAddress(.workload, name), policy: policy,
                                    promise: "RedundancyPolicy/\(policy.metadata.name)", targetFindings: findings))
        }

        for (name, tier) in desired.storageTiers.sorted(by: { $0.key < $1.key }) {
            let policy = desired.policy(tier.redundancy)
            let drives = target.storageTiers[name]?.drives ?? []
            var findings: [String] = []
            if target.storageTiers[name]?.satisfied != true {
                findings.append("its protection (\(tier.protection)) is not met")
            }
            if let policy {
                findings += spreadFindings(drives.map { [$0.node] }, policy: policy, noun: "drive", observed: observed)
            }
            let promise = policy.map { "RedundancyPolicy/\($0.metadata.name) and its protection (\(tier.protection))" }
                ?? "its protection (\(tier.protection))"
            verdicts.append(verdict(ResourceAddress(.storageTier, name), policy: policy, promise: promise, targetFindings: findings))
        }

        return verdicts.sorted { $0.resource < $1.resource }
    }

    /// What the target breaks of a policy's spread: a domain over `maxPerDomain`, or fewer
    /// domains than `minDomains`. Each member lies in the domains of its nodes.
    static func spreadFindings(_ members: [[String]], policy: RedundancyPolicy, noun: String, observed: ObservedState) -> [String] {
        guard !members.isEmpty else { return [] }
        let key = policy.failureDomain
        var count: [String: Int] = [:]
        for nodes in members {
            for domain in Set(nodes.map { observed.nodes[$0]?.labels[key] ?? $0 }) { count[domain, default: 0] += 1 }
        }
        var findings: [String] = []
        if let max = policy.maxPerDomain {
            for (domain, members) in count.sorted(by: { $0.key < $1.key }) where members > max {
                findings.append("\(members) \(noun)s in \(key) \(domain); RedundancyPolicy/\(policy.metadata.name) allows at most \(max)")
            }
        }
        if let min = policy.minDomains, count.count < min {
            findings.append("\(noun)s span \(count.count) \(key)\(count.count == 1 ? "" : "s"); RedundancyPolicy/\(policy.metadata.name) asks for at least \(min)")
        }
        return findings
    }
}
