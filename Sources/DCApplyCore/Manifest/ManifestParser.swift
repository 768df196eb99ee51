import Foundation
import Crypto

/// Turns manifest files into a ``DesiredState`` and every diagnostic found on the way.
///
/// Pure: it takes file contents, not paths on disk. All errors of a run are collected.
public struct ManifestParser {
    public var limits: InputLimits

    public init(limits: InputLimits = .standard) {
        self.limits = limits
    }

    /// Where each resource and its top-level spec fields were declared, for messages about references.
    public struct Locations: Sendable {
        public var resources: [ResourceAddress: SourceLocation] = [:]
        var fields: [String: SourceLocation] = [:]
        /// Resources whose documents have errors: references to them resolve, checks of their
        /// own references are skipped, so one mistake is reported once.
        var invalid: Set<ResourceAddress> = []

        subscript(address: ResourceAddress) -> SourceLocation? {
            get { resources[address] }
            set { resources[address] = newValue }
        }

        /// The field's location, else the resource's.
        public func location(of address: ResourceAddress, field: String) -> SourceLocation? {
            fields["\(address)#\(field)"] ?? resources[address]
        }
    }

    public func parse(_ sources: [SourceFile]) -> (state: DesiredState, locations: Locations, diagnostics: [Diagnostic]) {
        var state = DesiredState()
        var locations = Locations()
        var diagnostics: [Diagnostic] = []
        var hasher = SHA256()
        for source in sources {
            hasher.update(data: Data(source.relativePath.utf8 + [0]))
            hasher.update(data: Data(source.text.utf8 + [0]))
            let (documents, yamlDiagnostics) = YAMLDocuments.parse(source, limits: limits)
            diagnostics += yamlDiagnostics
            // Room for a resource and its spec fields per document (a workload has about five):
            // the maps grew by doubling and rehashed every key (decision 442).
            locations.resources.reserveCapacity(locations.resources.count + documents.count)
            locations.fields.reserveCapacity(locations.fields.count + documents.count * 5)
            for document in documents {
                decode(document, into: &state, locations: &locations, diagnostics: &diagnostics)
            }
        }
        state.digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        var checker = ManifestChecker(state: state, locations: locations)
        diagnostics += checker.check()
        return (state, locations, diagnostics)
    }

    private func decode(_ document: YAMLDocument, into state: inout DesiredState, locations: inout Locations, diagnostics: inout [Diagnostic]) {
        let root = document.root
        guard case .mapping = root else {
            diagnostics.append(.error("a manifest must be a mapping with apiVersion, kind, metadata and spec, got \(describe(root))", at: document.start))
            return
        }
        // Spelt out only for a message (it was built for every document).
        var kinds: String { Kind.allCases.map(\.rawValue).joined(separator: ", ") }
        guard let kindNode = root.field("kind") else {
            let present = root.entries.first { $0.key == "kind" }?.value
            diagnostics.append(.error(present == nil ? "required field is missing (one of \(kinds))" : "expected one of \(kinds), got nothing (null)",
                                      at: present?.location(in: document.file) ?? document.start, field: "kind"))
            return
        }
        guard let kindText = kindNode.text, kindNode.scalar != nil else {
            diagnostics.append(.error("expected one of \(kinds), got \(describe(kindNode))", at: kindNode.location(in: document.file), field: "kind"))
            return
        }
        if kindText == "Inventory" { return }  // read through the Site that names it
        let kindLocation = kindNode.location(in: document.file)
        guard let kind = Kind(rawValue: kindText) else {
            let hint = Names.closest(to: kindText, in: Kind.allCases.map(\.rawValue)).map { "; did you mean \(quoted($0))?" }
                ?? "; valid kinds: \(Kind.allCases.map(\.rawValue).joined(separator: ", "))"
            diagnostics.append(.error("unknown kind \(quoted(kindText))\(hint)", at: kindLocation, field: "kind"))
            return
        }
        var validator = SchemaValidator(file: document.file, limits: limits)
        validator.validate(root, as: .object(ManifestSchemas.document(of: kind)), path: "")
        diagnostics += validator.diagnostics

        // Register the name even when the spec is invalid, so duplicates are still found.
        guard let metadataNode = root.field("metadata"), let name = metadataNode.field("name")?.text, Names.isDNSLabel(name) else { return }
        let address = ResourceAddress(kind, name)
        let location = metadataNode.location(in: document.file)
        if let first = locations[address] {
            diagnostics.append(.error("duplicate \(address): also declared at \(first)", at: location, field: "metadata.name"))
            return
        }
        locations[address] = location
        if validator.diagnostics.hasErrors { locations.invalid.insert(address) }
        let spec = root.field("spec") ?? .mapping(YAMLMapping(pairs: [], line: document.start.line, column: document.start.column))
        for (key, value) in spec.entries {
            locations.fields["\(address)#spec.\(key)"] = value.location(in: document.file)
        }
        let metadata = ObjectMetadata(name: name, labels: metadataNode.field("labels")?.textMap ?? [:],
                                      annotations: metadataNode.field("annotations")?.textMap ?? [:], source: location)
        var decoder = SpecDecoder(file: document.file)
        decoder.decode(kind, metadata: metadata, spec: spec, into: &state)
        diagnostics += decoder.diagnostics
    }
}

