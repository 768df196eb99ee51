import DCApplyCore
import DCApplyGit
import Foundation

/// One reader of untrusted input, driven with arbitrary bytes. Each `run` must return for every
/// input: a crash, a trap, a leak or a slow input is a finding. Some targets also check a
/// property that must hold for every input (a signature made with the secret is valid).
enum FuzzTarget: String, CaseIterable, Sendable {
    /// Manifests: compose, schema, cross-checks (``ManifestParser``).
    case manifest
    /// A local inventory file (``InventoryParser``).
    case inventory
    /// The Redfish `labelsFrom` file (``LabelsFile``), then looked up as the provider does.
    case labels
    /// A Redfish ComputerSystem (and Chassis) as ``NodeMapper`` and the scanner read it.
    case redfishSystem = "redfish-system"
    /// A Redfish Drive, and a Storage subsystem's Drives links.
    case redfishDrive = "redfish-drive"
    /// A Redfish Processor (and Memory) as counted into GPUs, cores and memory.
    case redfishProcessor = "redfish-processor"
    /// An armored SSH signature (SSHSIG), its blob, and a public-key line.
    case sshSignature = "ssh-signature"
    /// An allowed-signers file.
    case allowedSigners = "allowed-signers"
    /// A webhook: the first line is the signature header, the rest the body.
    case webhook

    /// Runs the reader on `data`; returns a short summary (used by the regression tests).
    @discardableResult
    func run(_ data: Data) -> String {
        switch self {
        case .manifest: Self.manifest(data)
        case .inventory: Self.inventory(data)
        case .labels: Self.labels(data)
        case .redfishSystem: Self.redfishSystem(data)
        case .redfishDrive: Self.redfishDrive(data)
        case .redfishProcessor: Self.redfishProcessor(data)
        case .sshSignature: Self.sshSignature(data)
        case .allowedSigners: Self.allowedSigners(data)
        case .webhook: Self.webhook(data)
        }
    }

    /// The bytes as a source file, the way the CLI reads one: UTF-8 checked, NULs refused.
    private static func source(_ data: Data, path: String) -> SourceFile? {
        try? SourceReader.decode(data, displayPath: path).get()
    }

    private static func summary(_ diagnostics: [Diagnostic]) -> String {
        // Rendering is part of the reader: messages interpolate user text.
        let rendered = diagnostics.sortedForDisplay().map(\.description)
        return "\(rendered.count) diagnostics"
    }

    static func manifest(_ data: Data) -> String {
        guard let source = source(data, path: "fuzz.yaml") else { return "not text" }
        let (state, _, diagnostics) = ManifestParser().parse([source])
        return "\(state.digest.isEmpty ? "no digest" : "parsed"), \(summary(diagnostics))"
    }

    static func inventory(_ data: Data) -> String {
        guard let source = source(data, path: "inventory.yaml") else { return "not text" }
        let (nodes, diagnostics) = InventoryParser().parse(source, site: "fuzz")
        return "\(nodes.count) nodes, \(summary(diagnostics))"
    }

    static func labels(_ data: Data) -> String {
        guard let source = source(data, path: "racks.yaml") else { return "not text" }
        let (file, diagnostics) = LabelsFile.parse(source.text, path: source.path)
        var named = 0
        for key in file.entries.keys.sorted() {
            let system = JSONValue.object(["UUID": .string(key), "Id": .string(key), "Name": .string(key)])
            let inventory = SystemInventory(endpoint: "https://bmc", path: "/redfish/v1/Systems/\(key)", system: system, drives: [])
            if NodeMapper.node(inventory, site: "fuzz", labelsFile: file).name != NodeMapper.defaultName(system) { named += 1 }
        }
        return "\(file.entries.count) entries, \(named) renamed, \(summary(diagnostics))"
    }

    /// The service only hands objects on (``RedfishConnection/get(_:)``): anything else is a gap.
    private static func object(_ data: Data) -> JSONValue? {
        guard let json = JSONValue.parse(data), json.isObject else { return nil }
        return json
    }

