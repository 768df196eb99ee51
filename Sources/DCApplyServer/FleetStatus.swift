import DCApplyCore
import Foundation

/// What `/status` shows when one serve runs several sites: the folders it follows, every site's
/// own status (as a single site's `/status`, with `site` set), and why a folder is not served.
public struct FleetStatus: Encodable, Sendable {
    public var repository: String
    public var branch: String
    /// The `--path` values, globs as given.
    public var paths: [String]
    /// The same, comma-separated: the single-site `path` field, for readers that know only it.
    public var path: String { paths.joined(separator: ",") }
    public var selfHeal: Bool
    /// The revision the folders were last matched at; nil before the first fetch.
    public var revision: String?
    /// Live controllers on the shared store and the sites this one leads; nil without a shared store.
    public var controllers: Int?
    public var leading: [String]?
    /// Every site served, by name.
    public var sites: [ServeStatus]
    /// Folders not served, and why; one sentence each.
    public var problems: [String]
    /// Why the folders could not be matched (a failed fetch), until they are.
    public var lastError: String?

    private enum CodingKeys: String, CodingKey {
        case repository, branch, paths, path, selfHeal, revision, controllers, leading, sites, problems, lastError
    }

    /// Every field, `path` included (it is derived, so it is written but never read back).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(repository, forKey: .repository)
        try container.encode(branch, forKey: .branch)
        try container.encode(paths, forKey: .paths)
        try container.encode(path, forKey: .path)
        try container.encode(selfHeal, forKey: .selfHeal)
        try container.encodeIfPresent(revision, forKey: .revision)
        try container.encodeIfPresent(controllers, forKey: .controllers)
        try container.encodeIfPresent(leading, forKey: .leading)
        try container.encode(sites, forKey: .sites)
        try container.encode(problems, forKey: .problems)
        try container.encodeIfPresent(lastError, forKey: .lastError)
    }

    /// As `/status` serves it: sorted keys, ISO 8601 dates, secrets redacted.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return (try? encoder.encode(self)).map { Secrets.redact(String(decoding: $0, as: UTF8.self)) } ?? "{}"
    }

    /// Ready when the folders were matched, at least one site is served, and every site has
    /// finished a pass or stands by; the body names each site that is not.
    public var readiness: (ready: Bool, body: String) {
        guard revision != nil else { return (false, "not ready: \(lastError ?? "the folders are not matched yet")\n") }
        guard !sites.isEmpty else {
            return (false, "not ready: no site to serve: no folder matching \(paths.joined(separator: ", ")) declares a Site\n")
        }
        let waiting = sites.filter { $0.reconcileCount == 0 && $0.leader != false }
        let lines = sites.map { site in "\(site.site ?? site.path): " + Self.state(of: site) }
        guard waiting.isEmpty else {
            return (false, "not ready: \(waiting.count) of \(sites.count) sites have not finished a pass\n" + lines.joined(separator: "\n") + "\n")
        }
        return (true, "ready: \(sites.count) site\(sites.count == 1 ? "" : "s")\n" + lines.joined(separator: "\n") + "\n")
    }

    private static func state(of site: ServeStatus) -> String {
        if site.leader == false { return "standby; " + (site.leadBy.map { "\($0) leads" } ?? "no controller leads yet") }
        guard site.reconcileCount > 0 else { return "first pass not finished" }
        if let ready = site.condition("Ready"), ready.status == "False" { return "Ready=False (\(ready.reason)): \(ready.message)" }
        return site.lastAppliedRevision.map { "serving revision \($0.prefix(12))" } ?? "no revision applied"
    }
}
