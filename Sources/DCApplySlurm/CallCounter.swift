/// Counts `scontrol` calls and keeps their arguments.
public actor CallCounter {
    public private(set) var calls: [[String]] = []

    public init() {}

    public func record(_ arguments: [String]) {
        calls.append(arguments)
    }

    public var count: Int { calls.count }

    /// Calls that change something (`create`, `update`, `delete`).
    public var writes: [[String]] { calls.filter { ["create", "update", "delete"].contains($0.first ?? "") } }

    public func reset() { calls = [] }
}
