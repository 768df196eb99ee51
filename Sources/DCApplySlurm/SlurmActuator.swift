import DCApplyCore
import Foundation
import Logging

/// The Slurm actuator (`Site.spec.actuators[].slurm`, `actuators.md`): pools become
/// partitions, workloads reservations, drained nodes DOWN or DRAIN with dcapply's reason.
///
/// Each wave's actions are folded into the objects they touch, starting from what dcapply
/// last applied to each object (its records), and every touched object is written whole in
/// one call: calls grow with pools and workloads, not with nodes. Records are written before
/// the call, so a crash cannot leave an object dcapply made but does not own.
public struct SlurmActuator: Actuator {
    public let name = "slurm"
    public var settings: SlurmSettings
    public var control: any SlurmControl

    public init(settings: SlurmSettings, control: any SlurmControl) {
        self.settings = settings
        self.control = control
    }

    /// From the manifest's `slurm:` item.
    public init(configuration: SlurmConfiguration, calls: CallCounter = CallCounter()) {
        let settings = SlurmSettings(conf: configuration.conf, prefix: configuration.prefix, features: configuration.features,
                                     drainTimeout: .milliseconds(Int64(configuration.drainTimeoutSeconds * 1_000)))
        self.init(settings: settings, control: SlurmCommandLine(conf: configuration.conf, calls: calls))
    }

    public func describe() async throws -> ActuatorDescription {
        ActuatorDescription(actions: [.assign, .unassign, .place, .move, .evict, .drain, .resume, .powerOff], observes: true)
    }

    func driver(_ context: ActuatorContext) -> SlurmDriver {
        SlurmDriver(settings: settings, control: control, ownership: RecordsOwnershipStore(records: context.records), logger: context.logger)
    }

    /// Compares Slurm with what dcapply applied: managed objects changed or deleted by hand
    /// become repairs, objects in the way problems, nodes a person took out of service degraded.
    public func observe(_ context: ActuatorContext) async throws -> ActuatorObservation {
        let driver = driver(context)
        let live = try await driver.observe()
        let owned = try driver.ownership.load()
        let siteNodes = Self.siteNodes(context)
        let expected = SlurmTarget.make(target: context.applied, observed: siteNodes, workloads: context.desired.workloads, settings: settings)
        let reconciliation = SlurmReconciliation(target: expected, observed: live, owned: owned, scope: SlurmScope(features: []))
        var observation = ActuatorObservation()
        // Objects in the way: a managed name taken by an object dcapply did not create.
        let site = context.site.metadata.name
        for pool in context.desired.pools.values where pool.site == site {
            let name = settings.prefix + pool.metadata.name
            guard live.partitions[name] != nil, owned.partitions[name] == nil else { continue }
            observation.problems.append(Problem(.error, ResourceAddress(.hardwarePool, pool.metadata.name),
                                                "Slurm: partition \(name) exists in Slurm but dcapply did not create it: dcapply leaves it alone; rename the pool, set the actuator's prefix, or remove the partition"))
        }
        for workload in context.desired.workloads.values where context.desired.pools[workload.pool]?.site == site {
            let name = settings.prefix + workload.metadata.name
            guard live.reservations[name] != nil, owned.reservations[name] == nil else { continue }
            observation.problems.append(Problem(.error, ResourceAddress(.workload, workload.metadata.name),
                                                "Slurm: reservation \(name) exists in Slurm but dcapply did not create it: dcapply leaves it alone; rename the workload, set the actuator's prefix, or remove the reservation"))
        }
        // Repairs: the standing actions of every object the reconciliation would write.
        for command in reconciliation.commands {
            switch command {
            case .createPartition(let name, _), .updatePartition(let name, _):
                let pool = String(name.dropFirst(settings.prefix.count))
                let members = (expected.partitions[name] ?? []).sorted()
                let missing = members.filter { !(live.partitions[name]?.nodes.contains($0) ?? false) }
                for node in missing.isEmpty ? members : missing {
                    observation.repairs.append(Change(.assign, .node(node), to: "HardwarePool/\(pool)", reason: "changed outside dcapply",
                                                      subject: ResourceAddress(.hardwarePool, pool)))
                }
                for node in (live.partitions[name]?.nodes ?? []).subtracting(members).sorted() where owned.partitions[name] != nil {
                    observation.repairs.append(Change(.unassign, .node(node), from: "HardwarePool/\(pool)", reason: "changed outside dcapply",
                                                      subject: ResourceAddress(.hardwarePool, pool)))
                }
            case .createReservation(let name, _, _), .updateReservation(let name, _, _):
                let workload = String(name.dropFirst(settings.prefix.count))
                let subject = ResourceAddress(.workload, workload)
                for replica in context.applied.workloads[workload]?.replicas ?? [] {
                    observation.repairs.append(Change(.place, subject, to: replica.nodes.map { "Node/\($0)" }.joined(separator: ","), replica: replica.index,
                                                      toNodes: replica.nodes, reason: "changed outside dcapply", subject: subject))
                }
            case .hold(let nodes, let hold):
                for node in nodes.sorted() {
                    let cause = context.applied.drained[node]?.rawValue ?? (hold.reason == SlurmNames.degradedReason ? "degraded" : "failed")
                    observation.repairs.append(Change(.drain, .node(node), to: cause, reason: "changed outside dcapply", subject: .node(node)))
                }
            case .deletePartition, .deleteReservation, .resume, .extendReservation, .setFeatures:
                break  // removals and resumes follow from the plan itself; extension happens on apply
            }
        }
        // 22.05 has no endless reservation (Duration=infinite is a year): one that ends within
        // 30 days is written again, which moves its end a year out.
        let written = Set(observation.repairs.filter { $0.action == .place }.map(\.resource.name))
        for (name, reservation) in live.reservations where owned.reservations[name] != nil {
            guard let end = reservation.endTime, end.timeIntervalSinceNow < 30 * 86_400, name.hasPrefix(settings.prefix) else { continue }
            let workload = String(name.dropFirst(settings.prefix.count))
            guard !written.contains(workload) else { continue }
            let subject = ResourceAddress(.workload, workload)
            for replica in context.applied.workloads[workload]?.replicas ?? [] {
                observation.repairs.append(Change(.place, subject, to: replica.nodes.map { "Node/\($0)" }.joined(separator: ","), replica: replica.index,
                                                  toNodes: replica.nodes, reason: "Slurm reservation \(name) ends within 30 days: extended", subject: subject))
            }
        }
        for node in siteNodes {
            guard let slurm = live.nodes[node.name], slurm.isHeld, !slurm.heldByDcapply else { continue }
            let state = slurm.isDown ? "DOWN" : "DRAIN"
            let why = slurm.reason.isEmpty ? "Slurm has it \(state)" : "Slurm has it \(state): \(slurm.reason)"
            observation.degraded[node.name] = why
            // The plan says why: a warning on the node.
            observation.problems.append(Problem(.warning, .node(node.name), "\(why) (not set by dcapply): observed as degraded, it keeps what it has and takes nothing new; dcapply never resumes it"))
        }
        return observation
    }