/// Reads a validated `spec` into the model, with the checks that need more than one field.
struct SpecDecoder {
    let file: String
    var diagnostics: [Diagnostic] = []

    mutating func error(_ message: String, _ node: YAMLNode?, _ path: String, fallback: SourceLocation? = nil) {
        let location = node.map { $0.location(in: file) } ?? fallback
        diagnostics.append(.error(message, at: location, field: path))
    }

    mutating func decode(_ kind: Kind, metadata: ObjectMetadata, spec: YAMLNode, into state: inout DesiredState) {
        let name = metadata.name
        switch kind {
        case .site:
            let providerNode = spec.field("provider")
            let provider: ProviderConfiguration
            if let local = providerNode?.field("local") {
                let declared = local.field("inventory")?.text ?? ""
                let base = URL(fileURLWithPath: file).deletingLastPathComponent()
                let resolved = declared.hasPrefix("/") ? declared : base.appendingPathComponent(declared).path
                provider = .local(inventoryPath: Self.relativeIfPossible(resolved), declaredPath: declared,
                                  declaredAt: (local.field("inventory") ?? local).location(in: file))
            } else if let redfish = providerNode?.field("redfish") {
                // Relative paths resolve against this manifest's folder, as the local inventory does.
                let base = URL(fileURLWithPath: file).deletingLastPathComponent()
                func resolved(_ path: String?) -> String? {
                    guard let path else { return nil }
                    return path.hasPrefix("/") ? path : Self.relativeIfPossible(base.appendingPathComponent(path).path)
                }
                func resolvedReference(_ reference: String?) -> String? {
                    guard let reference, reference.hasPrefix("file:") else { return reference }
                    return resolved(String(reference.dropFirst("file:".count))).map { "file:" + $0 }
                }
                provider = .redfish(RedfishConfiguration(
                    endpoints: redfish.field("endpoints")?.textList ?? [], endpointsFile: resolved(redfish.field("endpointsFile")?.text),
                    usernameFrom: resolvedReference(redfish.field("usernameFrom")?.text),
                    passwordFrom: resolvedReference(redfish.field("passwordFrom")?.text),
                    caFile: resolved(redfish.field("caFile")?.text), insecureSkipVerify: redfish.field("insecureSkipVerify")?.boolean ?? false,
                    concurrency: redfish.field("concurrency")?.integer ?? 32, labelsFrom: resolved(redfish.field("labelsFrom")?.text),
                    source: redfish.location(in: file)))
            } else {
                provider = .exec(execConfiguration(providerNode?.field("exec")))
            }
            var actuators: [ActuatorConfiguration] = []
            for item in spec.field("actuators")?.elements ?? [] {
                if let slurm = item.field("slurm") {
                    actuators.append(.slurm(SlurmConfiguration(
                        conf: slurm.field("conf")?.text.map { resolve($0) }, prefix: slurm.field("prefix")?.text ?? "",
                        features: slurm.field("features")?.textList ?? [],
                        drainTimeoutSeconds: slurm.field("drainTimeout")?.text.flatMap(Duration.parse) ?? SlurmConfiguration.defaultDrainTimeoutSeconds,
                        source: slurm.location(in: file))))
                } else if let exec = item.field("exec") {
                    actuators.append(.exec(execConfiguration(exec)))
                }
            }
            // One Slurm controller per Site: two would fight over the same nodes.
            let slurmItems = (spec.field("actuators")?.elements ?? []).enumerated().filter { $0.element.field("slurm") != nil && $0.element.field("exec") == nil }
            for (index, item) in slurmItems.dropFirst() {
                error("only one slurm actuator per Site", item, "spec.actuators[\(index)]")
            }
            let domains = spec.field("failureDomains")?.textList ?? []
            var seen = Set<String>()
            for (index, domain) in domains.enumerated() where !seen.insert(domain).inserted {
                error("\(quoted(domain)) is listed twice", spec.field("failureDomains")?.elements[index], "spec.failureDomains[\(index)]")
            }
            state.sites[name] = Site(metadata: metadata, failureDomains: domains, provider: provider, actuators: actuators)
        case .redundancyPolicy:
            state.redundancyPolicies[name] = RedundancyPolicy(
                metadata: metadata, failureDomain: spec.field("failureDomain")?.text ?? "",
                maxPerDomain: spec.field("maxPerDomain")?.integer, minDomains: spec.field("minDomains")?.integer,
                spares: spec.field("spares")?.integer ?? 0, maxUnavailable: spec.field("maxUnavailable")?.integer)
        case .hardwarePool:
            var size: PoolSize?
            if let sizeNode = spec.field("size") {
                if let nodes = sizeNode.field("nodes")?.integer { size = .nodes(nodes) }
                if let gpus = sizeNode.field("gpus")?.integer { size = .gpus(gpus) }
            }
            state.pools[name] = HardwarePool(
                metadata: metadata, site: spec.field("site")?.text ?? "",
                nodeSelector: spec.field("nodeSelector").map { selector($0, path: "spec.nodeSelector") },
                gpuModel: spec.field("gpuModel")?.text, minGpuMemoryGiB: spec.field("minGpuMemoryGiB")?.number,
                size: size, redundancy: spec.field("redundancy")?.text)
        case .workload:
            let resourcesNode = spec.field("resources")
            let resources = resourcesNode?.numberMap ?? [:]
            for key in ["gpus", "cpuCores"] {
                if let value = resources[key], value != value.rounded() {
                    error("\(key) is a count: expected a whole number, got \(format(value))", resourcesNode?.field(key), "spec.resources.\(key)")
                }
            }
            state.workloads[name] = Workload(
                metadata: metadata, pool: spec.field("pool")?.text ?? "", tenant: spec.field("tenant")?.text,
                replicas: spec.field("replicas")?.integer ?? 0, resources: resources,
                redundancy: spec.field("redundancy")?.text, colocate: spec.field("colocate")?.text,
                priority: spec.field("priority")?.integer ?? 0)
        case .storageTier:
            let protectionNode = spec.field("protection")
            let protection: Protection
            if let erasure = protectionNode?.field("erasure") {
                protection = .erasure(data: erasure.field("data")?.integer ?? 1, parity: erasure.field("parity")?.integer ?? 0)
            } else {
                protection = .replicas(protectionNode?.field("replicas")?.integer ?? 1)
            }
            state.storageTiers[name] = StorageTier(
                metadata: metadata, site: spec.field("site")?.text ?? "",
                media: Media(rawValue: spec.field("media")?.text ?? "") ?? .nvme,
                usableTiB: spec.field("usableTiB")?.number ?? 0, protection: protection,
                redundancy: spec.field("redundancy")?.text,
                encryptionRequired: spec.field("encryption")?.text == "required",
                nodeSelector: spec.field("nodeSelector").map { selector($0, path: "spec.nodeSelector") })
        case .accessPolicy:
            let members = (spec.field("members")?.elements ?? []).map {
                AccessPolicy.Member(user: $0.field("user")?.text ?? "", keys: $0.field("keys")?.textList ?? [])
            }
            let rules = (spec.field("rules")?.elements ?? []).map {
                AccessPolicy.Rule(kinds: $0.field("kinds")?.textList ?? [], names: $0.field("names")?.textList ?? [],
                                  verbs: $0.field("verbs")?.textList ?? [])
            }
            state.accessPolicies[name] = AccessPolicy(metadata: metadata, members: members, rules: rules)
        case .energyPolicy:
            var racks: [String: Double] = [:]
            for (rack, value) in spec.field("racks")?.entries ?? [] {
                racks[rack] = value.field("powerCapKW")?.number
            }
            state.energyPolicies[name] = EnergyPolicy(
                metadata: metadata, site: spec.field("site")?.text ?? "",
                rackPowerCapKW: spec.field("rackPowerCapKW")?.number, rackCapsKW: racks,
                powerOffIdle: spec.field("powerOffIdle")?.boolean ?? false, keepWarm: spec.field("keepWarm")?.integer ?? 0)
        }
    }

