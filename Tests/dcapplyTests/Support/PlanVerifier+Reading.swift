import Foundation
import Yams

// MARK: - Reading the manifests

extension PlanVerifier.Manifests {
    typealias Verifier = PlanVerifier
    typealias YAMLValue = PlanVerifier.YAMLValue

    /// Reads every manifest under `directory` (or the one file) and the local inventories they name.
    static func load(from directory: URL, healthOverrides: [String: String] = [:]) throws -> Self {
        var manifests = Self()
        var siteFiles: [(Verifier.Site, URL)] = []
        for file in try manifestFiles(at: directory) {
            let text = try String(contentsOf: file, encoding: .utf8)
            for document in try YAMLValue.documents(in: text, file: file) {
                guard let kind = YAMLValue.text(document["kind"]) else { continue }
                let name = YAMLValue.text(document["metadata"]?["name"]) ?? ""
                let spec = document["spec"]
                switch kind {
                case "Site":
                    let inventory = YAMLValue.text(spec?["provider"]?["local"]?["inventory"])
                    guard let inventory else {
                        throw Verifier.ReadError(description: "Site/\(name): only the local provider can be verified")
                    }
                    let base = file.deletingLastPathComponent()
                    let inventoryURL = inventory.hasPrefix("/")
                        ? URL(fileURLWithPath: inventory)
                        : base.appendingPathComponent(inventory)
                    let site = Verifier.Site(
                        name: name,
                        failureDomains: YAMLValue.list(spec?["failureDomains"]).compactMap(YAMLValue.text),
                        inventoryFile: inventoryURL.standardizedFileURL)
                    manifests.sites[name] = site
                    siteFiles.append((site, file))
                case "RedundancyPolicy":
                    manifests.policies[name] = Verifier.RedundancyPolicy(
                        name: name,
                        failureDomain: YAMLValue.text(spec?["failureDomain"]) ?? "",
                        maxPerDomain: YAMLValue.int(spec?["maxPerDomain"]),
                        minDomains: YAMLValue.int(spec?["minDomains"]),
                        spares: YAMLValue.int(spec?["spares"]) ?? 0)
                case "HardwarePool":
                    manifests.pools[name] = Verifier.HardwarePool(
                        name: name,
                        site: YAMLValue.text(spec?["site"]) ?? "",
                        selector: YAMLValue.selector(spec?["nodeSelector"]),
                        gpuModel: YAMLValue.text(spec?["gpuModel"]),
                        minGpuMemoryGiB: YAMLValue.number(spec?["minGpuMemoryGiB"]),
                        sizeNodes: YAMLValue.int(spec?["size"]?["nodes"]),
                        sizeGpus: YAMLValue.int(spec?["size"]?["gpus"]),
                        redundancy: YAMLValue.text(spec?["redundancy"]))
                case "Workload":
                    manifests.workloads[name] = Verifier.Workload(
                        name: name,
                        pool: YAMLValue.text(spec?["pool"]) ?? "",
                        tenant: YAMLValue.text(spec?["tenant"]),
                        replicas: YAMLValue.int(spec?["replicas"]) ?? 0,
                        resources: YAMLValue.numberMap(spec?["resources"]),
                        redundancy: YAMLValue.text(spec?["redundancy"]),
                        colocate: YAMLValue.text(spec?["colocate"]))
                case "StorageTier":
                    let protection = spec?["protection"]
                    var dataChunks = 1
                    var stripeWidth = YAMLValue.int(protection?["replicas"]) ?? 1
                    if let erasure = protection?["erasure"] {
                        dataChunks = YAMLValue.int(erasure["data"]) ?? 1
                        stripeWidth = dataChunks + (YAMLValue.int(erasure["parity"]) ?? 0)
                    }
                    manifests.tiers[name] = Verifier.StorageTier(
                        name: name,
                        site: YAMLValue.text(spec?["site"]) ?? "",
                        media: YAMLValue.text(spec?["media"]) ?? "",
                        usableTiB: YAMLValue.number(spec?["usableTiB"]) ?? 0,
                        dataChunks: max(dataChunks, 1),
                        stripeWidth: stripeWidth,
                        redundancy: YAMLValue.text(spec?["redundancy"]),
                        encryptionRequired: YAMLValue.text(spec?["encryption"]) == "required",
                        selector: YAMLValue.selector(spec?["nodeSelector"]))
                case "EnergyPolicy":
                    var rackCaps: [String: Double] = [:]
                    for (rack, override) in YAMLValue.pairs(spec?["racks"]) {
                        if let cap = YAMLValue.number(override["powerCapKW"]) { rackCaps[rack] = cap }
                    }
                    manifests.energyPolicies.append(Verifier.EnergyPolicy(
                        name: name,
                        site: YAMLValue.text(spec?["site"]) ?? "",
                        rackPowerCapKW: YAMLValue.number(spec?["rackPowerCapKW"]),
                        rackCapsKW: rackCaps,
                        powerOffIdle: YAMLValue.bool(spec?["powerOffIdle"]) ?? false,
                        keepWarm: YAMLValue.int(spec?["keepWarm"]) ?? 0))
                case "AccessPolicy":
                    manifests.accessPolicies[name] = YAMLValue.list(spec?["rules"]).map { rule in
                        Verifier.AccessRule(
                            kinds: YAMLValue.list(rule["kinds"]).compactMap(YAMLValue.text),
                            names: YAMLValue.list(rule["names"]).compactMap(YAMLValue.text),
                            verbs: YAMLValue.list(rule["verbs"]).compactMap(YAMLValue.text))
                    }
                default:
                    continue  // Inventory documents and kinds this oracle does not need
                }
            }
        }
        for (site, _) in siteFiles {
            for node in try PlanVerifier.InventoryReader.nodes(in: site.inventoryFile, site: site.name) {
                var node = node
                if let health = healthOverrides[node.name] {
                    node = PlanVerifier.InventoryNode(
                        name: node.name, site: node.site, labels: node.labels, gpuModel: node.gpuModel,
                        gpuMemoryGiB: node.gpuMemoryGiB, capacity: node.capacity, drives: node.drives,
                        idleW: node.idleW, maxW: node.maxW, health: health)
                }
                manifests.nodes[node.name] = node
            }
        }
        return manifests
    }

