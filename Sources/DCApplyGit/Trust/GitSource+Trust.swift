import DCApplyCore
import Foundation

/// What one commit holds that rights are checked on: its manifest sources and, per Site with a
/// local provider, the inventory file it reads and that file's bytes.
struct TrustSnapshot {
    var sources: [SourceFile]
    var policies: [AccessPolicy]
    var inventories: [String: (path: String, data: Data?)]
}

extension GitSource {
    /// What a commit holds that rights are checked on.
    func trustSnapshot(at commit: String, paths: [String], limits: InputLimits) throws -> TrustSnapshot {
        let sources = try manifests(at: commit, paths: paths, limits: limits).sources
        let state = ManifestParser(limits: limits).parse(sources).state
        var inventories: [String: (path: String, data: Data?)] = [:]
        for (name, site) in state.sites {
            guard case .local(let resolved, _, _) = site.provider else { continue }
            // A path outside the repository is refused when the revision is loaded; it has no bytes here.
            let path = GitPath.insideRepository(resolved) ?? resolved
            inventories[name] = (path, GitPath.insideRepository(resolved) == nil ? nil : try read(at: commit, path: path))
        }
        return TrustSnapshot(sources: sources, policies: state.accessPolicies.keys.sorted().compactMap { state.accessPolicies[$0] },
                             inventories: inventories)
    }

    /// What changed from `base` (nil: nothing) to `head`: every resource the resource-level diff
    /// names (`Inventory` documents aside), and each Site whose inventory file changed.
    static func changes(from base: TrustSnapshot?, to head: TrustSnapshot, limits: InputLimits) -> Set<ChangedResource> {
        var changed = Set(ManifestDiff.compare(base: base?.sources ?? [], head: head.sources, limits: limits)
            .map { ChangedResource(parsing: $0.resource) }
            .filter { $0.address.kind != "Inventory" })  // judged below, through the Site that reads it
        for site in Set(head.inventories.keys).union(base.map { Array($0.inventories.keys) } ?? []) {
            let before = base?.inventories[site], after = head.inventories[site]
            if before?.path != after?.path || before?.data != after?.data {
                changed.insert(ChangedResource(ResourceAddress(.site, site), inventoryPath: after?.path ?? before?.path))
            }
        }
        return changed
    }

    /// The AccessPolicies declared at a commit (whatever else its manifests hold).
    public func accessPolicies(at commit: String, paths: [String], limits: InputLimits = .standard) throws -> [AccessPolicy] {
        try trustSnapshot(at: commit, paths: paths, limits: limits).policies
    }

    /// Whether the commits from `applied` to `head` may be applied: each commit's SSH signature
    /// is checked in process, and each resource it changes (its own diff against its parent)
    /// must be manageable by its signer under the AccessPolicies of `applied` (else under
    /// `trustedSigners`; else nothing is checked and the report carries one warning).
    ///
    /// Only resources that differ between `applied` and `head` count: a change the range
    /// reverts is never applied, so it is not checked (reverting a refused commit cures it).
    /// With no applied revision, only `head` is checked, and all of its resources count as
    /// changed: the first revision is vouched for as a whole by its signer. For a merge, only
    /// what differs from every parent counts: what a clean merge carries in was changed, and
    /// is checked, in the commits it merges.
    public func authorize(from applied: String?, to head: String, paths: [String],
                          trustedSigners: TrustedSigners?, limits: InputLimits = .standard) throws -> TrustReport {
        var snapshots: [String: TrustSnapshot] = [:]
        func snapshot(_ commit: String) throws -> TrustSnapshot {
            if let known = snapshots[commit] { return known }
            let made = try trustSnapshot(at: commit, paths: paths, limits: limits)
            snapshots[commit] = made
            return made
        }
        let policies = try applied.map { try snapshot($0).policies } ?? []
        let anchor = TrustAnchor.choose(appliedRevision: applied, policies: policies, trustedSigners: trustedSigners)
        if case .none = anchor { return CommitAuthorizer.authorize([], anchor: anchor) }
        let commits = try applied.map { try self.commits(from: $0, to: head) } ?? [try commit(head)]
        // Only what head changes against the applied revision is applied; a change the range
        // reverts again never reaches the site, so a refused commit can be cured by a revert.
        let net = try applied.map { Self.changes(from: try snapshot($0), to: try snapshot(head), limits: limits) }
        var items: [CommitToAuthorize] = []
        for commit in commits {
            let current = try snapshot(commit.id)
            var changed: Set<ChangedResource>?
            if applied == nil || commit.parents.isEmpty {
                changed = Self.changes(from: nil, to: current, limits: limits)
            } else {
                for parent in commit.parents {
                    let own = Self.changes(from: try snapshot(parent), to: current, limits: limits)
                    changed = changed.map { $0.intersection(own) } ?? own
                }
            }
            let counted = net.map { (changed ?? []).intersection($0) } ?? changed ?? []
            items.append(CommitToAuthorize(commit: commit, changedResources: counted.sorted()))
        }
        var report = CommitAuthorizer.authorize(items, anchor: anchor)
        if !policies.isEmpty && !policies.contains(where: { $0.members.contains { !$0.keys.isEmpty } }) {
            report.warnings.append("the AccessPolicies in force list no member keys, so every commit that changes a resource is refused: add keys to the members who manage the site")
        }
        for policy in policies {
            for member in policy.members {
                for key in member.keys {
                    do throws(SSHTrustError) { _ = try SSHPublicKey(line: key) } catch {
                        report.warnings.append("AccessPolicy/\(policy.metadata.name): a key of \(member.user) cannot be read, so it proves nothing: \(error.message)")
                    }
                }
            }
        }
        return report
    }
}
