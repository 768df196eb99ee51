import Foundation

/// The JSON plan of the contract (`cli.md`), as Codable types with a stable key order.
public struct PlanDocument: Codable, Sendable {
    public struct ChangeEntry: Codable, Sendable {
        var action: String
        var resource: String
        var from: String?
        var to: String?
        var replica: Int?
        var fromNodes: [String]?
        var toNodes: [String]?
        var reason: String
        /// The manifest the change serves (extra key): groups a saved plan like the original.
        var subject: String?
        /// A drift repair's only actuator (extra key).
        var actuator: String?
    }

    public struct NodeEntry: Codable, Sendable {
        var pool: String?
        var powerState: String
        var estimatedW: Double

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(pool, forKey: .pool)  // null, not absent, for a node in no pool
            try container.encode(powerState, forKey: .powerState)
            try container.encode(estimatedW, forKey: .estimatedW)
        }
    }

    public struct ReplicaEntry: Codable, Sendable {
        var index: Int
        var nodes: [String]
    }

    public struct WorkloadEntry: Codable, Sendable {
        var replicas: [ReplicaEntry]
        var unplaced: Int
    }

    public struct TierEntry: Codable, Sendable {
        var drives: [String]
        var rawTiB: Double
        var satisfied: Bool
    }

    public struct Target: Codable, Sendable {
        var nodes: [String: NodeEntry]
        var workloads: [String: WorkloadEntry]
        var storageTiers: [String: TierEntry]
        var grants: [String: [String]]
        /// Nodes kept out of service by actuators, and why (extra key, absent when none).
        var drained: [String: String]?
    }

    public struct Energy: Codable, Sendable {
        var currentW: Double
        var plannedW: Double
        var lowerBoundW: Double?
        var poweredNodes: Int
        var poweredNodesLowerBound: Int?
    }

    public struct ProblemEntry: Codable, Sendable {
        var severity: String
        var resource: String
        var message: String
    }

    var formatVersion: Int
    var revision: String?
    var summary: String
    var changes: [ChangeEntry]
    var target: Target
    var energy: Energy
    var problems: [ProblemEntry]
    var manifestDigest: String
    var stateSerial: Int
    var moves: Moves
    /// Extra keys: the observed hardware's digest (saved plans are checked against it) and
    /// the number of apply waves the disruption budgets need.
    var observedDigest: String?
    var waves: Int?

    /// Replicas moved, and how many had to move.
    public struct Moves: Codable, Sendable {
        var count: Int
        var required: Int
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(formatVersion, forKey: .formatVersion)
        try container.encode(revision, forKey: .revision)  // null outside git
        try container.encode(summary, forKey: .summary)
        try container.encode(changes, forKey: .changes)
        try container.encode(target, forKey: .target)
        try container.encode(energy, forKey: .energy)
        try container.encode(problems, forKey: .problems)
        try container.encode(manifestDigest, forKey: .manifestDigest)
        try container.encode(stateSerial, forKey: .stateSerial)
        try container.encode(moves, forKey: .moves)
        try container.encodeIfPresent(observedDigest, forKey: .observedDigest)
        try container.encodeIfPresent(waves, forKey: .waves)
    }

    static func roundW(_ watts: Double) -> Double { (watts * 10).rounded() / 10 }

    public static func target(_ target: TargetState, draws: [String: Double]) -> Target {
        Target(
            nodes: target.nodes.mapValues { _ in NodeEntry(pool: nil, powerState: "", estimatedW: 0) }.reduce(into: [:]) { result, entry in
                let state = target.nodes[entry.key]!
                result[entry.key] = NodeEntry(pool: state.pool, powerState: state.powerState.rawValue, estimatedW: roundW(draws[entry.key] ?? 0))
            },
            workloads: target.workloads.mapValues { WorkloadEntry(replicas: $0.replicas.map { ReplicaEntry(index: $0.index, nodes: $0.nodes) }, unplaced: $0.unplaced) },
            storageTiers: target.storageTiers.mapValues { TierEntry(drives: $0.drives.map(\.description), rawTiB: ($0.rawTiB * 1e6).rounded() / 1e6, satisfied: $0.satisfied) },
            grants: target.grants,
            drained: target.drained.isEmpty ? nil : target.drained.mapValues(\.rawValue))
    }

    public init(_ plan: Plan) {
        formatVersion = Plan.formatVersion
        revision = plan.revision
        summary = plan.summary
        changes = plan.changes.map {
            ChangeEntry(action: $0.action.rawValue, resource: $0.resource.description, from: $0.from, to: $0.to, replica: $0.replica,
                        fromNodes: $0.fromNodes, toNodes: $0.toNodes, reason: $0.reason,
                        subject: $0.subject == $0.resource ? nil : $0.subject.description, actuator: $0.actuator)
        }
        target = Self.target(plan.target, draws: plan.targetDrawW)
        energy = Energy(currentW: Self.roundW(plan.energy.currentW), plannedW: Self.roundW(plan.energy.plannedW),
                        lowerBoundW: plan.energy.lowerBoundW.map(Self.roundW), poweredNodes: plan.energy.poweredNodes,
                        poweredNodesLowerBound: plan.energy.poweredNodesLowerBound)
        problems = plan.problems.map { ProblemEntry(severity: $0.severity.rawValue, resource: $0.resource.description, message: $0.message) }
        manifestDigest = plan.manifestDigest
        stateSerial = plan.stateSerial
        moves = Moves(count: plan.moves.count, required: plan.moves.required)
        observedDigest = plan.observedDigest.isEmpty ? nil : plan.observedDigest
        waves = plan.waves
    }

    /// Stable, pretty JSON: keys sorted, so the same plan is the same bytes.
    public static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

