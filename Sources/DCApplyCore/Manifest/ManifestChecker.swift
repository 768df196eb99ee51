/// Checks references between manifests: pool → site, workload → pool, tenant and policy,
/// failure-domain keys listed by the Site, tenant `use` grants, one energy policy per site.
struct ManifestChecker {
    let state: DesiredState
    let locations: ManifestParser.Locations
    private(set) var diagnostics: [Diagnostic] = []

    init(state: DesiredState, locations: ManifestParser.Locations) {
        self.state = state
        self.locations = locations
    }

    private mutating func error(_ message: String, _ address: ResourceAddress, field: String) {
        diagnostics.append(.error(message, at: locations.location(of: address, field: field), field: field))
    }

    private mutating func warning(_ message: String, _ address: ResourceAddress, field: String) {
        diagnostics.append(.warning(message, at: locations.location(of: address, field: field), field: field))
    }

    private func names(_ keys: Dictionary<String, some Any>.Keys) -> String {
        keys.isEmpty ? "none is declared" : "declared: \(keys.sorted().joined(separator: ", "))"
    }

    private mutating func requireSite(_ site: String, _ address: ResourceAddress) {
        if state.sites[site] == nil {
            let hint = Names.closest(to: site, in: Array(state.sites.keys)).map { "; did you mean \(quoted($0))?" } ?? ""
            error("Site \(quoted(site)) does not exist (\(names(state.sites.keys)))\(hint)", address, field: "spec.site")
        }
    }

    /// Checks the named policy exists and its failure domain is one of the site's.
    private mutating func requirePolicy(_ name: String?, site: String?, _ address: ResourceAddress) {
        guard let name else { return }
        // An invalid policy or site is reported once, where it is written; not again here.
        if locations.invalid.contains(ResourceAddress(.redundancyPolicy, name)) { return }
        guard let policy = state.redundancyPolicies[name] else {
            let hint = Names.closest(to: name, in: Array(state.redundancyPolicies.keys)).map { "; did you mean \(quoted($0))?" } ?? ""
            return error("RedundancyPolicy \(quoted(name)) does not exist (\(names(state.redundancyPolicies.keys)))\(hint)", address, field: "spec.redundancy")
        }
        if let site, !locations.invalid.contains(ResourceAddress(.site, site)),
           let domains = state.sites[site]?.failureDomains, !domains.contains(policy.failureDomain) {
            error("RedundancyPolicy \(quoted(name)) spreads by \(quoted(policy.failureDomain)), which Site \(quoted(site)) does not list in failureDomains (\(domains.joined(separator: ", ")))", address, field: "spec.redundancy")
        }
        if address.kind != Kind.hardwarePool.rawValue, policy.spares > 0 {
            warning("RedundancyPolicy \(quoted(name)) sets spares, which applies to pools only; ignored here", address, field: "spec.redundancy")
        }
    }

    mutating func check() -> [Diagnostic] {
        let invalid = locations.invalid
        for (name, pool) in state.pools.sorted(by: { $0.key < $1.key }) {
            let address = ResourceAddress(.hardwarePool, name)
            if invalid.contains(address) { continue }
            requireSite(pool.site, address)
            requirePolicy(pool.redundancy, site: pool.site, address)
        }
        for (name, workload) in state.workloads.sorted(by: { $0.key < $1.key }) {
            let address = ResourceAddress(.workload, name)
            if invalid.contains(address) { continue }
            guard let pool = state.pools[workload.pool] else {
                let hint = Names.closest(to: workload.pool, in: Array(state.pools.keys)).map { "; did you mean \(quoted($0))?" } ?? ""
                error("HardwarePool \(quoted(workload.pool)) does not exist (\(names(state.pools.keys)))\(hint)", address, field: "spec.pool")
                continue
            }
            requirePolicy(workload.redundancy, site: pool.site, address)
            if let tenant = workload.tenant {
                if let policy = state.accessPolicies[tenant] {
                    if !policy.allows("use", on: ResourceAddress(.hardwarePool, workload.pool)) {
                        error("tenant \(quoted(tenant)) is not granted use on HardwarePool/\(workload.pool): add a rule {kinds: [HardwarePool], names: [\(workload.pool)], verbs: [use]} to AccessPolicy/\(tenant)", address, field: "spec.tenant")
                    }
                } else {
                    let hint = Names.closest(to: tenant, in: Array(state.accessPolicies.keys)).map { "; did you mean \(quoted($0))?" } ?? ""
                    error("AccessPolicy \(quoted(tenant)) does not exist (\(names(state.accessPolicies.keys)))\(hint)", address, field: "spec.tenant")
                }
            }
        }
        for (name, tier) in state.storageTiers.sorted(by: { $0.key < $1.key }) {
            let address = ResourceAddress(.storageTier, name)
            if invalid.contains(address) { continue }
            requireSite(tier.site, address)
            requirePolicy(tier.redundancy, site: tier.site, address)
        }
        var energyBySite: [String: String] = [:]
        for (name, policy) in state.energyPolicies.sorted(by: { $0.key < $1.key }) {
            let address = ResourceAddress(.energyPolicy, name)
            if invalid.contains(address) { continue }
            requireSite(policy.site, address)
            if let other = energyBySite[policy.site] {
                let first = locations.resources[ResourceAddress(.energyPolicy, other)].map { " (at \($0))" } ?? ""
                error("Site \(quoted(policy.site)) already has EnergyPolicy/\(other)\(first); a site takes one energy policy", address, field: "spec.site")
            }
            energyBySite[policy.site] = name
        }
        return diagnostics
    }
}
