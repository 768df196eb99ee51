import Foundation

/// The embedded default provider: hardware described in a YAML inventory file, overlaid with
/// what dcapply keeps in its state store (failures rehearsed with `inventory set`, power states
/// reached by applies).
public struct LocalProvider: HardwareProvider {
    public let store: any LocalHardwareStore
    public let limits: InputLimits
    /// Where the inventory file is read from: the disk, or the commit the manifests came from.
    public let inventory: InventoryReader

    public init(store: any LocalHardwareStore, limits: InputLimits = .standard, inventory: InventoryReader = .disk) {
        self.store = store
        self.limits = limits
        self.inventory = inventory
    }

    public func observe(site: Site) throws -> (nodes: [ObservedNode], diagnostics: [Diagnostic]) {
        guard case .local(let path, let declared, let declaredAt) = site.provider else {
            throw DCApplyError(.provider, "Site \(site.metadata.name) does not use the local provider")
        }
        guard let read = inventory.read(path, limits) else {
            return ([], [.error("inventory file \(quoted(declared)) not found (looked for \(path))", at: declaredAt, field: "spec.provider.local.inventory")])
        }
        switch read {
        case .failure(let diagnostic):
            return ([], [diagnostic])
        case .success(let source):
            var (nodes, diagnostics) = InventoryParser(limits: limits).parse(source, site: site.metadata.name)
            let overrides = try store.overrides()
            for index in nodes.indices {
                guard let override = overrides[nodes[index].name] else { continue }
                if let health = override.health { nodes[index].health = health }
                if let power = override.powerState { nodes[index].powerState = power }
            }
            diagnostics += SiteChecker.checkLabels(nodes, site: site)
            return (nodes, diagnostics)
        }
    }

    public func setPower(_ state: PowerState, node: String, site: Site) throws {
        // The local hardware lives in the state store: the power state is reached the moment it
        // is recorded, before the apply journals the action done, as a real BMC would be.
        try store.setOverride(node: node, health: nil, powerState: .some(state))
    }
}

/// Checks that need both the manifests and the observed nodes.
public enum SiteChecker {
    /// Every node carries every failure-domain label of its site.
    static func checkLabels(_ nodes: [ObservedNode], site: Site) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        for node in nodes {
            let missing = site.failureDomains.filter { node.labels[$0] == nil }
            if !missing.isEmpty {
                diagnostics.append(.error("node \(quoted(node.name)) lacks the failure-domain label\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) that Site \(site.metadata.name) lists", at: node.source, field: "labels"))
            }
        }
        return diagnostics
    }

    /// Workload resource keys that no node offers, and node names used by two sites.
    public static func check(_ desired: DesiredState, observed: ObservedState, locations: ManifestParser.Locations) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        let offered = Set(observed.nodes.values.flatMap { $0.capacity.filter { $0.value > 0 }.keys })
        for (name, policy) in desired.energyPolicies.sorted(by: { $0.key < $1.key }) {
            guard let site = desired.sites[policy.site] else { continue }
            let racks = Set(observed.nodes.values.filter { $0.site == policy.site }.compactMap { $0.labels[site.powerDomain] })
            for rack in policy.rackCapsKW.keys.sorted() where !racks.contains(rack) {
                diagnostics.append(.warning("rack \(quoted(rack)) has no node in site \(policy.site) (label \(site.powerDomain)); its cap applies to nothing",
                                            at: locations.location(of: ResourceAddress(.energyPolicy, name), field: "spec.racks"), field: "spec.racks.\(rack)"))
            }
        }
        for (name, workload) in desired.workloads.sorted(by: { $0.key < $1.key }) {
            let address = ResourceAddress(.workload, name)
            for key in workload.resources.keys.sorted() where (workload.resources[key] ?? 0) > 0 && !offered.contains(key) {
                let hint = Names.closest(to: key, in: Array(offered)).map { "; did you mean \(quoted($0))?" } ?? ""
                diagnostics.append(.error("asks for resource \(quoted(key)), which no node offers (offered: \(offered.sorted().joined(separator: ", ")))\(hint)",
                                          at: locations.location(of: address, field: "spec.resources"), field: "spec.resources.\(key)"))
            }
            if let colocate = workload.colocate, let pool = desired.pools[workload.pool],
               !observed.nodes.values.contains(where: { $0.site == pool.site && $0.labels[colocate] != nil }) {
                diagnostics.append(.warning("no node of site \(pool.site) carries the label \(quoted(colocate))", at: locations.location(of: address, field: "spec.colocate"), field: "spec.colocate"))
            }
        }
        return diagnostics
    }
}
