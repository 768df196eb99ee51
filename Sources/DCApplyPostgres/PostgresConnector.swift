import DCApplyCore
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// One PostgreSQL session that comes back after an outage. It hands out the open connection,
/// and when that connection broke (the server restarted, the session was terminated, the
/// network cut) it opens a new one on the next ``lease(reconnecting:)``, no sooner than a
/// backoff allows: 0.25 s after the first failed attempt, doubling to at most 5 s, so a store
/// asked every pass does not hammer a server that is down.
///
/// An outage is logged twice, whatever the number of passes or attempts it lasts: once when
/// it starts (a warning) and once when a new session is open (a notice, with its length).
///
/// Each session opened gets a new ``Lease/generation``: what was tied to a session (an advisory
/// lock, a leadership) is gone when the generation changed. The connector never replays
/// anything on a new session; its owner decides what a lost session means.
final class PostgresConnector: Sendable {
    /// An open connection and the number of the session it is.
    struct Lease: Sendable {
        let connection: PostgresConnection
        let generation: Int
    }

    /// The first wait after a failed attempt, in seconds; it doubles up to ``maximumBackoff``.
    static let firstBackoff = 0.25
    static let maximumBackoff = 5.0

    private struct State {
        var connection: PostgresConnection?
        /// Sessions opened so far; the open one's number.
        var generation = 0
        /// When the outage under way started (nil: none); logged once, when it starts.
        var outageStart: Date?
        var failedAttempts = 0
        var backoff = 0.0
        var nextAttempt = Date.distantPast
        var lastFailure = ""
        var isShutDown = false
    }

    /// What the log and errors call the server (the URL without a password).
    let name: String
    private let configuration: PostgresConnection.Configuration
    private let group: MultiThreadedEventLoopGroup
    private let connectionLogger: Logger
    private let outageLogger: Mutex<Logger>
    private let state = Mutex(State())

