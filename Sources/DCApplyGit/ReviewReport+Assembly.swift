import DCApplyCore

extension ReviewReport {
    /// Where an assembly got to, for a shell's progress line.
    public enum Step {
        /// Reading the head's manifests and observing the hardware.
        case reading(head: String)
        /// The head is read and observed; its diagnostics are in the site.
        case loaded(LoadedSite)
        /// Placing the head's demand.
        case placing(nodes: Int)
        /// The head's plan is made.
        case planned
    }

    /// Reviews `head` against `base` in `source`: the head is compared with their merge base
    /// (as a pull request is), manifests are read from git objects, the plan is made for the
    /// head against the store and the hardware observed now. Nothing is applied.
    ///
    /// `reconciler` is made once the revisions resolve; `authorize` gives the signers' verdict
    /// on the commits from the compared commit to the head (nil when it cannot be had).
    /// Throws `GitError` when a revision or a manifest path cannot be read.
    public static func assemble(from source: any GitSource, base: String, head: String, paths: [String],
                                reconciler makeReconciler: () throws -> Reconciler,
                                authorize: (_ from: String, _ head: String, _ limits: InputLimits) throws -> TrustReport?,
                                progress: (Step) -> Void = { _ in }) async throws -> ReviewReport {
        let baseCommit = try source.resolve(base)
        let headCommit = try source.resolve(head)
        let comparedTo = (try? source.mergeBase(baseCommit, headCommit)) ?? nil
        let from = comparedTo ?? baseCommit
        let reconciler = try makeReconciler()
        let limits = reconciler.limits
        let (baseSources, _) = try source.manifests(at: from, paths: paths, limits: limits)
        let (headSources, _) = try source.manifests(at: headCommit, paths: paths, limits: limits)
        var commits: [GitCommit]?
        var historyNote: String?
        do {
            commits = try source.commits(from: from, to: headCommit)
        } catch {
            historyNote = "history between the revisions is not available (\(error)); fetch more history to list the commits"
        }
        let trust = try authorize(from, headCommit, limits)
        progress(.reading(head: headCommit))
        let site = try await reconciler.load(commit: headCommit, paths: paths, from: source)
        progress(.loaded(site))
        var plan: Plan?
        if !site.diagnostics.hasErrors {
            progress(.placing(nodes: site.observed.nodes.count))
            plan = try reconciler.plan(site, revision: headCommit)
            progress(.planned)
        }
        return ReviewReport(
            base: Revision(name: base, commit: baseCommit), head: Revision(name: head, commit: headCommit), comparedTo: from,
            commits: commits, historyNote: historyNote,
            changes: ManifestDiff.compare(base: baseSources, head: headSources, limits: limits),
            headDiagnostics: site.diagnostics, plan: plan, trust: trust)
    }
}
