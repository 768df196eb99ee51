/// One node as Slurm reports it (`sinfo --json`).
public struct SlurmNode: Hashable, Sendable {
    public var name: String
    /// `idle`, `allocated`, `mixed`, `down`, `unknown`, … (lower case).
    public var state: String
    /// `DRAIN`, `NOT_RESPONDING`, `POWERED_DOWN`, `RESERVED`, … (upper case).
    public var flags: Set<String>
    /// Empty when none.
    public var reason: String
    public var availableFeatures: [String]
    public var activeFeatures: [String]

    public init(name: String, state: String, flags: Set<String> = [], reason: String = "", availableFeatures: [String] = [], activeFeatures: [String] = []) {
        self.name = name
        self.state = state.lowercased()
        self.flags = flags
        self.reason = reason
        self.availableFeatures = availableFeatures
        self.activeFeatures = activeFeatures
    }

    public var isDown: Bool { state == "down" }
    public var isDrained: Bool { flags.contains("DRAIN") }
    /// DOWN or DRAIN: RESUME is accepted only then (22.05 answers rc=1 otherwise).
    public var isHeld: Bool { isDown || isDrained }
    /// The reason was written by dcapply, so dcapply may lift it.
    public var heldByDcapply: Bool { isHeld && reason.hasPrefix(SlurmNames.reasonPrefix) }
    /// Runs or finishes a job.
    public var isBusy: Bool {
        ["allocated", "mixed", "completing"].contains(state) || flags.contains("COMPLETING")
    }
}