    init(configuration: PostgresConnection.Configuration, name: String, logger: Logger) {
        self.configuration = configuration
        self.name = name
        connectionLogger = logger
        outageLogger = Mutex(logger)
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// Where outages are reported (`serve` passes its own logger, so they land in its log).
    func reportOutages(to logger: Logger) {
        outageLogger.withLock { $0 = logger }
    }

    /// The open session; when it broke and `reconnecting`, a new one (once the backoff allows).
    /// Throws when there is none to be had now.
    func lease(reconnecting: Bool = true) throws -> Lease {
        try state.withLock { state in
            if state.isShutDown { throw DCApplyError(.stateStore, "the state store \(name) is closed") }
            if let connection = state.connection {
                if !connection.isClosed { return Lease(connection: connection, generation: state.generation) }
                state.connection = nil
                begin(&state, outage: "the connection closed")
                Self.closeInBackground(connection)
            }
            guard reconnecting else { throw notConnected(state) }
            let now = Date()
            guard now >= state.nextAttempt else { throw notConnected(state) }
            do {
                let opened = try PostgresConnection.connect(on: group.next(), configuration: configuration, id: state.generation + 1,
                                                            logger: connectionLogger).wait()
                detectDeadPeers(opened)
                state.connection = opened
                state.generation += 1
                if let start = state.outageStart {
                    let seconds = String(format: "%.1f", now.timeIntervalSince(start))
                    outageLogger.withLock { $0 }.notice("reconnected to PostgreSQL at \(name) after \(seconds) s (\(state.failedAttempts + 1) attempts)",
                                                         source: "dcapply.postgres")
                }
                state.outageStart = nil
                state.failedAttempts = 0
                state.backoff = 0
                state.nextAttempt = .distantPast
                return Lease(connection: opened, generation: state.generation)
            } catch {
                let readable = PostgresStateStore.readable(error)
                state.failedAttempts += 1
                state.backoff = min(max(state.backoff * 2, Self.firstBackoff), Self.maximumBackoff)
                state.nextAttempt = now.addingTimeInterval(state.backoff)
                state.lastFailure = "\(readable)"
                if state.generation > 0 { begin(&state, outage: "cannot connect: \(readable)") }
                throw DCApplyError(.stateStore, "cannot connect to PostgreSQL at \(name)", underlying: readable)
            }
        }
    }

    /// TCP settings of each session (the server's side of the socket), so that when a
    /// controller's machine or network goes away without closing its connection, the server
    /// ends its sessions — and releases the apply and leader locks they hold — within seconds
    /// instead of the hours of the system's TCP defaults: keepalive probes after 2 s idle, one a
    /// second, 3 unanswered end the session (about 5 s); data left unacknowledged for 5 s ends
    /// it too (`tcp_user_timeout`, PostgreSQL 12 and later). Ignored on Unix sockets.
    static let keepaliveSettings = [("tcp_keepalives_idle", "2"), ("tcp_keepalives_interval", "1"), ("tcp_keepalives_count", "3"),
                                    ("tcp_user_timeout", "5000")]

    /// Applies ``keepaliveSettings`` to a new session, each on its own so that a server without
    /// one of them (before 12: `tcp_user_timeout`) keeps the others; a refusal only costs the
    /// faster detection, so it is not an error.
    private func detectDeadPeers(_ connection: PostgresConnection) {
        for (name, value) in Self.keepaliveSettings {
            _ = try? connection.query("SELECT set_config(\(name), \(value), false)", logger: connectionLogger).wait()
        }
    }

    /// The error for "no session now", naming the outage and when the next attempt is due.
    private func notConnected(_ state: State) -> DCApplyError {
        let wait = max(0, state.nextAttempt.timeIntervalSinceNow)
        let since = state.outageStart.map { " since \(AuditChain.timestamp($0))" } ?? ""
        let last = state.lastFailure.isEmpty ? "" : " (\(state.lastFailure))"
        let next = wait > 0 ? "; next attempt in \(String(format: "%.1f", wait)) s" : ""
        return DCApplyError(.stateStore, "no connection to PostgreSQL at \(name)\(since)\(last)\(next)")
    }

    /// Starts an outage, logging it when none is under way.
    private func begin(_ state: inout State, outage reason: String) {
        guard state.outageStart == nil else { return }
        state.outageStart = Date()
        state.lastFailure = reason
        outageLogger.withLock { $0 }.warning("lost the connection to PostgreSQL at \(name) (\(reason)); reconnecting with a backoff of up to \(Int(Self.maximumBackoff)) s",
                                              source: "dcapply.postgres")
    }

    /// After `error` from a statement on `lease`: when the session is gone (or `discard`),
    /// forgets and closes it, so the next lease opens a new one. An error the server answered on
    /// a live session changes nothing.
    func failed(_ lease: Lease, _ error: any Error, discard: Bool = false) {
        guard discard || lease.connection.isClosed || Self.isConnectionLoss(error) else { return }
        state.withLock { state in
            guard state.generation == lease.generation, let connection = state.connection else { return }
            state.connection = nil
            begin(&state, outage: "\(PostgresStateStore.readable(error))")
            Self.closeInBackground(connection)
        }
    }

    /// Whether `error` means the session is gone (rather than a statement refused on a live one):
    /// the connection closed or failed, or the server ended the session (SQLSTATE class 57P:
    /// terminated by an administrator, shut down, cannot connect now; class 08: connection exception).
    static func isConnectionLoss(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return error is IOError || error is ChannelError }
        switch error.code {
        case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown: return true
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("57P") || state.hasPrefix("08")
        default: return false
        }
    }

    /// Closes without waiting: closing a connection the server cut may wait long. The closure
    /// keeps the connection alive until it is closed.
    private static func closeInBackground(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in _ = connection }
    }

    /// Closes the session (releasing whatever it holds) and stops the event loop; no lease after.
    func shutdown() {
        let (open, wasOpen) = state.withLock { state -> (PostgresConnection?, Bool) in
            guard !state.isShutDown else { return (nil, false) }
            state.isShutDown = true
            defer { state.connection = nil }
            return (state.connection, true)
        }
        guard wasOpen else { return }
        try? open?.close().wait()
        try? group.syncShutdownGracefully()
    }
}
