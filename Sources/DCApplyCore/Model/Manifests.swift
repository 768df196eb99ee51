/// Metadata every manifest carries, and where it was read from.
public struct ObjectMetadata: Hashable, Sendable {
    public var name: String
    public var labels: [String: String]
    public var annotations: [String: String]
    /// Where the document starts, for messages that point back at it.
    public var source: SourceLocation

    public init(name: String, labels: [String: String] = [:], annotations: [String: String] = [:], source: SourceLocation) {
        self.name = name
        self.labels = labels
        self.annotations = annotations
        self.source = source
    }
}

/// A resource amount per key (`gpus`, `cpuCores`, `memoryGiB`, custom keys such as `nicGbps`).
public typealias ResourceMap = [String: Double]

/// The physical site: its failure-domain hierarchy and where observed state comes from.
public struct Site: Hashable, Sendable {
    public var metadata: ObjectMetadata
    /// Node label keys, coarse to fine.
    public var failureDomains: [String]
    public var provider: ProviderConfiguration
    /// Systems that carry the plan beyond power (`spec.actuators`), in manifest order.
    public var actuators: [ActuatorConfiguration] = []

    /// The label key that power caps are counted by: `rack` when the site lists it, else the
    /// finest failure domain.
    public var powerDomain: String {
        failureDomains.contains("rack") ? "rack" : (failureDomains.last ?? "rack")
    }
}

/// Where a site's observed state comes from.
public enum ProviderConfiguration: Hashable, Sendable {
    /// A YAML inventory file; `inventoryPath` is resolved against the Site's manifest file.
    case local(inventoryPath: String, declaredPath: String, declaredAt: SourceLocation)
    case redfish(RedfishConfiguration)
    case exec(ExecConfiguration)

    public var name: String {
        switch self {
        case .local: "local"
        case .redfish: "redfish"
        case .exec: "exec"
        }
    }
}

/// An external program speaking the exec protocol (`docs/providers/exec.md`), as provider or
/// actuator.
public struct ExecConfiguration: Hashable, Sendable {
    /// Program and arguments as written; a relative program path is resolved against `directory`.
    public var command: [String]
    /// The folder of the manifest that declares it; the program runs there.
    public var directory: String
    /// Per call.
    public var timeoutSeconds: Double
    public var source: SourceLocation?

    public static let defaultTimeoutSeconds: Double = 60

    public init(command: [String], directory: String, timeoutSeconds: Double = defaultTimeoutSeconds, source: SourceLocation? = nil) {
        self.command = command
        self.directory = directory
        self.timeoutSeconds = timeoutSeconds
        self.source = source
    }

    /// The program's path: as written when absolute or a bare name found on PATH, else
    /// relative to `directory`.
    public var executable: String {
        guard let program = command.first else { return "" }
        if program.hasPrefix("/") || !program.contains("/") { return program }
        return directory.hasSuffix("/") ? directory + program : directory + "/" + program
    }
}

/// A Slurm controller driven with its own client tools (`actuators.md`).
public struct SlurmConfiguration: Hashable, Sendable {
    /// SLURM_CONF for scontrol and sinfo; nil: the environment's.
    public var conf: String?
    /// Partitions and reservations are named prefix + pool or workload name.
    public var prefix: String
    /// Node label keys mirrored into node features as `key:value`.
    public var features: [String]
    /// How long to wait for jobs to leave a node before a power-off.
    public var drainTimeoutSeconds: Double
    public var source: SourceLocation?

    public static let defaultDrainTimeoutSeconds: Double = 600

    public init(conf: String? = nil, prefix: String = "", features: [String] = [], drainTimeoutSeconds: Double = defaultDrainTimeoutSeconds,
                source: SourceLocation? = nil) {
        self.conf = conf
        self.prefix = prefix
        self.features = features
        self.drainTimeoutSeconds = drainTimeoutSeconds
        self.source = source
    }
}

/// One item of `Site.spec.actuators`.
public enum ActuatorConfiguration: Hashable, Sendable {
    case slurm(SlurmConfiguration)
    case exec(ExecConfiguration)

    /// The kind, as written in the manifest.
    public var kind: String {
        switch self {
        case .slurm: "slurm"
        case .exec: "exec"
        }
    }
}

/// How to reach a site's BMCs. Credentials are references (`env:NAME`, `file:PATH`), never values.
/// Relative paths (`endpointsFile`, `caFile`, `labelsFrom`, `file:` references) are already
/// resolved against the Site's manifest file.
public struct RedfishConfiguration: Hashable, Sendable {
    public var endpoints: [String]
    public var endpointsFile: String?
    public var usernameFrom: String?
    public var passwordFrom: String?
    public var caFile: String?
    public var insecureSkipVerify: Bool
    public var concurrency: Int
    public var labelsFrom: String?
    /// Where `provider.redfish` is written, for diagnostics.
    public var source: SourceLocation?