    /// The `*.yaml` and `*.yml` files under `url`, in byte order of the path, skipping dot names.
    static func manifestFiles(at url: URL) throws -> [URL] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw PlanVerifier.ReadError(description: "\(url.path) does not exist")
        }
        guard isDirectory.boolValue else { return [url] }
        var found: [URL] = []
        func walk(_ directory: URL) throws {
            let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            for name in names where !name.hasPrefix(".") {
                let child = directory.appendingPathComponent(name)
                var childIsDirectory: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: child.path, isDirectory: &childIsDirectory)
                if childIsDirectory.boolValue {
                    try walk(child)
                } else if name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                    found.append(child)
                }
            }
        }
        try walk(url)
        return found.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
    }
}

extension PlanVerifier {
    /// Reads a local inventory file, expanding its templates.
    enum InventoryReader {
        static func nodes(in file: URL, site: String) throws -> [InventoryNode] {
            let text: String
            do {
                text = try String(contentsOf: file, encoding: .utf8)
            } catch {
                throw ReadError(description: "cannot read the inventory \(file.path): \(error)")
            }
            var nodes: [InventoryNode] = []
            for document in try YAMLValue.documents(in: text, file: file) {
                for entry in YAMLValue.list(document["nodes"]) {
                    nodes.append(node(from: entry, site: site, substitute: { $0 }))
                }
                for template in YAMLValue.list(document["templates"]) {
                    let pattern = YAMLValue.text(template["namePattern"]) ?? ""
                    var racks = YAMLValue.list(template["racks"]).compactMap(YAMLValue.text)
                    if racks.isEmpty { racks = [""] }
                    let perRack = YAMLValue.int(template["perRack"]) ?? 1
                    for rack in racks {
                        for index in 1...max(perRack, 1) {
                            let substitute = { (text: String) in expand(text, rack: rack, index: index) }
                            nodes.append(node(from: template, site: site, named: substitute(pattern),
                                              substitute: substitute))
                        }
                    }
                }
            }
            return nodes
        }