    /// Carries one wave: folds its actions into the objects they touch, drains (and waits for)
    /// nodes to be powered off, then writes each touched object in one call.
    public func apply(_ actions: [ActuatorAction], context: ActuatorContext) async throws -> [ActuatorResult] {
        let driver = driver(context)
        let siteNodes = Self.siteNodes(context)
        let siteNames = Set(siteNodes.map(\.name))
        var owned = try driver.ownership.load()
        var failures: [String: ActuatorResult.Status] = [:]

        // Drains before a power-off first: they may wait, and what depends on them waits too.
        let powerDrains = actions.filter { $0.change.action == .drain && $0.change.to == DrainCause.powerOff.rawValue }
        if !powerDrains.isEmpty {
            do {
                try await driver.drainForPowerOff(Set(powerDrains.map(\.change.resource.name)))
            } catch let error as ProviderError {
                for action in powerDrains { failures[action.id] = .failed(transient: error.kind == .transient, message: error.message) }
            }
        }

        var target = SlurmTarget(featureKeys: settings.features)
        var scope = SlurmScope(partitions: [], reservations: [], holds: [], features: [])
        var objectOf: [String: String] = [:]  // action id -> object key, for failures
        var replicas: [String: [Int: [String]]] = [:]
        for action in actions where failures[action.id] == nil {
            let change = action.change
            switch change.action {
            case .assign, .unassign:
                guard let pool = (change.to ?? change.from).flatMap(Self.poolName) else { continue }
                let partition = settings.prefix + pool
                if target.partitions[partition] == nil { target.partitions[partition] = owned.partitions[partition] ?? [] }
                if change.action == .assign { target.partitions[partition]?.insert(change.resource.name) } else { target.partitions[partition]?.remove(change.resource.name) }
                scope.partitions?.insert(partition)
                objectOf[action.id] = "partition " + partition
            case .place, .move, .evict:
                let workload = change.resource.name
                let reservation = settings.prefix + workload
                if replicas[workload] == nil {
                    replicas[workload] = try owned.replicas(of: reservation, store: context.records)
                        ?? Dictionary(uniqueKeysWithValues: (context.applied.workloads[workload]?.replicas ?? []).map { ($0.index, $0.nodes) })
                }
                if let index = change.replica { replicas[workload]?[index] = change.action == .evict ? nil : change.toNodes }
                scope.reservations?.insert(reservation)
                objectOf[action.id] = "reservation " + reservation
            case .drain:
                let node = change.resource.name
                switch DrainCause(rawValue: change.to ?? "") {
                case .failed?: target.holds[node] = .down(reason: SlurmNames.failedReason)
                case .degraded?: target.holds[node] = .drain(reason: SlurmNames.degradedReason)
                case .powerOff?, nil: target.holds[node] = .drain(reason: SlurmNames.powerOffReason)
                }
                scope.holds?.insert(node)
                objectOf[action.id] = "node " + node
            case .powerOff:
                target.holds[change.resource.name] = .down(reason: SlurmNames.powerOffReason)
                scope.holds?.insert(change.resource.name)
                objectOf[action.id] = "node " + change.resource.name
            case .resume:
                scope.holds?.insert(change.resource.name)
                objectOf[action.id] = "node " + change.resource.name
            default:
                break
            }
        }
        for (workload, placed) in replicas {
            let reservation = settings.prefix + workload
            try RecordsOwnershipStore(records: context.records).recordReplicas(reservation, placed)
            let nodes = Set(placed.values.flatMap { $0 }).intersection(siteNames)
            guard !nodes.isEmpty else { continue }
            let tenant = context.desired.workloads[workload]?.tenant ?? "dcapply"
            target.reservations[reservation] = SlurmTarget.Reservation(nodes: nodes, accounts: [tenant])
        }
        // Every call also brings dcapply's node features up to date (keys in `features`).
        if !settings.features.isEmpty {
            target.features = SlurmTarget.make(target: TargetState(), observed: siteNodes, workloads: [:], settings: settings).features
            scope.features = nil
        }
        // A pool with no member left has no partition.
        for (name, nodes) in target.partitions where nodes.isEmpty { target.partitions[name] = nil }

        let live = try await driver.observe()
        owned = try driver.ownership.load()
        let plan = SlurmReconciliation(target: target, observed: live, owned: owned, scope: scope)
        var failedObjects: [String: String] = [:]
        for problem in plan.problems {
            let words = problem.split(separator: " ")
            if words.count > 1 { failedObjects["\(words[0]) \(words[1])"] = "Slurm: " + problem }
        }
        for command in plan.commands {
            do {
                try await driver.run(command)
            } catch let error as ProviderError {
                for key in Self.objects(of: command) { failedObjects[key] = error.message }
                if error.kind == .transient { throw error }
            }
        }
        return actions.map { action in
            if let failure = failures[action.id] { return ActuatorResult(id: action.id, failure) }
            if let key = objectOf[action.id], let message = failedObjects[key] {
                return ActuatorResult(id: action.id, .failed(transient: false, message: message))
            }
            return ActuatorResult(id: action.id, .done)
        }
    }