    public init(endpoints: [String], endpointsFile: String? = nil, usernameFrom: String? = nil, passwordFrom: String? = nil,
                caFile: String? = nil, insecureSkipVerify: Bool = false, concurrency: Int = 32, labelsFrom: String? = nil,
                source: SourceLocation? = nil) {
        self.endpoints = endpoints
        self.endpointsFile = endpointsFile
        self.usernameFrom = usernameFrom
        self.passwordFrom = passwordFrom
        self.caFile = caFile
        self.insecureSkipVerify = insecureSkipVerify
        self.concurrency = concurrency
        self.labelsFrom = labelsFrom
        self.source = source
    }
}

/// How members must be spread across failure domains, and how disruptive a change may be.
public struct RedundancyPolicy: Hashable, Sendable {
    public var metadata: ObjectMetadata
    public var failureDomain: String
    public var maxPerDomain: Int?
    public var minDomains: Int?
    public var spares: Int
    public var maxUnavailable: Int?
}

/// A pool's size: whole nodes, or GPUs met with whole nodes.
public enum PoolSize: Hashable, Sendable {
    case nodes(Int)
    case gpus(Int)
}

/// A set of whole nodes reserved for one purpose.
public struct HardwarePool: Hashable, Sendable {
    public var metadata: ObjectMetadata
    public var site: String
    public var nodeSelector: LabelSelector?
    public var gpuModel: String?
    public var minGpuMemoryGiB: Double?
    /// Absent: every matching healthy node.
    public var size: PoolSize?
    public var redundancy: String?
}

/// An AI deployment or job: replicas placed on the nodes of one pool.
public struct Workload: Hashable, Sendable {
    public var metadata: ObjectMetadata
    public var pool: String
    public var tenant: String?
    public var replicas: Int
    /// Per replica.
    public var resources: ResourceMap
    public var redundancy: String?
    public var colocate: String?
    public var priority: Int

    public var gpusPerReplica: Int { Int(resources["gpus"] ?? 0) }
}

/// Drive media types.
public enum Media: String, Hashable, Sendable, CaseIterable {
    case nvme, ssd, hdd
}

/// How a storage tier protects data.
public enum Protection: Hashable, Sendable, CustomStringConvertible {
    case replicas(Int)
    case erasure(data: Int, parity: Int)

    /// Data chunks per stripe.
    public var dataChunks: Int {
        switch self {
        case .replicas: 1
        case .erasure(let data, _): data
        }
    }

    /// Chunks per stripe, each in a different failure domain.
    public var width: Int {
        switch self {
        case .replicas(let count): count
        case .erasure(let data, let parity): data + parity
        }
    }

    public var description: String {
        switch self {
        case .replicas(let count): "\(count) replicas"
        case .erasure(let data, let parity): "erasure \(data)+\(parity)"
        }
    }
}

/// Usable capacity on drives of one media type, protected across failure domains.
public struct StorageTier: Hashable, Sendable {
    public var metadata: ObjectMetadata
    public var site: String
    public var media: Media
    public var usableTiB: Double
    public var protection: Protection
    public var redundancy: String?
    public var encryptionRequired: Bool
    public var nodeSelector: LabelSelector?
}

/// A group of people and what they may do; the policy's name is the group's name.
public struct AccessPolicy: Hashable, Sendable {
    public struct Member: Hashable, Sendable {
        public var user: String
        public var keys: [String]
    }

    public struct Rule: Hashable, Sendable {
        public var kinds: [String]
        /// Globs; empty means all names.
        public var names: [String]
        public var verbs: [String]

        public func allows(_ verb: String, on address: ResourceAddress) -> Bool {
            guard verbs.contains(verb), kinds.contains(address.kind) else { return false }
            return names.isEmpty || names.contains { Glob.matches(pattern: $0, address.name) }
        }
    }

    public var metadata: ObjectMetadata
    public var members: [Member]
    public var rules: [Rule]

    public func allows(_ verb: String, on address: ResourceAddress) -> Bool {
        rules.contains { $0.allows(verb, on: address) }
    }
}

/// Power limits and how to save energy.
public struct EnergyPolicy: Hashable, Sendable {
    public var metadata: ObjectMetadata
    public var site: String
    public var rackPowerCapKW: Double?
    /// Per-rack cap overrides, in kW, by the value of the rack label.
    public var rackCapsKW: [String: Double]
    public var powerOffIdle: Bool
    public var keepWarm: Int

    /// The cap for one rack in watts, if any.
    public func capW(rack: String) -> Double? {
        if let override = rackCapsKW[rack] { return override * 1000 }
        return rackPowerCapKW.map { $0 * 1000 }
    }
}