    /// A path written in the manifest, resolved against its folder.
    func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : Self.relativeIfPossible(URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(path).path)
    }

    func execConfiguration(_ node: YAMLNode?) -> ExecConfiguration {
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent().standardized.path
        return ExecConfiguration(command: node?.field("command")?.textList ?? [], directory: directory,
                                 timeoutSeconds: node?.field("timeout")?.text.flatMap(Duration.parse) ?? ExecConfiguration.defaultTimeoutSeconds,
                                 source: node?.location(in: file))
    }

    mutating func selector(_ node: YAMLNode, path: String) -> LabelSelector {
        var expressions: [LabelSelector.Requirement] = []
        for (index, expression) in (node.field("matchExpressions")?.elements ?? []).enumerated() {
            let expressionPath = "\(path).matchExpressions[\(index)]"
            guard let op = LabelSelector.Operator(rawValue: expression.field("operator")?.text ?? "") else { continue }
            // A misspelt field is already reported; checking the values would report it twice.
            if expression.entries.contains(where: { !["key", "operator", "values"].contains($0.key) }) { continue }
            let values = expression.field("values")?.textList ?? []
            switch op {
            case .in, .notIn:
                if values.isEmpty { error("operator \(op.rawValue) needs at least one value", expression, "\(expressionPath).values") }
            case .exists, .doesNotExist:
                if !values.isEmpty { error("operator \(op.rawValue) takes no values", expression.field("values"), "\(expressionPath).values") }
            case .gt, .lt:
                if values.count != 1 || Int(values[0]) == nil {
                    error("operator \(op.rawValue) takes exactly one integer value", expression.field("values") ?? expression, "\(expressionPath).values")
                }
            }
            expressions.append(LabelSelector.Requirement(key: expression.field("key")?.text ?? "", operator: op, values: values))
        }
        return LabelSelector(matchLabels: node.field("matchLabels")?.textMap ?? [:], matchExpressions: expressions)
    }

    /// Keeps displayed paths short when the file is under the current directory.
    static func relativeIfPossible(_ path: String) -> String {
        let standardized = URL(fileURLWithPath: path).standardized.path
        let current = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardized.path + "/"
        return standardized.hasPrefix(current) ? String(standardized.dropFirst(current.count)) : standardized
    }
}