        static func node(
            from entry: Yams.Node, site: String, named: String? = nil,
            substitute: (String) -> String
        ) -> InventoryNode {
            let gpus = entry["gpus"]
            var capacity = YAMLValue.numberMap(entry["capacity"])
            if capacity["gpus"] == nil, let count = YAMLValue.number(gpus?["count"]) {
                capacity["gpus"] = count
            }
            let drives = YAMLValue.list(entry["drives"]).map { drive in
                Drive(id: substitute(YAMLValue.text(drive["id"]) ?? ""),
                      media: YAMLValue.text(drive["media"]) ?? "",
                      capacityTiB: YAMLValue.number(drive["capacityTiB"]) ?? 0,
                      selfEncrypting: YAMLValue.bool(drive["selfEncrypting"]) ?? false)
            }
            return InventoryNode(
                name: named ?? YAMLValue.text(entry["name"]) ?? "",
                site: site,
                labels: YAMLValue.stringMap(entry["labels"]).mapValues(substitute),
                gpuModel: YAMLValue.text(gpus?["model"]),
                gpuMemoryGiB: YAMLValue.number(gpus?["memoryGiB"]),
                capacity: capacity,
                drives: drives,
                idleW: YAMLValue.number(entry["power"]?["idleW"]) ?? 0,
                maxW: YAMLValue.number(entry["power"]?["maxW"]) ?? 0,
                health: YAMLValue.text(entry["health"]) ?? "healthy")
        }

        /// Replaces `{rack}` and `{index}`, with an optional `:0N` zero padding, in `text`.
        static func expand(_ text: String, rack: String, index: Int) -> String {
            var result = ""
            var rest = Substring(text)
            while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
                result += rest[..<open]
                let inside = rest[rest.index(after: open)..<close]
                let parts = inside.split(separator: ":", maxSplits: 1).map(String.init)
                let value: String
                switch parts.first {
                case "rack": value = rack
                case "index": value = String(index)
                default: value = "{" + inside + "}"
                }
                if parts.count == 2, let width = Int(parts[1]), Int(value) != nil, value.count < width {
                    result += String(repeating: "0", count: width - value.count) + value
                } else {
                    result += value
                }
                rest = rest[rest.index(after: close)...]
            }
            return result + rest
        }
    }

    /// Reads YAML nodes by their scalar text, so `rack: 1`, `on` and `"1"` stay what was written.
    enum YAMLValue {
        /// Every document of a multi-document YAML text; a syntax error anywhere is thrown.
        static func documents(in text: String, file: URL) throws -> [Yams.Node] {
            var documents: [Yams.Node] = []
            do {
                var sequence = try Yams.compose_all(yaml: text)
                while let document = sequence.next() { documents.append(document) }
                if let error = sequence.error { throw error }
            } catch {
                throw ReadError(description: "\(file.path) is not YAML: \(error)")
            }
            return documents
        }

        static func text(_ node: Yams.Node?) -> String? {
            guard let scalar = node?.scalar else { return nil }
            if scalar.style == .plain, ["~", "null", "Null", "NULL", ""].contains(scalar.string) { return nil }
            return scalar.string
        }

        static func number(_ node: Yams.Node?) -> Double? {
            text(node).flatMap { Double($0.replacingOccurrences(of: "_", with: "")) }
        }

        static func int(_ node: Yams.Node?) -> Int? {
            number(node).map { Int($0) }
        }

        static func bool(_ node: Yams.Node?) -> Bool? {
            switch text(node)?.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: return nil
            }
        }

        static func list(_ node: Yams.Node?) -> [Yams.Node] {
            node?.sequence.map(Array.init) ?? []
        }

        static func pairs(_ node: Yams.Node?) -> [(String, Yams.Node)] {
            guard let mapping = node?.mapping else { return [] }
            return mapping.compactMap { key, value in text(key).map { ($0, value) } }
        }

        static func stringMap(_ node: Yams.Node?) -> [String: String] {
            var result: [String: String] = [:]
            for (key, value) in pairs(node) { result[key] = text(value) ?? "" }
            return result
        }

        static func numberMap(_ node: Yams.Node?) -> [String: Double] {
            var result: [String: Double] = [:]
            for (key, value) in pairs(node) { result[key] = number(value) }
            return result
        }

        static func selector(_ node: Yams.Node?) -> LabelSelector {
            var selector = LabelSelector()
            selector.matchLabels = stringMap(node?["matchLabels"])
            selector.requirements = list(node?["matchExpressions"]).map { expression in
                LabelSelector.Requirement(
                    key: text(expression["key"]) ?? "",
                    operator_: text(expression["operator"]) ?? "",
                    values: list(expression["values"]).compactMap(text))
            }
            return selector
        }
    }
}

