import Foundation

/// One entry of the audit log: an apply, who made it, what it did. Entries form a hash chain:
/// each one's `hash` covers its own fields and the previous entry's hash, so editing,
/// inserting or deleting an entry breaks every hash from there on.
public struct AuditEntry: Hashable, Sendable {
    public var id: Int
    /// When, as stored and hashed (ISO 8601, UTC, whole seconds).
    public var timestamp: String
    public var at: Date { ISO8601DateFormatter().date(from: timestamp) ?? Date(timeIntervalSince1970: 0) }
    /// The commit's signer in GitOps mode, else the local user (`user@host`).
    public var actor: String
    public var revision: String?
    public var planDigest: String
    public var status: String
    /// One line per action: `index action resource outcome attempts [error]`, tab-separated.
    public var actions: [String]
    public var previousHash: String
    public var hash: String

    public init(id: Int, at: Date, actor: String, revision: String?, planDigest: String, status: String, actions: [String],
                previousHash: String, hash: String = "") {
        self.init(id: id, timestamp: AuditChain.timestamp(at), actor: actor, revision: revision, planDigest: planDigest, status: status,
                  actions: actions, previousHash: previousHash, hash: hash)
    }

    public init(id: Int, timestamp: String, actor: String, revision: String?, planDigest: String, status: String, actions: [String],
                previousHash: String, hash: String = "") {
        self.id = id
        self.timestamp = timestamp
        self.actor = actor
        self.revision = revision
        self.planDigest = planDigest
        self.status = status
        self.actions = actions
        self.previousHash = previousHash
        self.hash = hash
    }
}

/// The hash chain of the audit log. Pure.
public enum AuditChain {
    /// The previous hash of the first entry.
    public static let genesis = String(repeating: "0", count: 64)

    /// SHA-256 over the entry's fields (not its own hash) in a fixed, unambiguous encoding.
    public static func hash(of entry: AuditEntry) -> String {
        let fields = [String(entry.id), entry.timestamp, entry.actor, entry.revision ?? "", entry.planDigest, entry.status,
                      String(entry.actions.count)] + entry.actions + [entry.previousHash]
        // Length-prefixed, so no choice of field contents can make two entries encode alike.
        return Digest.sha256(fields.map { "\($0.utf8.count):\($0)" }.joined(separator: "\n"))
    }

    /// The entry that follows `previous` (nil: the first), with its hash.
    public static func seal(_ entry: AuditEntry, after previous: AuditEntry?) -> AuditEntry {
        var sealed = entry
        sealed.previousHash = previous?.hash ?? genesis
        sealed.hash = hash(of: sealed)
        return sealed
    }

    public enum Verdict: Equatable, Sendable {
        case intact(entries: Int, head: String)
        case broken(entry: Int, reason: String)
    }

    /// Checks the chain end to end, in id order; names the first bad entry.
    public static func verify(_ entries: [AuditEntry], expectedHead: String? = nil) -> Verdict {
        var previous: AuditEntry?
        for entry in entries {
            if let previous, entry.id != previous.id + 1 {
                return .broken(entry: entry.id, reason: "entries \(previous.id + 1)…\(entry.id - 1) are missing")
            }
            if previous == nil && entry.id != 1 {
                return .broken(entry: entry.id, reason: "entries 1…\(entry.id - 1) are missing")
            }
            if entry.previousHash != (previous?.hash ?? genesis) {
                return .broken(entry: entry.id, reason: "it does not follow entry \(previous.map { String($0.id) } ?? "(none)"): the previous hash differs")
            }
            if hash(of: entry) != entry.hash {
                return .broken(entry: entry.id, reason: "its contents do not match its hash (edited after it was written)")
            }
            previous = entry
        }
        let head = previous?.hash ?? genesis
        if let expectedHead, expectedHead != head {
            return .broken(entry: (previous?.id ?? 0), reason: "the head is \(head.prefix(16))…, not the expected \(expectedHead.prefix(16))… (entries were removed or the log rewritten)")
        }
        return .intact(entries: entries.count, head: head)
    }

    /// Whole seconds, UTC, ISO 8601: what the store keeps.
    public static func timestamp(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    /// One action of an entry: `step action resource outcome attempts [error]`, tab-separated,
    /// on one line. Both stores write this form.
    /// What an action touched, for the audit log's resource field: the resource, the replica
    /// and from → to, such as `Workload/llm-train replica 2: Node/gpu-r01-n02 → Node/gpu-r01-n03`.
    public static func describe(_ change: Change) -> String {
        var text = change.resource.description
        if let replica = change.replica { text += " replica \(replica)" }
        switch (change.from, change.to) {
        case let (from?, to?): text += ": \(from) → \(to)"
        case let (from?, nil): text += ": from \(from)"
        case let (nil, to?): text += ": → \(to)"
        case (nil, nil): break
        }
        return text
    }

    public static func actionLine(step: Int, action: String, resource: String, state: String, attempts: Int, error: String?) -> String {
        var line = "\(step)\t\(action)\t\(resource)\t\(state)\t\(attempts)"
        if let error { line += "\t" + error.replacingOccurrences(of: "\n", with: " ") }
        return line
    }
}
