/// The hard rules of placement (the spec's hard constraints, `manifests.md`), as a set.
///
/// Every strategy declares the rules it moves within (``PlacementStrategy/honours``); the
/// kernel hands a strategy only problems whose rules it honours (``admits(_:)``), and keeps
/// out of a problem what the strategy cannot see (for example: replicas with a spread stay
/// where they are when a strategy does not honour spread).
struct PlacementRules: OptionSet, Sendable, CustomStringConvertible {
    let rawValue: Int

    /// Per node and resource key, what is placed fits its capacity (``CapacityRule``).
    static let capacity = PlacementRules(rawValue: 1 << 0)
    /// A node belongs to at most one pool, and a replica runs only on its pool's members.
    static let poolExclusivity = PlacementRules(rawValue: 1 << 1)
    /// Only healthy nodes take anything new; failed nodes keep nothing (``HealthRule``).
    static let health = PlacementRules(rawValue: 1 << 2)
    /// At most `maxPerDomain` per failure domain (``DomainSpread``, ``SpreadRule``).
    static let spread = PlacementRules(rawValue: 1 << 3)
    /// A gang takes whole free nodes, all in one `colocate` domain (``GangRule``).
    static let gangs = PlacementRules(rawValue: 1 << 4)
    /// A rack's estimated draw stays within its cap (``RackCapRule``, ``PowerModel``).
    static let rackCaps = PlacementRules(rawValue: 1 << 5)
    /// `encryption: required` takes self-encrypting drives only (``EncryptionRule``).
    static let encryption = PlacementRules(rawValue: 1 << 6)
    /// A storage tier's protection rule holds across its failure domains (``TierPlacer``).
    static let protection = PlacementRules(rawValue: 1 << 7)

    /// Every hard rule.
    static let all: PlacementRules = [.capacity, .poolExclusivity, .health, .spread, .gangs, .rackCaps, .encryption, .protection]

    /// Whether a strategy honouring these rules may be handed a problem bound by `problem`:
    /// it must honour every one of them.
    func admits(_ problem: PlacementRules) -> Bool { isSuperset(of: problem) }

    var description: String {
        let names: [(PlacementRules, String)] = [(.capacity, "capacity"), (.poolExclusivity, "poolExclusivity"), (.health, "health"),
                                                 (.spread, "spread"), (.gangs, "gangs"), (.rackCaps, "rackCaps"),
                                                 (.encryption, "encryption"), (.protection, "protection")]
        return "[" + names.filter { contains($0.0) }.map(\.1).joined(separator: ", ") + "]"
    }
}