// MARK: - Reading the plan

extension PlanVerifier.Plan {
    init(json: Data) throws {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: json)
        } catch {
            let head = String(decoding: json.prefix(300), as: UTF8.self)
            throw PlanVerifier.ReadError(description: "the plan is not JSON (\(error)); it starts: \(head)")
        }
        guard let root = object as? [String: Any] else {
            throw PlanVerifier.ReadError(description: "the plan is not a JSON object")
        }
        guard let target = root["target"] as? [String: Any] else {
            shapeErrors.append("the plan has no `target` object")
            return
        }
        for (name, value) in target["nodes"] as? [String: Any] ?? [:] {
            guard let entry = value as? [String: Any] else {
                shapeErrors.append("target.nodes.\(name) is not an object")
                continue
            }
            guard let powerState = entry["powerState"] as? String else {
                shapeErrors.append("target.nodes.\(name).powerState is missing or not a string")
                continue
            }
            if !(entry["pool"] is String || entry["pool"] is NSNull) {
                shapeErrors.append("target.nodes.\(name).pool must be a string or null")
            }
            nodes[name] = PlanVerifier.PlanNode(
                pool: entry["pool"] as? String, powerState: powerState,
                estimatedW: (entry["estimatedW"] as? NSNumber)?.doubleValue)
        }
        for (name, value) in target["workloads"] as? [String: Any] ?? [:] {
            guard let entry = value as? [String: Any], let replicas = entry["replicas"] as? [Any] else {
                shapeErrors.append("target.workloads.\(name) has no `replicas` array")
                continue
            }
            var parsed: [PlanVerifier.PlanReplica] = []
            for replica in replicas {
                guard let replica = replica as? [String: Any],
                      let index = (replica["index"] as? NSNumber)?.intValue,
                      let nodes = replica["nodes"] as? [String]
                else {
                    shapeErrors.append("target.workloads.\(name) has a replica without `index` and `nodes`")
                    continue
                }
                parsed.append(PlanVerifier.PlanReplica(index: index, nodes: nodes))
            }
            guard let unplaced = (entry["unplaced"] as? NSNumber)?.intValue else {
                shapeErrors.append("target.workloads.\(name).unplaced is missing")
                continue
            }
            workloads[name] = PlanVerifier.PlanWorkload(replicas: parsed, unplaced: unplaced)
        }
        for (name, value) in target["storageTiers"] as? [String: Any] ?? [:] {
            guard let entry = value as? [String: Any], let drives = entry["drives"] as? [String],
                  let rawTiB = (entry["rawTiB"] as? NSNumber)?.doubleValue,
                  let satisfied = entry["satisfied"] as? Bool
            else {
                shapeErrors.append("target.storageTiers.\(name) lacks `drives`, `rawTiB` or `satisfied`")
                continue
            }
            tiers[name] = PlanVerifier.PlanTier(drives: drives, rawTiB: rawTiB, satisfied: satisfied)
        }
        for problem in root["problems"] as? [Any] ?? [] {
            guard let problem = problem as? [String: Any] else { continue }
            problems.append(PlanVerifier.PlanProblem(
                severity: problem["severity"] as? String ?? "",
                resource: problem["resource"] as? String ?? "",
                message: problem["message"] as? String ?? ""))
        }
        if root["problems"] != nil, !(root["problems"] is [Any]) {
            shapeErrors.append("`problems` is not an array")
        }
        plannedW = ((root["energy"] as? [String: Any])?["plannedW"] as? NSNumber)?.doubleValue
    }
}