extension Plan {
    /// The plan in the contract's JSON: written by ``JSONPrettyWriter`` (``jsonBytes``), the
    /// same bytes as `JSONEncoder` writes for ``PlanDocument``, which remains the fallback.
    public var json: String {
        if let bytes = jsonBytes { return String(decoding: bytes, as: UTF8.self) }
        return PlanDocument.encode(PlanDocument(self))
    }

    /// Reads a plan back from its JSON (a saved plan, or the journal's copy). Throws a
    /// message naming what is wrong; never trusts the document's summary or counts.
    public init(json text: String, source: String) throws {
        let document: PlanDocument
        do {
            document = try JSONDecoder().decode(PlanDocument.self, from: Data(text.utf8))
        } catch {
            throw DCApplyError(.invalidInput, "\(source) is not a dcapply plan: \(Self.describe(error))")
        }
        guard document.formatVersion == Plan.formatVersion else {
            throw DCApplyError(.invalidInput, "\(source) has plan formatVersion \(document.formatVersion); this dcapply reads \(Plan.formatVersion)")
        }
        var changes: [Change] = []
        for (i, entry) in document.changes.enumerated() {
            guard let action = Action(rawValue: entry.action), let resource = ResourceAddress(parsing: entry.resource) else {
                throw DCApplyError(.invalidInput, "\(source): changes[\(i)] has an unknown action or resource (\(entry.action) \(entry.resource))")
            }
            changes.append(Change(action, resource, from: entry.from, to: entry.to, replica: entry.replica, fromNodes: entry.fromNodes,
                                  toNodes: entry.toNodes, reason: entry.reason, subject: entry.subject.flatMap(ResourceAddress.init(parsing:)),
                                  actuator: entry.actuator))
        }
        var target = TargetState()
        var draws: [String: Double] = [:]
        for (name, node) in document.target.nodes {
            target.nodes[name] = .init(pool: node.pool, powerState: PowerState(rawValue: node.powerState) ?? .on)
            draws[name] = node.estimatedW
        }
        for (name, workload) in document.target.workloads {
            target.workloads[name] = .init(replicas: workload.replicas.map { ReplicaPlacement(index: $0.index, nodes: $0.nodes) }, unplaced: workload.unplaced)
        }
        for (name, tier) in document.target.storageTiers {
            target.storageTiers[name] = .init(drives: tier.drives.compactMap(DriveAddress.init), rawTiB: tier.rawTiB, satisfied: tier.satisfied)
        }
        target.grants = document.target.grants
        target.drained = (document.target.drained ?? [:]).compactMapValues(DrainCause.init(rawValue:))
        let problems = document.problems.map {
            Problem(Problem.Severity(rawValue: $0.severity) ?? .error, ResourceAddress(parsing: $0.resource) ?? ResourceAddress("Site", "?"), $0.message)
        }
        self.init(revision: document.revision, changes: changes, target: target, targetDrawW: draws,
                  energy: EnergyEstimate(currentW: document.energy.currentW, plannedW: document.energy.plannedW, lowerBoundW: document.energy.lowerBoundW,
                                         poweredNodes: document.energy.poweredNodes, poweredNodesLowerBound: document.energy.poweredNodesLowerBound),
                  problems: problems, manifestDigest: document.manifestDigest, stateSerial: document.stateSerial, nodeCount: document.target.nodes.count)
        moves = Moves(count: document.moves.count, required: document.moves.required)
        observedDigest = document.observedDigest ?? ""
        waves = document.waves ?? 1
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing key \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        case DecodingError.dataCorrupted(let context):
            return context.debugDescription
        default:
            return "\(error)"
        }
    }
}
