import DCApplyCore

/// What was read about one ComputerSystem, before it becomes a node. `nil` collections were
/// not offered by the service (404, 501) or could not be read; `gaps` says which, for the
/// warning.
struct SystemInventory: Sendable {
    var endpoint: String
    var path: String
    var system: JSONValue
    var processors: [JSONValue]?
    var memory: [JSONValue]?
    /// Every drive with the storage subsystem it was listed under.
    var drives: [(storage: String, path: String, drive: JSONValue)]
    var chassis: JSONValue?
    /// Resources the service did not give, as "Processors (HTTP 501)".
    var gaps: [String] = []
}

/// Maps what a Redfish service says about one System to an `ObservedNode`. Pure.
enum NodeMapper {
    /// `gpu`, `cpuCores`, `memoryGiB` and the rest as the inventory contract names them.
    static func node(_ inventory: SystemInventory, site: String, labelsFile: LabelsFile) -> ObservedNode {
        let system = inventory.system
        let entry = labelsFile.entry(uuid: system["UUID"]?.string, serialNumber: system["SerialNumber"]?.string,
                                     systemURL: inventory.endpoint + inventory.path, endpoint: inventory.endpoint,
                                     defaultName: defaultName(system))
        let gpu = gpus(inventory.processors)
        var capacity: ResourceMap = ["gpus": Double(gpu?.count ?? 0)]
        if let cores = cpuCores(system, inventory.processors) { capacity["cpuCores"] = cores }
        if let memory = memoryGiB(system, inventory.memory) { capacity["memoryGiB"] = memory }
        // Chassis Location wins; labelsFrom fills in what the BMC does not say.
        var labels = entry?.labels ?? [:]
        for (key, value) in chassisLabels(inventory.chassis) { labels[key] = value }
        return ObservedNode(
            name: entry?.name ?? defaultName(system), site: site, labels: labels, gpu: gpu, capacity: capacity,
            drives: drives(inventory.drives), power: entry?.power ?? estimatedPower(gpus: gpu?.count ?? 0),
            health: health(system["Status"]), powerState: powerState(system["PowerState"]?.string) ?? .off)
    }

    /// HostName when it is a DNS label (its first label when it is a domain name), else Name
    /// plus Id made a DNS label.
    static func defaultName(_ system: JSONValue) -> String {
        if let host = system["HostName"]?.string, !host.isEmpty {
            let first = String(host.split(separator: ".").first ?? Substring(host))
            let label = dnsLabel(first)
            if !label.isEmpty { return label }
        }
        let name = system["Name"]?.string ?? ""
        let id = system["Id"]?.string ?? ""
        let joined = name.isEmpty || name == id ? id : id.isEmpty ? name : "\(name)-\(id)"
        let label = dnsLabel(joined)
        return label.isEmpty ? "system" : label
    }

