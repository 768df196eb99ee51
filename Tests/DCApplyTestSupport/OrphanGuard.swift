import Foundation

/// Stops a server a test started if the test process itself dies first (a crash, a `kill`,
/// `swift test` interrupted): servers started in their own session (`createSession`) outlive
/// their parent, and one left running holds its port and its CPU until the machine restarts.
public enum OrphanGuard {
    /// Starts a small shell that waits while this process lives. If `pid` exits first the shell
    /// exits too (the pid may be reused, so it never signals after that); if this process dies
    /// first it sends `SIGTERM` to `pid`, then `SIGKILL` after `grace` seconds.
    public static func stopWhenTestsDie(pid: pid_t, grace: Int = 10) {
        let script = """
            while [ -d /proc/\(getpid()) ]; do kill -0 \(pid) 2>/dev/null || exit 0; sleep 1; done
            kill -TERM \(pid) 2>/dev/null || exit 0
            i=0; while [ $i -lt \(grace) ]; do kill -0 \(pid) 2>/dev/null || exit 0; sleep 1; i=$((i+1)); done
            kill -KILL \(pid) 2>/dev/null
            """
        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: "/bin/sh")
        watcher.arguments = ["-c", script]
        watcher.standardInput = FileHandle.nullDevice
        watcher.standardOutput = FileHandle.nullDevice
        watcher.standardError = FileHandle.nullDevice
        try? watcher.run()
    }
}
