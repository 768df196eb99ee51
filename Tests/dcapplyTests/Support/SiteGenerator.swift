import Foundation

/// Writes random but valid sites (manifests and a local inventory) for property tests.
///
/// The same seed always writes the same files. Demand may exceed supply: a plan for a generated
/// site must then report problems, never break a hard constraint.
struct SiteGenerator {
    /// SplitMix64: small, fast and the same on every platform, unlike the system generator.
    struct SplitMix64 {
        private var state: UInt64

        init(seed: UInt64) {
            state = seed
        }

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var mixed = state
            mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
            return mixed ^ (mixed >> 31)
        }

        mutating func int(in range: ClosedRange<Int>) -> Int {
            range.lowerBound + Int(next() % UInt64(range.count))
        }

        mutating func chance(_ probability: Double) -> Bool {
            Double(next() >> 11) / Double(UInt64(1) << 53) < probability
        }

        mutating func pick<Element>(_ items: [Element]) -> Element {
            items[int(in: 0...(items.count - 1))]
        }
    }

    /// What was written, for tests that want to know without parsing it back.
    struct Summary {
        let siteName: String
        let nodeNames: [String]
        let failedNodes: [String]
        let degradedNode: String?
    }

    private struct GPUModel {
        let name: String
        let count: Int
        let memoryGiB: Int
        let cpuCores: Int
        let memoryGiBPerNode: Int
        let idleW: Int
        let maxW: Int
        let fabric: String
    }

    private struct Rack {
        let number: Int
        let row: String
        var name: String { String(format: "r%02d", number) }
    }

    private struct Node {
        let name: String
        let rack: Rack
        let model: GPUModel
        let drives: [String]
        let powerState: String
        var health = "healthy"
    }

    private static let h100 = GPUModel(name: "H100", count: 8, memoryGiB: 80, cpuCores: 112,
                                       memoryGiBPerNode: 2048, idleW: 1100, maxW: 10200, fabric: "ib-ndr")
    private static let l40s = GPUModel(name: "L40S", count: 4, memoryGiB: 48, cpuCores: 64,
                                       memoryGiBPerNode: 1024, idleW: 400, maxW: 1900, fabric: "eth-100g")
    private static let letters = ["a", "b", "c", "d", "e"]

    /// Writes `site.yaml`, `inventory.yaml` and the other manifests into `directory`.
    ///
    /// - Parameter failures: how many GPU nodes the inventory marks `failed`; one more is `degraded`.
    @discardableResult
    func write(to directory: URL, seed: UInt64, failures: Int) throws -> Summary {
        var random = SplitMix64(seed: seed)
        let siteName = "gen-\(seed)"

        // Hardware: 3-8 racks in two rows, 2-6 GPU nodes each, some CPU-only nodes from a template.
        let rackCount = random.int(in: 3...8)
        let racks = (1...rackCount).map { Rack(number: $0, row: $0 <= (rackCount + 1) / 2 ? "1" : "2") }
        var nodes: [Node] = []
        for rack in racks {
            let rackModel = random.chance(0.6) ? Self.h100 : Self.l40s
            for index in 1...random.int(in: 2...6) {
                let model = random.chance(0.15) ? (rackModel.name == "H100" ? Self.l40s : Self.h100) : rackModel
                var drives: [String] = []
                if random.chance(0.5) {
                    let size = random.pick(["3.84", "7.68"])
                    let encrypting = random.chance(0.5)
                    for drive in 0..<random.int(in: 1...4) {
                        drives.append("{id: nvme\(drive), media: nvme, capacityTiB: \(size), "
                                      + "selfEncrypting: \(encrypting)}")
                    }
                }
                if random.chance(0.2) {
                    for drive in 0..<random.int(in: 2...4) {
                        drives.append("{id: hdd\(drive), media: hdd, capacityTiB: 16}")
                    }
                }
                nodes.append(Node(
                    name: String(format: "gpu-r%02d-n%02d", rack.number, index), rack: rack, model: model,
                    drives: drives, powerState: random.chance(0.85) ? "on" : "off"))
            }
        }
        var unhealthy = Array(nodes.indices)
        for position in unhealthy.indices.reversed() {  // Fisher-Yates with our own generator
            unhealthy.swapAt(position, random.int(in: 0...position))
        }
        let failedCount = min(failures, nodes.count - 1)
        for position in 0..<failedCount { nodes[unhealthy[position]].health = "failed" }
        let degradedIndex = unhealthy[failedCount]
        nodes[degradedIndex].health = "degraded"

        var templateRacks: [Rack] = []
        var templatePerRack = 0
        var templateHasDrives = false
        if random.chance(0.35) {
            let rowOne = racks.filter { $0.row == "1" }
            templateRacks = Array(rowOne.prefix(random.int(in: 1...min(2, rowOne.count))))
            templatePerRack = random.int(in: 1...2)
            templateHasDrives = random.chance(0.5)
        }
        let templateNodes = templateRacks.flatMap { rack in
            (1...max(templatePerRack, 1)).map { String(format: "cpu-r%02d-n%02d", rack.number, $0) }
        }

        let hasNVMe = nodes.contains { $0.drives.contains { $0.contains("media: nvme") } }
        let hasHDD = templateHasDrives || nodes.contains { $0.drives.contains { $0.contains("media: hdd") } }

        var files: [String: String] = [:]
        files["site.yaml"] = """
            apiVersion: dcapply/v1
            kind: Site
            metadata:
              name: \(siteName)
            spec:
              failureDomains: [row, rack]
              provider:
                local:
                  inventory: inventory.yaml

            """
        files["inventory.yaml"] = Self.inventory(nodes: nodes, templateRacks: templateRacks,
                                                 perRack: templatePerRack, withDrives: templateHasDrives)

        // Redundancy policies; those with spares are for pools only.
        var policies: [(name: String, hasSpares: Bool)] = []
        var policyText: [String] = []
        for index in 0..<random.int(in: 1...3) {
            let name = "policy-\(Self.letters[index])"
            let domain = random.pick(["rack", "row"])
            var spec = "  failureDomain: \(domain)\n"
            if random.chance(0.5) { spec += "  maxPerDomain: \(random.int(in: 1...4))\n" }
            if random.chance(0.4) { spec += "  minDomains: \(domain == "row" ? 2 : random.int(in: 2...3))\n" }
            let hasSpares = random.chance(0.3)
            if hasSpares { spec += "  spares: \(random.int(in: 1...2))\n" }
            if random.chance(0.3) { spec += "  maxUnavailable: 1\n" }
            policies.append((name, hasSpares))
            policyText.append(Self.document(kind: "RedundancyPolicy", name: name, spec: spec))
        }
        files["policies.yaml"] = policyText.joined(separator: "---\n")
        let plainPolicies = policies.filter { !$0.hasSpares }.map(\.name)

        // Hardware pools.
        let modelsPresent = Set(nodes.map(\.model.name)).sorted()
        var poolNames: [String] = []
        var poolText: [String] = []
        for index in 0..<random.int(in: 1...3) {
            let name = "pool-\(Self.letters[index])"
            var spec = "  site: \(siteName)\n"
            if random.chance(0.4) {
                switch random.int(in: 0...3) {
                case 0:
                    spec += "  nodeSelector:\n    matchExpressions:\n"
                        + "      - {key: rack, operator: NotIn, values: [\(random.pick(racks).name)]}\n"
                case 1:
                    spec += "  nodeSelector:\n    matchLabels: {row: \"\(random.pick(["1", "2"]))\"}\n"
                case 2:
                    spec += "  nodeSelector:\n    matchExpressions:\n      - {key: fabric, operator: Exists}\n"
                default:
                    let chosen = Set((0..<3).map { _ in random.pick(racks).name }).sorted()
                    spec += "  nodeSelector:\n    matchExpressions:\n"
                        + "      - {key: rack, operator: In, values: [\(chosen.joined(separator: ", "))]}\n"
                }
            }
            if random.chance(0.5) { spec += "  gpuModel: \(random.pick(modelsPresent))\n" }
            if random.chance(0.15) { spec += "  minGpuMemoryGiB: \(random.pick([48, 80]))\n" }
            let sizeRoll = random.int(in: 0...9)
            if sizeRoll < 4 {
                spec += "  size: {nodes: \(random.int(in: 1...6))}\n"
            } else if sizeRoll < 7 {
                spec += "  size: {gpus: \(4 * random.int(in: 2...16))}\n"
            }
            if random.chance(0.5) { spec += "  redundancy: \(random.pick(policies).name)\n" }
            poolNames.append(name)
            poolText.append(Self.document(kind: "HardwarePool", name: name, spec: spec))
        }
        files["pools.yaml"] = poolText.joined(separator: "---\n")

        // Workloads: some CPU-only, some gangs (more GPUs than one node has), some spread.
        var workloadText: [String] = []
        for index in 0..<random.int(in: 1...5) {
            let name = "job-\(Self.letters[index])"
            var spec = "  pool: \(random.pick(poolNames))\n"
            let kindRoll = random.int(in: 0...99)
            let cpuCores = 4 * random.int(in: 1...8)
            let memory = 32 * random.int(in: 1...8)
            if kindRoll < 15 {
                spec += "  replicas: \(random.int(in: 1...6))\n"
                spec += "  resources: {cpuCores: \(cpuCores), memoryGiB: \(memory)}\n"
            } else if kindRoll < 35 {
                spec += "  replicas: \(random.int(in: 1...2))\n"
                spec += "  resources: {gpus: \(random.pick([16, 24])), cpuCores: \(cpuCores), memoryGiB: \(memory)}\n"
                if random.chance(0.6) { spec += "  colocate: rack\n" }
            } else {
                spec += "  replicas: \(random.int(in: 1...6))\n"
                spec += "  resources: {gpus: \(random.pick([1, 2, 4, 8])), cpuCores: \(cpuCores), memoryGiB: \(memory)}\n"
            }
            if random.chance(0.4), !plainPolicies.isEmpty { spec += "  redundancy: \(random.pick(plainPolicies))\n" }
            if random.chance(0.5) { spec += "  priority: \(random.int(in: 0...100))\n" }
            workloadText.append(Self.document(kind: "Workload", name: name, spec: spec))
        }
        files["workloads.yaml"] = workloadText.joined(separator: "---\n")

        // Storage tiers on the media the inventory has.
        let media = (hasNVMe ? ["nvme"] : []) + (hasHDD ? ["hdd"] : [])
        var tierText: [String] = []
        if !media.isEmpty {
            for index in 0..<random.int(in: 0...2) {
                let tierMedia = random.pick(media)
                var spec = "  site: \(siteName)\n  media: \(tierMedia)\n"
                spec += "  usableTiB: \(tierMedia == "nvme" ? random.int(in: 2...20) : random.int(in: 10...80))\n"
                if random.chance(0.6) {
                    spec += "  protection: {replicas: \(random.int(in: 2...3))}\n"
                } else {
                    spec += "  protection: {erasure: {data: \(random.int(in: 2...4)), parity: \(random.int(in: 1...2))}}\n"
                }
                if random.chance(0.4), !plainPolicies.isEmpty { spec += "  redundancy: \(random.pick(plainPolicies))\n" }
                if random.chance(0.3) { spec += "  encryption: required\n" }
                tierText.append(Self.document(kind: "StorageTier", name: "tier-\(Self.letters[index])", spec: spec))
            }
        }
        if !tierText.isEmpty { files["storage.yaml"] = tierText.joined(separator: "---\n") }

        // Energy: a rack cap between 35% and 120% of the biggest rack's full draw.
        var rackMaxW: [String: Int] = [:]
        for node in nodes { rackMaxW[node.rack.name, default: 0] += node.model.maxW }
        for rack in templateRacks { rackMaxW[rack.name, default: 0] += 450 * templatePerRack }
        let biggestRack = rackMaxW.values.max() ?? 10_000
        let capKW = Double(biggestRack) * Double(random.int(in: 35...120)) / 100 / 1000
        var energy = "  site: \(siteName)\n  rackPowerCapKW: \(String(format: "%.1f", capKW))\n"
        if random.chance(0.3) {
            let rack = random.pick(racks).name
            let overrideKW = Double(rackMaxW[rack] ?? 10_000) * Double(random.int(in: 50...100)) / 100 / 1000
            energy += "  racks: {\(rack): {powerCapKW: \(String(format: "%.1f", overrideKW))}}\n"
        }
        energy += "  powerOffIdle: \(random.chance(0.5))\n  keepWarm: \(random.int(in: 0...2))\n"
        files["energy.yaml"] = Self.document(kind: "EnergyPolicy", name: "energy", spec: energy)

        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return Summary(
            siteName: siteName,
            nodeNames: nodes.map(\.name) + templateNodes,
            failedNodes: nodes.filter { $0.health == "failed" }.map(\.name),
            degradedNode: nodes[degradedIndex].name)
    }

    private static func document(kind: String, name: String, spec: String) -> String {
        "apiVersion: dcapply/v1\nkind: \(kind)\nmetadata:\n  name: \(name)\nspec:\n\(spec)"
    }

    private static func inventory(nodes: [Node], templateRacks: [Rack], perRack: Int, withDrives: Bool) -> String {
        var text = "apiVersion: dcapply/v1\nkind: Inventory\nnodes:\n"
        for node in nodes {
            let model = node.model
            text += "  - name: \(node.name)\n"
            text += "    labels: {row: \"\(node.rack.row)\", rack: \"\(node.rack.name)\", "
                + "leafSwitch: \"leaf-\(String(format: "%02d", node.rack.number))\", fabric: \"\(model.fabric)\"}\n"
            text += "    gpus: {model: \(model.name), count: \(model.count), memoryGiB: \(model.memoryGiB)}\n"
            text += "    capacity: {cpuCores: \(model.cpuCores), memoryGiB: \(model.memoryGiBPerNode)}\n"
            if !node.drives.isEmpty {
                text += "    drives:\n" + node.drives.map { "      - \($0)\n" }.joined()
            }
            text += "    power: {idleW: \(model.idleW), maxW: \(model.maxW)}\n"
            text += "    health: \(node.health)\n"
            text += "    powerState: \(node.powerState)\n"
        }
        if !templateRacks.isEmpty {
            text += """
                templates:
                  - namePattern: "cpu-r{rack:02}-n{index:02}"
                    racks: [\(templateRacks.map { String($0.number) }.joined(separator: ", "))]
                    perRack: \(perRack)
                    labels: {row: "1", rack: "r{rack:02}", leafSwitch: "leaf-{rack:02}"}
                    capacity: {cpuCores: 64, memoryGiB: 512}
                    power: {idleW: 150, maxW: 450}

                """
            if withDrives {
                text += "    drives:\n      - {id: hdd0, media: hdd, capacityTiB: 16}\n"
            }
        }
        return text
    }
}
