import DCApplyCore

extension DCApplyError {
    /// The error as the CLI prints it: the core's message with its hint worded in this
    /// program's commands and flags (the core names none).
    var cliDescription: String {
        switch hint {
        case .breakLockOfDeadHolder?: "\(description); `dcapply state unlock` breaks the lock"
        case .breakLockOfRemoteHolder?: "\(description); if it is gone, `dcapply state unlock --force` breaks the lock"
        case .stateURLWithoutPath?: "--state sqlite: needs a path, such as sqlite:.dcapply/state.db"
        case .unknownStateURL(let url)?: "unknown --state \(Self.quoted(url)): expected sqlite:PATH or postgres://..."
        case nil: description
        }
    }

    /// As the core quotes a value in a message: long values are cut to 60 characters.
    private static func quoted(_ text: String) -> String {
        "\"\(text.count > 60 ? String(text.prefix(57)) + "..." : text)\""
    }
}