    static func redfishSystem(_ data: Data) -> String {
        guard let system = object(data) else { return "not an object" }
        // The links the scanner follows.
        let links = [system["Processors"]?.link, system["Memory"]?.link, system["Storage"]?.link,
                     system["Links"]?["Chassis"]?.array.first?.link, system["Systems"]?.link].compactMap { $0 }
        let inventory = SystemInventory(endpoint: "https://bmc", path: "/redfish/v1/Systems/1", system: system,
                                        processors: [system], memory: [system], drives: [(storage: "1", path: "/d/1", drive: system)],
                                        chassis: system)
        let node = NodeMapper.node(inventory, site: "fuzz", labelsFile: LabelsFile())
        return "\(node.name) \(links.count) links \(system.memberLinks.count) members \(node.labels.count) labels"
    }

    static func redfishDrive(_ data: Data) -> String {
        guard let drive = object(data) else { return "not an object" }
        // As a Storage subsystem: the Drives links the scanner reads.
        let listed = drive["Drives"]?.array.compactMap(\.link) ?? []
        let id = drive["Id"]?.string ?? "storage"
        let drives = NodeMapper.drives([(storage: id, path: listed.first ?? "/redfish/v1/Systems/1/Storage/1/Drives/0", drive: drive),
                                        (storage: "other", path: "/redfish/v1/Systems/1/Storage/2/Drives/0", drive: drive)])
        return "\(listed.count) links, \(drives.count) drives"
    }

    static func redfishProcessor(_ data: Data) -> String {
        guard let processor = object(data) else { return "not an object" }
        let system = JSONValue.object(["Id": .string("1")])
        let gpu = NodeMapper.gpus([processor, processor])
        let cores = NodeMapper.cpuCores(system, [processor])
        let memory = NodeMapper.memoryGiB(system, [processor, processor])
        let node = NodeMapper.node(SystemInventory(endpoint: "https://bmc", path: "/redfish/v1/Systems/1", system: system,
                                                   processors: [processor], memory: [processor], drives: []),
                                   site: "fuzz", labelsFile: LabelsFile())
        return "\(gpu?.count ?? 0) gpus, \(cores ?? 0) cores, \(memory ?? 0) GiB, \(node.capacity.count) capacities"
    }

    static func sshSignature(_ data: Data) -> String {
        let text = String(decoding: data, as: UTF8.self)
        var outcome: [String] = []
        if SSHSignature.isArmored(text) {
            do {
                let signature = try SSHSignature(armored: text)
                _ = try? signature.verify(Array("tree 0\n".utf8), namespace: "git")
                outcome.append("armored \(signature.namespace)")
            } catch { outcome.append(error.description) }
        }
        if let signature = try? SSHSignature(blob: Array(data)) {
            _ = try? signature.verify(Array(data), namespace: signature.namespace)
            outcome.append("blob")
        }
        if let key = try? SSHPublicKey(line: text) {
            _ = try? key.isValidSignature(Array(data), for: Array(data))
            outcome.append("key \(key)")
        }
        return outcome.isEmpty ? "rejected" : outcome.joined(separator: ", ")
    }

    static func allowedSigners(_ data: Data) -> String {
        let text = String(decoding: data, as: UTF8.self)
        do {
            let (signers, warnings) = try AllowedSigners.parse(text, file: "allowed_signers")
            let permitted = signers.filter { $0.permits(namespace: "git", at: Date(timeIntervalSince1970: 1_700_000_000)) }
            return "\(signers.count) signers, \(permitted.count) permitted, \(warnings.count) warnings"
        } catch {
            return error.description
        }
    }

    /// Also a property: the signature of the body, with and without `sha256=`, is valid, and
    /// the header of the input is valid only if it is that signature.
    static func webhook(_ data: Data) -> String {
        let bytes = [UInt8](data)
        let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
        let header = String(decoding: bytes[..<newline], as: UTF8.self)
        let body = Array(bytes[min(newline + 1, bytes.endIndex)...])
        let check = WebhookSignature(secret: "fuzz-secret\n")
        let expected = check.sign(body)
        guard check.isValid(expected, body: body), check.isValid("sha256=" + expected, body: body) else {
            fatalError("webhook: the body's own signature was refused")
        }
        let valid = check.isValid(header, body: body)
        if valid, header.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "sha256=", with: "") != expected {
            fatalError("webhook: a header that is not the body's signature was accepted: \(header)")
        }
        return valid ? "valid" : "invalid"
    }
}