    /// Lower case, runs of other characters to one `-`, trimmed, at most 63 characters.
    static func dnsLabel(_ text: String) -> String {
        var result = ""
        for scalar in text.lowercased().unicodeScalars {
            if scalar.isASCII, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                result.unicodeScalars.append(scalar)
            } else if !result.isEmpty, !result.hasSuffix("-") {
                result += "-"
            }
        }
        if result.count > 63 { result = String(result.prefix(63)) }
        while result.hasSuffix("-") { result.removeLast() }
        return result
    }

    /// Processors with ProcessorType GPU; the most common model when they differ.
    static func gpus(_ processors: [JSONValue]?) -> GPUInfo? {
        let found = (processors ?? []).filter { $0["ProcessorType"]?.string == "GPU" && !isAbsent($0["Status"]) }
        guard !found.isEmpty else { return nil }
        var models: [String: Int] = [:]
        for gpu in found { models[gpu["Model"]?.string ?? gpu["Manufacturer"]?.string ?? "unknown", default: 0] += 1 }
        let model = models.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }[0].key
        let memory = found.compactMap(gpuMemoryMiB).max() ?? 0
        return GPUInfo(model: model, count: found.count, memoryGiB: (memory / 1024 * 100).rounded() / 100)
    }

    static func gpuMemoryMiB(_ gpu: JSONValue) -> Double? {
        let onboard = (gpu["ProcessorMemory"]?.array ?? []).compactMap { $0["CapacityMiB"]?.number }
        if !onboard.isEmpty { return onboard.reduce(0, +) }
        return gpu["MemorySummary"]?["TotalMemorySizeMiB"]?.number
    }

    /// Cores of the CPUs, else ProcessorSummary.CoreCount.
    static func cpuCores(_ system: JSONValue, _ processors: [JSONValue]?) -> Double? {
        let cpus = (processors ?? []).filter { $0["ProcessorType"]?.string == "CPU" && !isAbsent($0["Status"]) }
        let cores = cpus.compactMap { $0["TotalCores"]?.number }
        if !cores.isEmpty { return cores.reduce(0, +) }
        return system["ProcessorSummary"]?["CoreCount"]?.number
    }

    /// MemorySummary.TotalSystemMemoryGiB, else the DIMMs added up.
    static func memoryGiB(_ system: JSONValue, _ memory: [JSONValue]?) -> Double? {
        if let total = system["MemorySummary"]?["TotalSystemMemoryGiB"]?.number { return total }
        let sizes = (memory ?? []).compactMap { $0["CapacityMiB"]?.number }
        return sizes.isEmpty ? nil : sizes.reduce(0, +) / 1024
    }

    /// Drives in the order the service lists them; an Id repeated across storage subsystems
    /// gets the subsystem's Id in front.
    static func drives(_ listed: [(storage: String, path: String, drive: JSONValue)]) -> [Drive] {
        var result: [Drive] = []
        var seen = Set<String>()
        for (storage, path, drive) in listed {
            guard let media = media(drive), !isAbsent(drive["Status"]) else { continue }
            var id = drive["Id"]?.string ?? String(path.split(separator: "/").last ?? "drive")
            if !seen.insert(id).inserted { id = "\(storage)-\(id)" }
            seen.insert(id)
            let bytes = drive["CapacityBytes"]?.number ?? 0
            let ability = drive["EncryptionAbility"]?.string
            result.append(Drive(id: id, media: media, capacityTiB: (bytes / 1_099_511_627_776 * 1000).rounded() / 1000,
                                selfEncrypting: ability == "SelfEncryptingDrive"))
        }
        return result
    }

    /// NVMe by Protocol; else SSD or HDD by MediaType; nil when neither says.
    static func media(_ drive: JSONValue) -> Media? {
        if drive["Protocol"]?.string == "NVMe" { return .nvme }
        switch drive["MediaType"]?.string {
        case "SSD": return .ssd
        case "HDD", "SMR": return .hdd
        default: return nil
        }
    }

    /// Placement (rack, row, rackOffset) and postal address (room, building, floor) of the
    /// Chassis, where the BMC says.
    static func chassisLabels(_ chassis: JSONValue?) -> [String: String] {
        guard let location = chassis?["Location"] else { return [:] }
        var labels: [String: String] = [:]
        let fields: [(JSONValue?, String, String)] = [
            (location["Placement"], "Rack", "rack"), (location["Placement"], "Row", "row"),
            (location["PostalAddress"], "Room", "room"), (location["PostalAddress"], "Building", "building"),
            (location["PostalAddress"], "Floor", "floor"),
        ]
        for (object, field, label) in fields {
            if let text = object?[field]?.string, !text.isEmpty { labels[label] = text }
            // A number only when it is a whole one that fits: `Int(1e300)` would trap.
            else if let number = object?[field]?.number, let whole = Int(exactly: number.rounded(.towardZero)) { labels[label] = String(whole) }
        }
        return labels
    }

    /// Status.Health OK / Warning / Critical; an absent or offline System is failed.
    static func health(_ status: JSONValue?) -> Health {
        if isAbsent(status) { return .failed }
        switch status?["Health"]?.string {
        case "Critical": return .failed
        case "Warning": return .degraded
        default: return .healthy
        }
    }

    static func isAbsent(_ status: JSONValue?) -> Bool {
        ["Absent", "UnavailableOffline"].contains(status?["State"]?.string ?? "")
    }

    /// On and PoweringOn are on; Off and PoweringOff are off.
    static func powerState(_ text: String?) -> PowerState? {
        switch text {
        case "On", "PoweringOn": .on
        case "Off", "PoweringOff": .off
        default: nil
        }
    }

    /// Redfish rarely says what a node may draw; without a `power` entry in labelsFrom the
    /// estimate is 150 W idle, 450 W busy, plus 75 W idle and 700 W busy per GPU.
    static func estimatedPower(gpus: Int) -> PowerRating {
        PowerRating(idleW: 150 + 75 * Double(gpus), maxW: 450 + 700 * Double(gpus))
    }
}
