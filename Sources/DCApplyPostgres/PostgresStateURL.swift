import DCApplyCore
import Foundation

/// A `--state postgres://user@host:port/db?sslmode=...&site=...` URL, parsed. Pure.
///
/// The password never comes from the URL (it would end up in shell history, process lists and
/// logs): it comes from `PGPASSWORD` or `--state-password-file`, and a URL holding one is refused.
public struct PostgresStateURL: Hashable, Sendable {
    /// libpq's `sslmode` values that dcapply understands.
    public enum SSLMode: String, Sendable, CaseIterable {
        /// No TLS.
        case disable
        /// TLS when the server offers it, without checking its certificate (libpq's default).
        case prefer
        /// TLS or fail, without checking the certificate.
        case require
        /// TLS or fail; the certificate must chain to a trusted root, any host name.
        case verifyCA = "verify-ca"
        /// TLS or fail; the certificate must chain to a trusted root and name the host.
        case verifyFull = "verify-full"
    }

    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    public var sslMode: SSLMode
    /// The key of this site's rows: one database holds many sites.
    public var site: String

    /// Whether `url` names a PostgreSQL store.
    public static func matches(_ url: String) -> Bool {
        url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")
    }

    public init(user: String, host: String, port: Int = 5432, database: String, sslMode: SSLMode = .prefer, site: String = "default") {
        self.user = user
        self.host = host
        self.port = port
        self.database = database
        self.sslMode = sslMode
        self.site = site
    }

    /// Parses `text`; every refusal is a usage error that says what a good URL looks like.
    public init(parsing text: String) throws {
        let example = "such as postgres://dcapply@db.example:5432/dcapply"
        guard Self.matches(text), let components = URLComponents(string: text) else {
            throw DCApplyError(.usage, "--state \(text.debugDescription) is not a PostgreSQL URL, \(example)")
        }
        if components.password != nil {
            throw DCApplyError(.usage, "--state must not hold a password (it would show in process lists and logs); "
                               + "set PGPASSWORD or pass --state-password-file FILE")
        }
        guard let host = components.host, !host.isEmpty else {
            throw DCApplyError(.usage, "--state \(Self.redacted(text)) names no host, \(example)")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw DCApplyError(.usage, "--state \(Self.redacted(text)) names no database, \(example)")
        }
        var sslMode = SSLMode.prefer
        var site = "default"
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = SSLMode(rawValue: value) else {
                    let known = SSLMode.allCases.map(\.rawValue).joined(separator: ", ")
                    throw DCApplyError(.usage, "--state: sslmode=\(item.value ?? "") is not one of \(known)")
                }
                sslMode = mode
            case "site":
                guard let value = item.value, !value.isEmpty else { throw DCApplyError(.usage, "--state: site= needs a name") }
                site = value
            default:
                throw DCApplyError(.usage, "--state: unknown parameter \(item.name.debugDescription) (known: sslmode, site)")
            }
        }
        self.init(user: components.user.flatMap { $0.isEmpty ? nil : $0 } ?? "postgres", host: host, port: components.port ?? 5432,
                  database: database, sslMode: sslMode, site: site)
    }

    /// The URL as dcapply shows it in messages (it never holds a password).
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)?site=\(site)" }

    private static func redacted(_ text: String) -> String { Secrets.redact(text) }
}
