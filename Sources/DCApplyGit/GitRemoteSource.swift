/// A ``GitSource`` that follows a remote: `fetch(branch:)` brings the branch up to date and says
/// where it now points. Kept apart from ``GitSource``, whose contract is that reading never
/// changes the repository; `dcapply serve` needs both.
public protocol GitRemoteSource: GitSource {
    /// Fetches `branch` from the remote and returns the full id of the commit it now points at.
    /// Throws a ``GitError`` when the remote cannot be reached or has no such branch.
    func fetch(branch: String) throws -> String
}

extension LibGit2Repository: GitRemoteSource {
    /// Fetches `branch` from `origin` (see ``fetch(branch:remote:)``).
    public func fetch(branch: String) throws -> String {
        try fetch(branch: branch, remote: "origin")
    }
}
