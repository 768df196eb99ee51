import DCApplyCore
import DCApplyPostgres
import Foundation

/// Where each site of a serve running several sites keeps its state, from `--state`:
/// `postgres://...` one database, each site keyed by its Site name (a `site=` parameter is
/// refused: it names one site); `sqlite:PATH` one file per site, the Site name put before the
/// extension (`sqlite:.dcapply/state.db` → `.dcapply/state.east.db`); `memory:` one in-memory
/// store per site.
struct FleetStores: Sendable {
    /// The database every site shares: its connection checks the URL and the password at start
    /// (then it is closed); each site's store is a ``PostgresStateStore/sibling(site:)`` of it.
    let postgres: PostgresStateStore?
    let state: String

    init(state: String, passwordFile: String?) throws {
        self.state = state
        if PostgresStateURL.matches(state) {
            if state.contains("site=") {
                throw DCApplyError(.usage, "--state: site= names one site, but serve runs several (--path repeated or a glob); drop site=: each site is kept under its Site name")
            }
            postgres = try PostgresStateStore.open(state, passwordFile: passwordFile, environment: ProcessInfo.processInfo.environment)
        } else {
            postgres = nil
            _ = try Self.sqlitePath(state, site: "check")
        }
    }

    /// The store of site `name`.
    func open(site name: String) throws -> any StateStore {
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }), !name.hasPrefix(".") else {
            throw DCApplyError(.usage, "the Site name \(name.debugDescription) cannot key a state store; use letters, digits, - _ and .")
        }
        if let postgres { return try postgres.sibling(site: name) }
        if state == "memory:" { return InMemoryStateStore() }
        guard let path = try Self.sqlitePath(state, site: name) else { return try StateStores.open(state) }
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
        return try StateStores.open("sqlite:" + path)
    }

    /// `PATH` of `sqlite:PATH` with `.site` before its extension (nil for `memory:`); an unknown
    /// URL is refused in the words `--state` uses everywhere.
    static func sqlitePath(_ state: String, site: String) throws -> String? {
        if state == "memory:" { return nil }
        guard state.hasPrefix("sqlite:"), !state.dropFirst("sqlite:".count).isEmpty else {
            _ = try StateStores.open(state)  // throws the usual message
            return nil
        }
        let url = URL(fileURLWithPath: String(state.dropFirst("sqlite:".count)))
        let ext = url.pathExtension
        let base = url.deletingPathExtension()
        return base.path + "." + site + (ext.isEmpty ? "" : "." + ext)
    }
}
