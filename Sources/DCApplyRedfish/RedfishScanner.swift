import DCApplyCore
import Logging

/// Reads every ComputerSystem of one Redfish service, with the resources a node needs.
/// A resource the service does not offer (404, 501) or cannot give (5xx after retries, bad
/// JSON) becomes a gap, and the node is observed without it.
struct RedfishScanner: Sendable {
    let connection: RedfishConnection
    /// Systems of one service often share a Chassis: read each once per scan.
    let chassisCache = ChassisCache()

    /// Every System's path, from the service root.
    func systemPaths() async throws -> [String] {
        let root = try await connection.get("/redfish/v1")
        guard let systems = root["Systems"]?.link else {
            throw RedfishError(kind: .missing, message: "\(connection.endpoint)/redfish/v1: the service root links no Systems", status: nil)
        }
        return try await connection.get(systems).memberLinks
    }

    /// One System; with `details`, also its processors, memory (when the summary lacks it),
    /// drives and chassis.
    func system(_ path: String, details: Bool) async throws -> SystemInventory {
        let system = try await connection.get(path)
        var inventory = SystemInventory(endpoint: connection.endpoint, path: path, system: system, drives: [])
        guard details else { return inventory }
        let needsMemory = system["MemorySummary"]?["TotalSystemMemoryGiB"]?.number == nil
        async let processors = collection(system["Processors"]?.link, "Processors")
        async let memory = needsMemory ? collection(system["Memory"]?.link, "Memory") : (nil, [])
        async let drives = drives(system["Storage"]?.link)
        async let chassis = chassis(system["Links"]?["Chassis"]?.array.first?.link)
        let (processorList, processorGaps) = try await processors
        let (memoryList, memoryGaps) = try await memory
        let (driveList, driveGaps) = try await drives
        inventory.processors = processorList
        inventory.memory = memoryList
        inventory.drives = driveList
        inventory.chassis = try await chassis
        inventory.gaps = processorGaps + memoryGaps + driveGaps
        return inventory
    }

    /// The members of a collection; nil with a gap when the collection is not there. A member
    /// that cannot be read is left out, with a gap naming it.
    func collection(_ link: String?, _ what: String) async throws -> ([JSONValue]?, [String]) {
        guard let link else { return (nil, ["\(what) not linked"]) }
        let members: [String]
        do {
            members = try await connection.get(link).memberLinks
        } catch let error as RedfishError where error.kind != .unauthorized {
            return (nil, [gap(what, error)])
        }
        let (found, gaps) = try await read(members, what: "\(what) member")
        return (found.map(\.value), gaps)
    }

    /// Storage → each subsystem → its Drives. Shapes that real BMCs produce and that dcapply
    /// cannot use (a `Drives` that is not an array of links, a drive without `CapacityBytes`
    /// or without a media type) are gaps that name the subsystem or drive, never a crash.
    func drives(_ link: String?) async throws -> ([(storage: String, path: String, drive: JSONValue)], [String]) {
        let (subsystems, subsystemGaps) = try await collection(link, "Storage")
        var listed: [(storage: String, path: String)] = []
        var gaps = subsystemGaps
        for subsystem in subsystems ?? [] {
            let id = subsystem["Id"]?.string ?? "storage"
            switch subsystem["Drives"] {
            case nil: continue
            case .array(let links):
                let paths = links.compactMap(\.link)
                if paths.count < links.count { gaps.append("Storage \(id): \(links.count - paths.count) Drives entries without @odata.id") }
                listed += paths.map { (id, $0) }
            default:
                gaps.append("Storage \(id): Drives is not an array")
            }
        }
        let (found, driveGaps) = try await read(listed.map(\.path), what: "Drive")
        gaps += driveGaps
        var drives: [(storage: String, path: String, drive: JSONValue)] = []
        for (offset, drive) in found where !NodeMapper.isAbsent(drive["Status"]) {  // an empty bay is no problem
            let entry = listed[offset]
            let name = "Storage \(entry.storage) Drive \(drive["Id"]?.string ?? entry.path)"
            guard drive["CapacityBytes"]?.number != nil else {
                gaps.append("\(name): no CapacityBytes; the drive is not used")
                continue
            }
            guard NodeMapper.media(drive) != nil else {
                gaps.append("\(name): neither Protocol NVMe nor MediaType SSD or HDD; the drive is not used")
                continue
            }
            drives.append((entry.storage, entry.path, drive))
        }
        return (drives, gaps)
    }

    /// Reads `paths` concurrently; what could be read with its position in `paths`, and a gap
    /// for each that could not. A refused login stops the scan.
    private func read(_ paths: [String], what: String) async throws -> ([(offset: Int, value: JSONValue)], [String]) {
        let results = try await paths.concurrentMap { [connection] path in
            await outcome { try await connection.get(path) }
        }
        var found: [(offset: Int, value: JSONValue)] = []
        var gaps: [String] = []
        for (offset, result) in results.enumerated() {
            switch result {
            case .success(let value): found.append((offset, value))
            case .failure(let error as RedfishError) where error.kind != .unauthorized:
                gaps.append(gap("\(what) \(paths[offset].split(separator: "/").last ?? "")", error))
            case .failure(let error): throw error
            }
        }
        return (found, gaps)
    }

    /// The System's first Chassis, for its Location; quietly nil when unreadable.
    func chassis(_ link: String?) async throws -> JSONValue? {
        guard let link else { return nil }
        return try await chassisCache.value(for: link) {
            do { return try await connection.get(link) }
            catch let error as RedfishError where error.kind != .unauthorized { return nil }
        }
    }

    private func gap(_ what: String, _ error: RedfishError) -> String {
        switch error.kind {
        case .missing: "\(what) not offered (HTTP \(error.status ?? 404))"
        case .transient: error.status.map { "\(what) unreadable (HTTP \($0))" } ?? "\(what) unreadable (no answer)"
        default: error.status.map { "\(what) unreadable (HTTP \($0))" } ?? "\(what) unreadable (not JSON)"
        }
    }
}

/// One read per Chassis link, shared by every System that asks while or after it runs.
actor ChassisCache {
    private var reads: [String: Task<JSONValue?, any Error>] = [:]

    func value(for link: String, read: @escaping @Sendable () async throws -> JSONValue?) async throws -> JSONValue? {
        if let existing = reads[link] { return try await existing.value }
        let task = Task { try await read() }
        reads[link] = task
        return try await task.value
    }
}
