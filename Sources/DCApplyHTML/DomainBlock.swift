/// A failure domain on the map (a site, room, row or rack), holding smaller domains or nodes.
public struct DomainBlock: Sendable, Hashable {
    /// The label key (`rack`), or `site` for the outermost block.
    public var kind: String
    /// The label value (`r01`), or the Site's name.
    public var value: String
    /// `rack r01`.
    public var title: String
    /// Nested domains; empty at the finest level (a template walks it recursively).
    public var children: [DomainBlock]
    /// The nodes, at the finest level only.
    public var cells: [NodeCell]
    public var nodeCount: Int
    /// Stored, not computed: templates read fields by reflection, which sees stored ones only.
    public var hasChildren: Bool
    public var hasCells: Bool
    /// The power domain (usually the rack) shows its draw against its cap.
    public var hasBar: Bool
    public var bar: PowerBar
    /// Extra classes: `draw-changed` when the plan changes its draw, `over-cap`.
    public var classes: String
}

/// A power domain's estimated draw against its cap, in a `<meter>` with the figures as text.
public struct PowerBar: Sendable, Hashable {
    public var drawW: Double
    /// The cap, or the nodes' summed maximum when no cap is set (`hasCap` false).
    public var maxW: Double
    public var hasCap: Bool
    /// `84.2 kW of 140 kW cap` or `84.2 kW (no cap; 163.2 kW at full load)`.
    public var text: String
    public var overCap: Bool
    /// The plan changes this domain's draw: `was 60.0 kW`.
    public var drawChanged: Bool
    public var beforeText: String
    /// 90% of the cap: the meter turns amber above it.
    public var highW: Double

    public static let none = PowerBar(drawW: 0, maxW: 1, hasCap: false, text: "", overCap: false, drawChanged: false, beforeText: "", highW: 1)
}
