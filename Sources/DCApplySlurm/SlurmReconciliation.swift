import Foundation

/// The calls that take a Slurm controller from what it shows to a target, what blocks some
/// of them, and drift: a pure function, tested without a controller.
public struct SlurmReconciliation: Hashable, Sendable {
    /// In order: holds, partitions, reservations, resumes, features.
    public var commands: [SlurmCommand]
    /// Objects with a dcapply name that dcapply did not create: never touched.
    public var problems: [String]
    public var drift: [SlurmDrift]

    /// Compares `target` with `observed`, within `scope`.
    ///
    /// Only objects in `owned` are updated or deleted; a missing one is created (and is drift
    /// when dcapply had created it). Nodes a person holds (DOWN or DRAIN with a reason not
    /// from dcapply) are never held again, resumed, or given dcapply's reason.
    public init(target: SlurmTarget, observed: SlurmObservation, owned: SlurmOwnership, scope: SlurmScope = .all,
                now: Date = Date(), extendWithin: TimeInterval = 30 * 86_400) {
        var commands: [SlurmCommand] = []
        var problems: [String] = []
        var drift: [SlurmDrift] = []

        // Holds first: a broken node takes no new work before anything moves.
        var holdBatches: [SlurmTarget.Hold: Set<String>] = [:]
        var resumes = Set<String>()
        var beforeDrain = Set<String>()
        for name in Set(target.holds.keys).union(observed.nodes.keys).sorted() where scope.allows(scope.holds, name) {
            guard let node = observed.nodes[name] else { continue }
            let personHolds = node.isHeld && !node.heldByDcapply
            guard !personHolds else { continue }
            if let hold = target.holds[name] {
                let already: Bool
                switch hold {
                case .down(let reason): already = node.isDown && node.reason == reason
                case .drain(let reason): already = node.isDrained && !node.isDown && node.reason == reason
                }
                guard !already else { continue }
                // DRAIN on a DOWN node leaves it DOWN: lift dcapply's DOWN first.
                if case .drain = hold, node.isDown { beforeDrain.insert(name) }
                holdBatches[hold, default: []].insert(name)
            } else if node.heldByDcapply {
                resumes.insert(name)
            }
        }
        if !beforeDrain.isEmpty { commands.append(.resume(nodes: beforeDrain)) }
        for hold in holdBatches.keys.sorted(by: { $0.reason < $1.reason }) {
            if let nodes = holdBatches[hold] { commands.append(.hold(nodes: nodes, hold)) }
        }

        // Partitions.
        for name in Set(target.partitions.keys).union(owned.partitions.keys).sorted() where scope.allows(scope.partitions, name) {
            let wanted = target.partitions[name]
            let live = observed.partitions[name]
            let applied = owned.partitions[name]
            if applied == nil, live != nil {
                if wanted != nil { problems.append("partition \(name) exists in Slurm but dcapply did not create it: dcapply leaves it alone; rename the pool, set the actuator's prefix, or remove the partition") }
                continue
            }
            if let applied, live?.nodes != applied { drift.append(SlurmDrift(object: "partition", name: name, kind: live == nil ? .deleted : .changed)) }
            switch (wanted, live) {
            case (let nodes?, nil): commands.append(.createPartition(name: name, nodes: nodes))
            case (let nodes?, let live?) where live.nodes != nodes || live.state != "UP": commands.append(.updatePartition(name: name, nodes: nodes))
            case (nil, _?): commands.append(.deletePartition(name: name))
            default: break
            }
        }

        // Reservations.
        for name in Set(target.reservations.keys).union(owned.reservations.keys).sorted() where scope.allows(scope.reservations, name) {
            let wanted = target.reservations[name]
            let live = observed.reservations[name]
            let applied = owned.reservations[name]
            if applied == nil, live != nil {
                if wanted != nil { problems.append("reservation \(name) exists in Slurm but dcapply did not create it: dcapply leaves it alone; rename the workload, set the actuator's prefix, or remove the reservation") }
                continue
            }
            if let applied, live.map({ SlurmOwnership.Reservation(nodes: $0.nodes, accounts: $0.accounts) }) != applied {
                drift.append(SlurmDrift(object: "reservation", name: name, kind: live == nil ? .deleted : .changed))
            }
            switch (wanted, live) {
            case (let want?, nil): commands.append(.createReservation(name: name, nodes: want.nodes, accounts: want.accounts))
            case (let want?, let live?):
                if live.nodes != want.nodes || live.accounts != want.accounts {
                    commands.append(.updateReservation(name: name, nodes: want.nodes, accounts: want.accounts))
                }
                if let end = live.endTime, end.timeIntervalSince(now) < extendWithin {
                    commands.append(.extendReservation(name: name, endTime: now.addingTimeInterval(365 * 86_400)))
                }
            case (nil, _?): commands.append(.deleteReservation(name: name))
            default: break
            }
        }

        if !resumes.isEmpty { commands.append(.resume(nodes: resumes)) }

        // Features: dcapply's `key:value` replaced, every other feature kept; nodes that end
        // with the same lists share one call.
        var featureBatches: [[String]: Set<String>] = [:]
        let keys = target.featureKeys.map { $0 + ":" }
        for (name, wanted) in target.features where scope.allows(scope.features, name) {
            guard let node = observed.nodes[name] else { continue }
            func merged(_ current: [String]) -> [String] {
                current.filter { feature in !keys.contains { feature.hasPrefix($0) } } + wanted.sorted()
            }
            let available = merged(node.availableFeatures)
            let active = merged(node.activeFeatures)
            guard Set(available) != Set(node.availableFeatures) || Set(active) != Set(node.activeFeatures) else { continue }
            featureBatches[available + ["\u{0}"] + active, default: []].insert(name)
        }
        for (key, nodes) in featureBatches.sorted(by: { Hostlist.compress($0.value) < Hostlist.compress($1.value) }) {
            guard let split = key.firstIndex(of: "\u{0}") else { continue }
            commands.append(.setFeatures(nodes: nodes, available: Array(key[..<split]), active: Array(key[(split + 1)...])))
        }

        self.commands = commands
        self.problems = problems
        self.drift = drift
    }
}
