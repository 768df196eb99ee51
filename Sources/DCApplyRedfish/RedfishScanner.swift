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

    /// The members of a collection; nil with a gap when the collection is not there.
    func collection(_ link: String?, _ what: String) async throws -> ([JSONValue]?, [String]) {
        guard let link else { return (nil, ["\(what) not linked"]) }
        let members: [String]
        do {
            members = try await connection.get(link).memberLinks
        } catch let error as RedfishError where error.kind != .unauthorized {
            return (nil, [gap(what, error)])
        }
        return try await withThrowingTaskGroup(of: (Int, JSONValue?, String?).self) { group in
            for (index, member) in members.enumerated() {
                group.addTask {
                    do { return (index, try await connection.get(member), nil) }
                    catch let error as RedfishError where error.kind != .unauthorized { return (index, nil, gap(what, error)) }
                }
            }
            var found: [(Int, JSONValue)] = []
            var gaps: [String] = []
            for try await (index, value, gap) in group {
                if let value { found.append((index, value)) }
                if let gap { gaps.append(gap) }
            }
            return (found.sorted { $0.0 < $1.0 }.map(\.1), gaps)
        }
    }

    /// Storage → each subsystem → its Drives.
    func drives(_ link: String?) async throws -> ([(storage: String, path: String, drive: JSONValue)], [String]) {
        let (subsystems, gaps) = try await collection(link, "Storage")
        var listed: [(storage: String, path: String)] = []
        for subsystem in subsystems ?? [] {
            let id = subsystem["Id"]?.string ?? "storage"
            listed += subsystem["Drives"]?.array.compactMap(\.link).map { (id, $0) } ?? []
        }
        return try await withThrowingTaskGroup(of: (Int, JSONValue?, String?).self) { group in
            for (index, entry) in listed.enumerated() {
                group.addTask {
                    do { return (index, try await connection.get(entry.path), nil) }
                    catch let error as RedfishError where error.kind != .unauthorized { return (index, nil, gap("Drives", error)) }
                }
            }
            var found: [(Int, JSONValue)] = []
            var driveGaps: [String] = []
            for try await (index, value, gap) in group {
                if let value { found.append((index, value)) }
                if let gap { driveGaps.append(gap) }
            }
            let drives = found.sorted { $0.0 < $1.0 }.map { (storage: listed[$0.0].storage, path: listed[$0.0].path, drive: $0.1) }
            return (drives, gaps + driveGaps)
        }
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
