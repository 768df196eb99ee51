/// Assigns whole drives to one storage tier until its protection rule holds:
/// `sum over domains d of min(c_d, U/k) >= w * U/k`.
struct TierPlacer {
    let tier: StorageTier
    var model: PlacementModel
    let key: String?
    let policy: RedundancyPolicy?

    init(tier: StorageTier, model: PlacementModel) {
        self.tier = tier
        self.model = model
        policy = model.desired.policy(tier.redundancy)
        key = policy?.failureDomain
    }

    struct Candidate {
        let node: Int
        let drive: Drive
        var address: DriveAddress
    }

    func domain(_ node: Int) -> String { key.map { model.domain(node, key: $0) } ?? "node:\(model.nodes[node].name)" }

    /// The protected capacity the drives give, and what the rule needs.
    static func effective(_ perDomain: [String: Double], tier: StorageTier) -> (have: Double, need: Double) {
        let share = tier.usableTiB / Double(tier.protection.dataChunks)
        let have = perDomain.sorted { $0.key < $1.key }.reduce(0) { $0 + min($1.value, share) }
        return (have, Double(tier.protection.width) * share)
    }

    func satisfied(_ perDomain: [String: Double]) -> Bool {
        let (have, need) = Self.effective(perDomain, tier: tier)
        return have >= need * (1 - Tolerance.protection)
    }

    func qualifies(_ node: Int, _ drive: Drive) -> Bool {
        let host = model.nodes[node]
        guard host.site == tier.site, drive.media == tier.media, HealthRule.keeps(host.health) else { return false }
        if !EncryptionRule.allows(drive, for: tier) { return false }
        if let selector = tier.nodeSelector, !selector.matches(host.labels) { return false }
        return true
    }

    mutating func place(keeping current: Set<DriveAddress>, unavailable: Set<DriveAddress>, problems: inout [Problem]) -> TargetState.TierState {
        let address = ResourceAddress(.storageTier, tier.metadata.name)
        var all: [Candidate] = []
        for (position, node) in model.nodes.enumerated() {
            for drive in node.drives where qualifies(position, drive) {
                all.append(Candidate(node: position, drive: drive, address: DriveAddress(node: node.name, drive: drive.id)))
            }
        }
        var chosen: [Candidate] = []
        var perDomain: [String: Double] = [:]
        var drivesPerDomain: [String: Int] = [:]
        let limit = policy?.maxPerDomain ?? .max
        func take(_ candidate: Candidate) {
            chosen.append(candidate)
            perDomain[domain(candidate.node), default: 0] += candidate.drive.capacityTiB
            drivesPerDomain[domain(candidate.node), default: 0] += 1
            model.driveCount[candidate.node] += 1
            if !model.on[candidate.node] { model.powerOn(candidate.node) }
        }
        // Keep the current drives that still qualify, within the spread and power limits.
        for candidate in all where current.contains(candidate.address) {
            guard SpreadRule.allows(placed: drivesPerDomain[domain(candidate.node), default: 0], limit: limit),
                  model.on[candidate.node] || model.canPowerOn(candidate.node) else { continue }
            take(candidate)
        }
        // Release drives beyond what the rule needs (the tier shrank), the highest addresses first.
        for candidate in chosen.sorted(by: { $0.address > $1.address }) {
            var without = perDomain
            without[domain(candidate.node), default: 0] -= candidate.drive.capacityTiB
            let leavesDomain = drivesPerDomain[domain(candidate.node), default: 0] == 1
            if satisfied(without) && !(leavesDomain && drivesPerDomain.values.filter({ $0 > 0 }).count <= (policy?.minDomains ?? 0)) {
                perDomain = without
                drivesPerDomain[domain(candidate.node), default: 0] -= 1
                chosen.removeAll { $0.address == candidate.address }
                model.driveCount[candidate.node] -= 1
            }
        }
        // Add drives with the largest gain until the rule holds: drives on nodes already on
        // first, then larger drives, then by name.
        let share = tier.usableTiB / Double(tier.protection.dataChunks)
        var pool = all.filter { candidate in
            !current.contains(candidate.address) && !unavailable.contains(candidate.address) && HealthRule.takesNew(model.nodes[candidate.node].health)
        }
        let minDomains = policy?.minDomains ?? 0
        func domainsUsed() -> Int { drivesPerDomain.values.filter { $0 > 0 }.count }
        while !satisfied(perDomain) || domainsUsed() < minDomains {
            let wantNewDomain = domainsUsed() < minDomains
            func gain(_ c: Candidate) -> Double {
                let have = perDomain[domain(c.node), default: 0]
                return min(have + c.drive.capacityTiB, share) - min(have, share)
            }
            let usable = pool.filter { c in
                (wantNewDomain ? drivesPerDomain[domain(c.node), default: 0] == 0 : gain(c) > 0)
                    && SpreadRule.allows(placed: drivesPerDomain[domain(c.node), default: 0], limit: limit)
                    && (model.on[c.node] || model.canPowerOn(c.node))
            }
            guard let best = usable.min(by: { a, b in
                (-gain(a), model.on[a.node] ? 0 : 1, a.address) < (-gain(b), model.on[b.node] ? 0 : 1, b.address)
            }) else { break }
            pool.removeAll { $0.address == best.address }
            take(best)
        }
        let raw = chosen.reduce(0) { $0 + $1.drive.capacityTiB }
        let ok = satisfied(perDomain) && domainsUsed() >= minDomains
        let spread = key ?? "node"
        if !satisfied(perDomain) {
            let (have, need) = Self.effective(perDomain, tier: tier)
            // What every qualifying healthy drive not held by another tier could give.
            var eligiblePerDomain: [String: Double] = [:]
            for c in all where model.nodes[c.node].health == .healthy && (!unavailable.contains(c.address) || current.contains(c.address)) {
                eligiblePerDomain[domain(c.node), default: 0] += c.drive.capacityTiB
            }
            let (possible, _) = Self.effective(eligiblePerDomain, tier: tier)
            let eligibleDomains = eligiblePerDomain.count
            var message = "needs \(fmt(need)) TiB of raw capacity spread so that no \(spread) counts beyond \(fmt(share)) TiB (\(tier.protection) across \(tier.protection.width) \(spread)s); it has \(fmt(have)) TiB, and all eligible drives would give \(fmt(possible)) TiB over \(eligibleDomains) \(spread)\(eligibleDomains == 1 ? "" : "s")"
            if let max = policy?.maxPerDomain { message += "; RedundancyPolicy/\(policy?.metadata.name ?? "") allows at most \(max) drive\(max == 1 ? "" : "s") per \(spread)" }
            if tier.encryptionRequired { message += " (self-encrypting \(tier.media.rawValue) drives only)" }
            if eligibleDomains < tier.protection.width {
                message += "; add drives in \(tier.protection.width - eligibleDomains) more \(spread)\(tier.protection.width - eligibleDomains == 1 ? "" : "s")"
            }
            problems.append(Problem(.error, address, message))
        } else if domainsUsed() < minDomains {
            problems.append(Problem(.error, address, "drives span \(domainsUsed()) \(spread)\(domainsUsed() == 1 ? "" : "s"); RedundancyPolicy/\(policy?.metadata.name ?? "") asks for at least \(minDomains)"))
        }
        return TargetState.TierState(drives: chosen.map(\.address), rawTiB: raw, satisfied: ok)
    }

    private func fmt(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }
}
