/// A Site's `slurm:` actuator, as written in the manifest.
public struct SlurmSettings: Hashable, Sendable {
    /// `SLURM_CONF` for `scontrol` and `sinfo`; nil: the environment's.
    public var conf: String?
    /// Partitions and reservations are named `prefix` + pool or workload name.
    public var prefix: String
    /// Node label keys mirrored into Slurm features as `key:value`.
    public var features: [String]
    /// How long a node to be powered off may keep running jobs after it is drained.
    public var drainTimeout: Duration
    /// How often a draining node is looked at.
    public var drainPollInterval: Duration

    public init(conf: String? = nil, prefix: String = "", features: [String] = [], drainTimeout: Duration = .seconds(600),
                drainPollInterval: Duration = .seconds(1)) {
        self.conf = conf
        self.prefix = prefix
        self.features = features
        self.drainTimeout = drainTimeout
        self.drainPollInterval = drainPollInterval
    }
}
