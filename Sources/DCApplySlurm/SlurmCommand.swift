import Foundation

/// One `scontrol` call dcapply makes. Each covers whole objects or whole batches of nodes, so
/// an apply makes calls per pool and workload, not per node.
public enum SlurmCommand: Hashable, Sendable {
    case createPartition(name: String, nodes: Set<String>)
    case updatePartition(name: String, nodes: Set<String>)
    case deletePartition(name: String)
    case createReservation(name: String, nodes: Set<String>, accounts: [String])
    case updateReservation(name: String, nodes: Set<String>, accounts: [String])
    /// Moves the end of a reservation a year out (22.05 has no endless reservation).
    case extendReservation(name: String, endTime: Date)
    case deleteReservation(name: String)
    /// DOWN or DRAIN with dcapply's reason.
    case hold(nodes: Set<String>, SlurmTarget.Hold)
    /// RESUME: only for nodes that are DOWN or DRAINED by dcapply.
    case resume(nodes: Set<String>)
    case setFeatures(nodes: Set<String>, available: [String], active: [String])

    /// The arguments of `scontrol`.
    public var arguments: [String] {
        switch self {
        case .createPartition(let name, let nodes):
            ["create", "PartitionName=\(name)", "Nodes=\(Hostlist.compress(nodes))", "State=UP"]
        case .updatePartition(let name, let nodes):
            ["update", "PartitionName=\(name)", "Nodes=\(Hostlist.compress(nodes))", "State=UP"]
        case .deletePartition(let name):
            ["delete", "PartitionName=\(name)"]
        case .createReservation(let name, let nodes, let accounts):
            ["create", "ReservationName=\(name)", "Nodes=\(Hostlist.compress(nodes))", "StartTime=now", "Duration=infinite",
             "Accounts=\(accounts.joined(separator: ","))", "Flags=OVERLAP"]
        case .updateReservation(let name, let nodes, let accounts):
            ["update", "ReservationName=\(name)", "Nodes=\(Hostlist.compress(nodes))", "Accounts=\(accounts.joined(separator: ","))"]
        case .extendReservation(let name, let endTime):
            ["update", "ReservationName=\(name)", "EndTime=\(Self.timestamp(endTime))"]
        case .deleteReservation(let name):
            ["delete", "ReservationName=\(name)"]
        case .hold(let nodes, .down(let reason)):
            ["update", "NodeName=\(Hostlist.compress(nodes))", "State=DOWN", "Reason=\(reason)"]
        case .hold(let nodes, .drain(let reason)):
            ["update", "NodeName=\(Hostlist.compress(nodes))", "State=DRAIN", "Reason=\(reason)"]
        case .resume(let nodes):
            ["update", "NodeName=\(Hostlist.compress(nodes))", "State=RESUME"]
        case .setFeatures(let nodes, let available, let active):
            ["update", "NodeName=\(Hostlist.compress(nodes))", "AvailableFeatures=\(available.joined(separator: ","))",
             "ActiveFeatures=\(active.joined(separator: ","))"]
        }
    }

    /// For logs and tests: `scontrol update PartitionName=gpu Nodes=n[1-4] State=UP`.
    public var commandLine: String {
        (["scontrol"] + arguments.map { $0.contains(" ") ? $0.replacingOccurrences(of: "=", with: "=\"", options: [], range: $0.range(of: "=")) + "\"" : $0 })
            .joined(separator: " ")
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone.current
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return formatter.string(from: date)
    }
}
