@testable import DCApplyCore
import Testing

/// A site built from YAML text through the real parsers, without touching the disk.
struct TestSite {
    var desired: DesiredState
    var observed: ObservedState

    init(manifests: String, inventory: String, site: String = "s1", sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let (desired, _, diagnostics) = ManifestParser().parse([SourceFile(path: "site.yaml", text: manifests)])
        #expect(!diagnostics.hasErrors, "manifests: \(diagnostics)", sourceLocation: sourceLocation)
        let (nodes, inventoryDiagnostics) = InventoryParser().parse(SourceFile(path: "inventory.yaml", text: inventory), site: site)
        #expect(!inventoryDiagnostics.hasErrors, "inventory: \(inventoryDiagnostics)", sourceLocation: sourceLocation)
        self.desired = desired
        self.observed = ObservedState(nodes: Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, $0) }))
    }

    func solve(current: TargetState = .empty) -> PlacementResult {
        PortfolioPlacementSolver().solve(PlacementInput(desired: desired, observed: observed, current: current))
    }

    func plan(current: TargetState = .empty) -> Plan {
        Planner().plan(desired: desired, observed: observed, current: current, placement: solve(current: current))
    }

    mutating func setHealth(_ node: String, _ health: Health) { observed.nodes[node]?.health = health }

    /// Site s1 with failure domains [rack] and the local provider, plus the given documents.
    static func manifests(_ documents: String, energy: String? = nil) -> String {
        var text = """
            apiVersion: dcapply/v1
            kind: Site
            metadata: {name: s1}
            spec:
              failureDomains: [rack]
              provider: {local: {inventory: inventory.yaml}}
            """
        if let energy { text += "\n---\napiVersion: dcapply/v1\nkind: EnergyPolicy\nmetadata: {name: e1}\nspec: {site: s1, \(energy)}" }
        return text + "\n---\n" + documents
    }

    /// `racks` racks of `perRack` GPU nodes (8 GPUs, 1 kW idle, 10 kW max), named gN-rR-nI.
    static func gpuInventory(racks: Int, perRack: Int, gpus: Int = 8, model: String = "H100", drives: String = "[]", extra: String = "") -> String {
        """
        apiVersion: dcapply/v1
        kind: Inventory
        templates:
          - namePattern: "g-r{rack:02}-n{index:02}"
            racks: [\((1...racks).map(String.init).joined(separator: ", "))]
            perRack: \(perRack)
            labels: {rack: "r{rack:02}", leaf: "leaf{rack}"}
            gpus: {model: \(model), count: \(gpus), memoryGiB: 80}
            capacity: {cpuCores: 64, memoryGiB: 1024}
            power: {idleW: 1000, maxW: 10000}
            drives: \(drives)
        \(extra)
        """
    }
}

extension PlacementResult {
    func members(of pool: String) -> [String] {
        target.nodes.filter { $0.value.pool == pool }.keys.sorted()
    }

    func replicas(of workload: String) -> [ReplicaPlacement] { target.workloads[workload]?.replicas ?? [] }

    func gpusUsed(on node: String, site: TestSite) -> Double {
        var used = 0.0
        for (name, state) in target.workloads {
            for replica in state.replicas where replica.nodes.contains(node) {
                used += replica.nodes.count > 1 ? Double(site.observed.nodes[node]?.gpuCount ?? 0) : site.desired.workloads[name]?.resources["gpus"] ?? 0
            }
        }
        return used
    }
}
