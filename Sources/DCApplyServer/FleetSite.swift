/// One site of a ``SiteFleet``: its name (its Site), its folder, and the loop that serves it
/// with its own store, status, metrics and leadership.
public struct FleetSite: Sendable {
    public var name: String
    public var path: String
    public var loop: GitOpsLoop
    /// Called once its loop has stopped: releases its leadership and closes its store.
    public var close: @Sendable () -> Void

    /// Site `name` of folder `path`, served by `loop`.
    public init(name: String, path: String, loop: GitOpsLoop, close: @escaping @Sendable () -> Void = {}) {
        self.name = name
        self.path = path
        self.loop = loop
        self.close = close
    }

    /// Its status, metrics and signals.
    public var state: ServeState { loop.state }
}
