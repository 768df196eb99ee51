import DCApplySlurm
import Foundation

/// A Slurm controller in memory: enough of `scontrol` (create/update/delete of partitions and
/// reservations, node State=/Reason=, `-o show`) and `sinfo --json` for the actuator's tests
/// without a process. Records every scontrol call.
final class InMemorySlurm: SlurmControl, @unchecked Sendable {
    private let lock = NSLock()
    private var partitions: [String: Set<String>] = [:]
    private var reservations: [String: (nodes: Set<String>, accounts: String)] = [:]
    private var nodes: [String: (state: String, drain: Bool, reason: String)]
    private var log: [[String]] = []

    init(nodes names: [String]) {
        nodes = Dictionary(uniqueKeysWithValues: names.map { ($0, (state: "idle", drain: false, reason: "")) })
    }

    /// The calls that changed something, as `scontrol` arguments joined by spaces.
    var writes: [String] { lock.withLock { log.filter { ["create", "update", "delete"].contains($0.first ?? "") }.map { $0.joined(separator: " ") } } }
    func partition(_ name: String) -> Set<String>? { lock.withLock { partitions[name] } }
    func reservation(_ name: String) -> Set<String>? { lock.withLock { reservations[name]?.nodes } }

    func scontrol(_ arguments: [String]) async throws -> SlurmCallResult {
        lock.withLock {
            log.append(arguments)
            var fields: [String: String] = [:]
            for argument in arguments.dropFirst() {
                if let equals = argument.firstIndex(of: "=") { fields[String(argument[..<equals])] = String(argument[argument.index(after: equals)...]) }
            }
            let expand = { (text: String?) in Set((try? Hostlist.expand(text ?? "")) ?? []) }
            switch (arguments.first ?? "", fields["PartitionName"], fields["ReservationName"], fields["NodeName"]) {
            case ("-o", _, _, _) where arguments.contains("partition"):
                return ok(partitions.sorted { $0.key < $1.key }.map { "PartitionName=\($0.key) Nodes=\(Hostlist.compress($0.value)) State=UP" }.joined(separator: "\n"))
            case ("-o", _, _, _):
                return ok(reservations.sorted { $0.key < $1.key }.map { "ReservationName=\($0.key) EndTime=2099-01-01T00:00:00 Nodes=\(Hostlist.compress($0.value.nodes)) Users=(null) Accounts=\($0.value.accounts)" }.joined(separator: "\n"))
            case ("create", let name?, nil, nil):
                guard partitions[name] == nil else { return failed("Invalid partition name specified") }
                partitions[name] = expand(fields["Nodes"])
            case ("update", let name?, nil, nil):
                guard partitions[name] != nil else { return failed("Invalid partition name specified") }
                partitions[name] = expand(fields["Nodes"])
            case ("delete", let name?, nil, nil): partitions[name] = nil
            case ("create", nil, let name?, nil):
                guard reservations[name] == nil else { return failed("Duplicate reservation name") }
                reservations[name] = (expand(fields["Nodes"]), fields["Accounts"] ?? "")
            case ("update", nil, let name?, nil):
                if let nodes = fields["Nodes"] { reservations[name]?.nodes = expand(nodes) }
                if let accounts = fields["Accounts"] { reservations[name]?.accounts = accounts }
            case ("delete", nil, let name?, nil): reservations[name] = nil
            case ("update", nil, nil, let hostlist?):
                for node in expand(hostlist) {
                    switch fields["State"] {
                    case "DOWN": nodes[node] = ("down", false, fields["Reason"] ?? "")
                    case "DRAIN": nodes[node]?.drain = true; nodes[node]?.reason = fields["Reason"] ?? ""
                    case "RESUME": nodes[node] = ("idle", false, "")
                    default: break
                    }
                }
            default: return failed("unsupported by InMemorySlurm: \(arguments)")
            }
            return ok("")
        }
    }

    func sinfo(_ arguments: [String]) async throws -> SlurmCallResult {
        lock.withLock {
            let entries = nodes.sorted { $0.key < $1.key }.map { name, node in
                "{\"name\": \"\(name)\", \"state\": \"\(node.state)\", \"state_flags\": [\(node.drain ? "\"DRAIN\"" : "")], \"reason\": \"\(node.reason)\"}"
            }
            return ok("{\"errors\": [], \"nodes\": [\(entries.joined(separator: ","))]}")
        }
    }

    private func ok(_ output: String) -> SlurmCallResult { SlurmCallResult(exitCode: 0, output: output, error: "") }
    private func failed(_ message: String) -> SlurmCallResult { SlurmCallResult(exitCode: 1, output: "", error: message) }
}
