/// A difference between a managed Slurm object and what dcapply last applied to it.
public struct SlurmDrift: Hashable, Sendable {
    public enum Kind: String, Sendable { case changed, deleted }

    /// `partition` or `reservation`.
    public var object: String
    public var name: String
    public var kind: Kind

    /// `partition gpu: changed outside dcapply`.
    public var description: String {
        "\(object) \(name): " + (kind == .deleted ? "deleted outside dcapply" : "changed outside dcapply")
    }
}
