import Foundation

/// Who holds the state store's apply lock.
public struct LockHolder: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var pid: Int32
    /// Identifies the process beyond its pid (its start time in clock ticks on Linux), so a pid
    /// reused by another process is not taken for the holder.
    public var processStart: String?
    public var since: Date
    public var command: String

    public init(host: String, pid: Int32, processStart: String?, since: Date, command: String) {
        self.host = host
        self.pid = pid
        self.processStart = processStart
        self.since = since
        self.command = command
    }

    /// This process, holding the lock since `clock`'s now.
    public static func current(command: String, clock: any WallClock = SystemWallClock()) -> LockHolder {
        let pid = getpid()
        return LockHolder(host: ProcessInfo.processInfo.hostName, pid: pid, processStart: processStartToken(pid), since: clock.now, command: command)
    }

    public var description: String {
        "pid \(pid) on \(host) (\(command)), since \(ISO8601DateFormatter().string(from: since))"
    }

    /// Whether the holder is known to be running: true or false on this host, nil (unknown) for
    /// a holder on another host.
    public var isAlive: Bool? {
        guard host == ProcessInfo.processInfo.hostName else { return nil }
        if kill(pid, 0) != 0 && errno == ESRCH { return false }
        if let token = processStart, let now = Self.processStartToken(pid), now != token { return false }
        return true
    }

    /// Field 22 of /proc/PID/stat (start time since boot); nil where there is no /proc.
    static func processStartToken(_ pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
    }
}
