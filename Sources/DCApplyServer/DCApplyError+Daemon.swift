import DCApplyCore

extension DCApplyError {
    /// The error as the daemon reports it (status, log): the core's message with the lock hints
    /// worded for the operator who reads `/status`, who breaks a lock with the CLI. (The core
    /// names no command; the CLI words the same hints in its `ErrorWording.swift`.)
    var daemonDescription: String {
        switch hint {
        case .breakLockOfDeadHolder?: "\(description); `dcapply state unlock` breaks the lock"
        case .breakLockOfRemoteHolder?: "\(description); if it is gone, `dcapply state unlock --force` breaks the lock"
        case .stateURLWithoutPath?, .unknownStateURL?, nil: description
        }
    }
}
