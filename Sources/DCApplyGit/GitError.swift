import CLibGit2

/// A git operation that failed: what dcapply was doing, and libgit2's own words.
public struct GitError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Why it failed, as far as the caller may care.
    public enum Reason: Sendable, Equatable {
        /// A revision, path or object that does not exist.
        case notFound
        /// A revision that names more than one object.
        case ambiguous
        /// Authentication, network or remote failures.
        case remote
        /// Anything else libgit2 reports.
        case other
    }

    public var reason: Reason
    public var message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { message }

    /// The error for a libgit2 return code below zero: `doing` says what was attempted, in words
    /// that complete "cannot ...".
    static func from(_ code: Int32, doing: String) -> GitError {
        var detail = ""
        var errorClass: Int32 = 0
        if let last = git_error_last() {
            if let text = last.pointee.message { detail = String(cString: text) }
            errorClass = last.pointee.klass
        }
        let reason: Reason
        switch code {
        case GIT_ENOTFOUND.rawValue: reason = .notFound
        case GIT_EAMBIGUOUS.rawValue: reason = .ambiguous
        case GIT_EAUTH.rawValue, GIT_ECERTIFICATE.rawValue: reason = .remote
        default:
            let remoteClasses: Set<Int32> = [Int32(GIT_ERROR_NET.rawValue), Int32(GIT_ERROR_SSH.rawValue), Int32(GIT_ERROR_SSL.rawValue),
                                            Int32(GIT_ERROR_HTTP.rawValue)]
            reason = remoteClasses.contains(errorClass) ? .remote : .other
        }
        return GitError(reason, detail.isEmpty ? "cannot \(doing) (libgit2 error \(code))" : "cannot \(doing): \(detail)")
    }
}

/// Calls a libgit2 function and throws its error when it fails.
@discardableResult
func check(_ code: Int32, _ doing: @autoclosure () -> String) throws -> Int32 {
    if code < 0 { throw GitError.from(code, doing: doing()) }
    return code
}
