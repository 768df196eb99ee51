extension DCApplyError {
    /// A remedy the core knows of but does not word, because its words name the shell's
    /// commands or flags (`dcapply state unlock --force`, `--state`). The CLI words each hint;
    /// a shell that does not know one shows the error's message alone, which is complete.
    public enum Hint: Hashable, Sendable {
        /// The apply lock's holder is a process on this host that is no longer running:
        /// breaking the lock is safe.
        case breakLockOfDeadHolder
        /// The apply lock's holder runs on another host: if it is gone, the lock may be broken
        /// by force.
        case breakLockOfRemoteHolder
        /// The state store URL `sqlite:` names no path.
        case stateURLWithoutPath
        /// The state store URL (given here) is of no known kind.
        case unknownStateURL(String)
    }
}
