import DCApplyCore
import Foundation

extension PostgresStateStore {
    /// Opens the store a `--state postgres://...` URL names, the password from `passwordFile`
    /// (its first line) or else `PGPASSWORD` in `environment`; none for trust or peer auth.
    public static func open(_ text: String, passwordFile: String?, environment: [String: String]) throws -> PostgresStateStore {
        let url = try PostgresStateURL(parsing: text)
        var password = environment["PGPASSWORD"]
        if let passwordFile {
            guard let contents = FileManager.default.contents(atPath: passwordFile), let file = String(data: contents, encoding: .utf8) else {
                throw DCApplyError(.usage, "--state-password-file \(passwordFile): cannot read the file")
            }
            password = file.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        }
        if let password, !password.isEmpty { Secrets.register(password) }
        return try PostgresStateStore(url: url, password: password)
    }
}
