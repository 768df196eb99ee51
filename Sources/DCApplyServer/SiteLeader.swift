import Foundation

/// Who leads a site: the controller that acts for it, as its leader row names it.
public struct SiteLeader: Codable, Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var pid: Int32
    /// When it took the leadership.
    public var since: Date

    /// A leader named by host, process id and the time it took over.
    public init(host: String, pid: Int32, since: Date) {
        self.host = host
        self.pid = pid
        self.since = since
    }

    /// This process, leading from `since`.
    public static func current(since: Date = Date()) -> SiteLeader {
        SiteLeader(host: ProcessInfo.processInfo.hostName, pid: ProcessInfo.processInfo.processIdentifier, since: since)
    }

    /// `host pid N`, as `/status` messages and logs name it.
    public var description: String { "\(host) pid \(pid)" }
}