    static func objects(of command: SlurmCommand) -> [String] {
        switch command {
        case .createPartition(let name, _), .updatePartition(let name, _), .deletePartition(let name): ["partition " + name]
        case .createReservation(let name, _, _), .updateReservation(let name, _, _), .deleteReservation(let name), .extendReservation(let name, _):
            ["reservation " + name]
        case .hold(let nodes, _), .resume(let nodes), .setFeatures(let nodes, _, _): nodes.map { "node " + $0 }
        }
    }

    /// `HardwarePool/gpu` → `gpu`.
    static func poolName(_ address: String) -> String? {
        let prefix = Kind.hardwarePool.rawValue + "/"
        return address.hasPrefix(prefix) ? String(address.dropFirst(prefix.count)) : nil
    }

    static func siteNodes(_ context: ActuatorContext) -> [ObservedNode] {
        context.observed.sortedNodes.filter { $0.site == context.site.metadata.name }
    }
}

extension SlurmOwnership {
    /// The replicas recorded for a reservation, nil when none are.
    func replicas(of reservation: String, store: ActuatorRecords) throws -> [Int: [String]]? {
        guard let text = try store.all()["replicas:" + reservation] else { return nil }
        let decoded = try JSONDecoder().decode([String: [String]].self, from: Data(text.utf8))
        return Dictionary(uniqueKeysWithValues: decoded.compactMap { key, nodes in Int(key).map { ($0, nodes) } })
    }
}
