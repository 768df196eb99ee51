import Foundation
import Yams

/// An independent oracle for `dcapply plan --output json`.
///
/// It never uses the solver's code: it reads the manifests and the local inventory itself, reads
/// the JSON plan, and recomputes every hard constraint of the manifest contract from scratch.
/// Everything it needs is nested in this type so that nothing here shadows a name that
/// DCApplyCore exports to the other tests of this target.
struct PlanVerifier {
    /// The manifests or the plan could not be read at all (not a constraint violation).
    struct ReadError: Error, CustomStringConvertible {
        let description: String
    }

    /// Returns one human-readable sentence per violated hard constraint; empty when all hold.
    ///
    /// - Parameters:
    ///   - healthOverrides: node name -> `healthy`, `degraded` or `failed`, as set with
    ///     `dcapply inventory set`; they win over the inventory file.
    ///   - assumeNothingApplied: the plan was made on an empty state store, so a degraded node
    ///     has nothing to keep and must take nothing (no pool, replica or drive).
    static func violations(
        manifestsDirectory: URL,
        planJSON: Data,
        healthOverrides: [String: String] = [:],
        assumeNothingApplied: Bool = false
    ) throws -> [String] {
        let site = try Manifests.load(from: manifestsDirectory, healthOverrides: healthOverrides)
        let plan = try Plan(json: planJSON)
        var checker = Checker(manifests: site, plan: plan, assumeNothingApplied: assumeNothingApplied)
        checker.run()
        return checker.violations
    }

    // MARK: - Desired state, parsed minimally

    /// A Kubernetes-style label selector.
    struct LabelSelector {
        struct Requirement {
            let key: String
            let operator_: String
            let values: [String]
        }

        var matchLabels: [String: String] = [:]
        var requirements: [Requirement] = []

        func matches(_ labels: [String: String]) -> Bool {
            for (key, value) in matchLabels where labels[key] != value {
                return false
            }
            for requirement in requirements {
                let value = labels[requirement.key]
                switch requirement.operator_ {
                case "In":
                    guard let value, requirement.values.contains(value) else { return false }
                case "NotIn":
                    if let value, requirement.values.contains(value) { return false }
                case "Exists":
                    if value == nil { return false }
                case "DoesNotExist":
                    if value != nil { return false }
                case "Gt", "Lt":
                    guard let value, let have = Int(value),
                          let boundText = requirement.values.first, let bound = Int(boundText)
                    else { return false }
                    if requirement.operator_ == "Gt" ? !(have > bound) : !(have < bound) { return false }
                default:
                    return false
                }
            }
            return true
        }
    }

    struct Site {
        let name: String
        let failureDomains: [String]
        let inventoryFile: URL
    }

    struct RedundancyPolicy {
        let name: String
        let failureDomain: String
        let maxPerDomain: Int?
        let minDomains: Int?
        let spares: Int
    }

    struct HardwarePool {
        let name: String
        let site: String
        let selector: LabelSelector
        let gpuModel: String?
        let minGpuMemoryGiB: Double?
        let sizeNodes: Int?
        let sizeGpus: Int?
        let redundancy: String?
    }

    struct Workload {
        let name: String
        let pool: String
        let tenant: String?
        let replicas: Int
        let resources: [String: Double]
        let redundancy: String?
        let colocate: String?
    }

    struct StorageTier {
        let name: String
        let site: String
        let media: String
        let usableTiB: Double
        /// `k` and `w` of the protection rule: replicas r -> (1, r); erasure k+m -> (k, k+m).
        let dataChunks: Int
        let stripeWidth: Int
        let redundancy: String?
        let encryptionRequired: Bool
        let selector: LabelSelector
    }

    /// One rule of an AccessPolicy: which verbs on which kinds and names (globs; none = all).
    struct AccessRule {
        let kinds: [String]
        let names: [String]
        let verbs: [String]

        func grants(_ verb: String, kind: String, name: String) -> Bool {
            verbs.contains(verb) && (kinds.isEmpty || kinds.contains(kind))
                && (names.isEmpty || names.contains { Glob.matches($0, name) })
        }
    }

    /// `*` (any run) and `?` (any one character) globs, as in AccessPolicy names.
    enum Glob {
        static func matches(_ pattern: String, _ text: String) -> Bool {
            matches(Array(pattern), 0, Array(text), 0)
        }

        private static func matches(
            _ pattern: [Character], _ patternIndex: Int, _ text: [Character], _ textIndex: Int
        ) -> Bool {
            guard patternIndex < pattern.count else { return textIndex == text.count }
            let next = patternIndex + 1
            switch pattern[patternIndex] {
            case "*":
                return (textIndex...text.count).contains { matches(pattern, next, text, $0) }
            case "?":
                return textIndex < text.count && matches(pattern, next, text, textIndex + 1)
            default:
                return textIndex < text.count && pattern[patternIndex] == text[textIndex]
                    && matches(pattern, next, text, textIndex + 1)
            }
        }
    }

    struct EnergyPolicy {
        let name: String
        let site: String
        let rackPowerCapKW: Double?
        let rackCapsKW: [String: Double]
        let powerOffIdle: Bool
        let keepWarm: Int
    }

    struct Drive {
        let id: String
        let media: String
        let capacityTiB: Double
        let selfEncrypting: Bool
    }

    struct InventoryNode {
        let name: String
        let site: String
        let labels: [String: String]
        let gpuModel: String?
        let gpuMemoryGiB: Double?
        /// Includes `gpus` (from `gpus.count` when the capacity map does not say).
        let capacity: [String: Double]
        let drives: [Drive]
        let idleW: Double
        let maxW: Double
        let health: String

        var gpus: Double { capacity["gpus"] ?? 0 }
    }

    /// Everything the checker needs from the manifests and the inventory.
    struct Manifests {
        var sites: [String: Site] = [:]
        var policies: [String: RedundancyPolicy] = [:]
        var pools: [String: HardwarePool] = [:]
        var workloads: [String: Workload] = [:]
        var tiers: [String: StorageTier] = [:]
        var energyPolicies: [EnergyPolicy] = []
        /// AccessPolicy name -> its rules.
        var accessPolicies: [String: [AccessRule]] = [:]
        var nodes: [String: InventoryNode] = [:]
    }

    // MARK: - The plan, as printed

    struct PlanNode {
        let pool: String?
        let powerState: String
        let estimatedW: Double?
    }

    struct PlanReplica {
        let index: Int
        let nodes: [String]
    }

    struct PlanWorkload {
        let replicas: [PlanReplica]
        let unplaced: Int
    }

    struct PlanTier {
        let drives: [String]
        let rawTiB: Double
        let satisfied: Bool
    }

    struct PlanProblem {
        let severity: String
        let resource: String
        let message: String
    }

    struct Plan {
        var nodes: [String: PlanNode] = [:]
        var workloads: [String: PlanWorkload] = [:]
        var tiers: [String: PlanTier] = [:]
        var problems: [PlanProblem] = []
        var plannedW: Double?
        /// Fields missing or of the wrong type; reported as violations.
        var shapeErrors: [String] = []
    }
}

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
