/// Names and reasons dcapply writes into Slurm.
public enum SlurmNames {
    /// Every reason dcapply sets starts with it; a reason without it was set by a person.
    public static let reasonPrefix = "dcapply:"
    public static let failedReason = "dcapply: failed"
    public static let degradedReason = "dcapply: degraded"
    public static let powerOffReason = "dcapply: power off"
}
