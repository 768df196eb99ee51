/// Everything the manifests ask for: the desired state, validated and cross-checked.
public struct DesiredState: Hashable, Sendable {
    public var sites: [String: Site] = [:]
    public var redundancyPolicies: [String: RedundancyPolicy] = [:]
    public var pools: [String: HardwarePool] = [:]
    public var workloads: [String: Workload] = [:]
    public var storageTiers: [String: StorageTier] = [:]
    public var accessPolicies: [String: AccessPolicy] = [:]
    public var energyPolicies: [String: EnergyPolicy] = [:]
    /// SHA-256 over the manifests' bytes, in the order read.
    public var digest: String = ""

    public init() {}

    /// The energy policy of a site (validation allows at most one per site).
    public func energyPolicy(site: String) -> EnergyPolicy? {
        energyPolicies.values.sorted { $0.metadata.name < $1.metadata.name }.first { $0.site == site }
    }

    public func policy(_ name: String?) -> RedundancyPolicy? {
        name.flatMap { redundancyPolicies[$0] }
    }

    /// Grants of `use` on pools, by access policy: what the local provider records.
    public var useGrants: [String: [String]] {
        var grants: [String: [String]] = [:]
        for (policyName, policy) in accessPolicies {
            let pools = self.pools.keys.sorted().filter { policy.allows("use", on: ResourceAddress(.hardwarePool, $0)) }
            if !pools.isEmpty { grants[policyName] = pools }
        }
        return grants
    }
}
