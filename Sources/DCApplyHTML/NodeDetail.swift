/// What a node's detail pane shows when its cell is clicked or focused; the page carries these
/// as compact JSON (`NodeDetailsTable`) that its script turns into the pane.
public struct NodeDetail: Sendable, Hashable {
    public var name: String
    public var state: String
    public var pool: String
    public var gpus: String
    /// Estimated draw under the target shown, and the node's maximum, in watts.
    public var drawW: Double
    public var maxW: Double
    /// `llama-70b #0`, `train-gang #3 (gang of 2)`.
    public var replicas: [String]
    /// `rack=r01`.
    public var labels: [String]
    /// `nvme0 nvme 7.68 TiB (self-encrypting), tier fast`.
    public var drives: [String]
    /// Where the node is described (`inventory.yaml:12:5`), or the provider.
    public var source: String
    /// What the plan does to it, in words, or empty.
    public var change: String
}
