/// The state an apply reached when only some of its changes were done: the changes done,
/// folded over the state before the apply. Pure.
public enum PartialTarget {
    /// - Parameters:
    ///   - base: the applied target the plan was made against.
    ///   - observed: the hardware now (node power states and drive sizes).
    ///   - done: indexes of `plan.changes` that were carried out.
    public static func fold(_ plan: Plan, done: Set<Int>, base: TargetState, observed: ObservedState) -> TargetState {
        var state = base
        for (name, node) in observed.nodes where state.nodes[name] == nil {
            state.nodes[name] = .init(pool: nil, powerState: node.powerState)
        }
        for (name, node) in observed.nodes { state.nodes[name]?.powerState = node.powerState }
        var placesLeft: [String: Int] = [:]
        for (i, change) in plan.changes.enumerated() {
            guard done.contains(i) else {
                if change.action == .place { placesLeft[change.resource.name, default: 0] += 1 }
                continue
            }
            apply(change, to: &state)
        }
        // What the plan computed for each workload and tier, corrected for what was not done.
        for (name, _) in state.workloads {
            let planned = plan.target.workloads[name]?.unplaced ?? 0
            state.workloads[name]?.unplaced = planned + (placesLeft[name] ?? 0)
            if plan.target.workloads[name] == nil && state.workloads[name]?.replicas.isEmpty == true { state.workloads[name] = nil }
        }
        for (name, planned) in plan.target.storageTiers where state.storageTiers[name] == nil {
            state.storageTiers[name] = .init(drives: [], rawTiB: 0, satisfied: planned.drives.isEmpty && planned.satisfied)
        }
        for (name, tier) in state.storageTiers {
            let raw = tier.drives.reduce(0.0) { sum, drive in
                sum + (observed.nodes[drive.node]?.drives.first { $0.id == drive.drive }?.capacityTiB ?? 0)
            }
            let planned = plan.target.storageTiers[name]
            let complete = planned.map { $0.drives == tier.drives } ?? tier.drives.isEmpty
            state.storageTiers[name] = .init(drives: tier.drives, rawTiB: raw, satisfied: complete ? (planned?.satisfied ?? false) : false)
            if planned == nil && tier.drives.isEmpty { state.storageTiers[name] = nil }
        }
        return state
    }

    static func apply(_ change: Change, to state: inout TargetState) {
        // A repair of drift restores what the state already records.
        guard change.actuator == nil else { return }
        let name = change.resource.name
        switch change.action {
        case .assign: state.nodes[name, default: .init(pool: nil, powerState: .on)].pool = change.to.map(poolName)
        case .unassign: state.nodes[name]?.pool = nil
        case .powerOn: state.nodes[name, default: .init(pool: nil, powerState: .on)].powerState = .on
        case .powerOff: state.nodes[name, default: .init(pool: nil, powerState: .off)].powerState = .off
        case .place, .move:
            guard let index = change.replica else { return }
            var replicas = state.workloads[name]?.replicas.filter { $0.index != index } ?? []
            replicas.append(ReplicaPlacement(index: index, nodes: change.toNodes ?? []))
            state.workloads[name] = .init(replicas: replicas, unplaced: state.workloads[name]?.unplaced ?? 0)
        case .evict:
            guard let index = change.replica, let workload = state.workloads[name] else { return }
            state.workloads[name] = .init(replicas: workload.replicas.filter { $0.index != index }, unplaced: workload.unplaced)
        case .attachDrive, .detachDrive:
            guard let drive = DriveAddress(name), let tier = (change.action == .attachDrive ? change.to : change.from).map(poolName) else { return }
            let current = state.storageTiers[tier] ?? .init(drives: [], rawTiB: 0, satisfied: false)
            var drives = current.drives.filter { $0 != drive }
            if change.action == .attachDrive { drives.append(drive) }
            state.storageTiers[tier] = .init(drives: drives, rawTiB: current.rawTiB, satisfied: current.satisfied)
        case .grant:
            guard let pool = change.to.map(poolName) else { return }
            state.grants[name, default: []] = Array(Set(state.grants[name, default: []] + [pool])).sorted()
        case .drain:
            state.drained[name] = change.to.flatMap(DrainCause.init(rawValue:)) ?? .degraded
        case .resume:
            state.drained[name] = nil
        case .revoke:
            guard let pool = change.from.map(poolName) else { return }
            state.grants[name] = state.grants[name]?.filter { $0 != pool }
            if state.grants[name]?.isEmpty == true { state.grants[name] = nil }
        }
    }

    /// `HardwarePool/p` → `p`; `StorageTier/t` → `t`.
    static func poolName(_ address: String) -> String {
        address.firstIndex(of: "/").map { String(address[address.index(after: $0)...]) } ?? address
    }
}
