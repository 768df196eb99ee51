/// One node's cell on the map: what the template writes into its `<button>`.
///
/// Every field is a plain value (no optionals): a template lookup that finds nothing on the cell
/// would climb to the enclosing block and print its value instead.
public struct NodeCell: Sendable, Hashable {
    /// Position in the page's node details.
    public var index: Int
    public var name: String
    /// `s-healthy`, `s-degraded`, `s-failed` or `s-off`, the draw and GPU-use buckets (`d0`…`d4`,
    /// `g0`…`g4`), the pool's outline (`p0`…`p7`), and `chg chg-gain` (…`lose`, `move`, `other`)
    /// when the plan changes the node.
    public var classes: String
    /// `✕` failed, `!` degraded, `○` powered off, empty when healthy and on.
    public var symbol: String
    public var hasSymbol: Bool
    /// `healthy`, `degraded`, `failed` or `powered off`.
    public var stateWords: String
    public var pool: String
    public var changed: Bool
    public var changeSymbol: String
    /// `gain`, `lose`, `move`, `other`, or empty.
    public var change: String
    /// The accessible name: the node, its state, its pool and its change in words.
    public var label: String
}
