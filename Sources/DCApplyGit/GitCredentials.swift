import CLibGit2
import Foundation

/// Credentials for fetching over SSH and HTTPS, asked for by libgit2 when a remote wants them:
/// an SSH key file named by `DCAPPLY_GIT_SSH_KEY` (else the ssh-agent), and for HTTPS a token in
/// `DCAPPLY_GIT_TOKEN`. Never logged. Each fetch gets a few tries, so a refused key cannot loop.
enum GitCredentials {
    static let maxAttempts = 3

    /// Sets the callback on a fetch's callbacks; `attempts` must outlive the fetch.
    static func install(on callbacks: inout git_remote_callbacks, attempts: UnsafeMutablePointer<Int>) {
        attempts.pointee = 0
        callbacks.payload = UnsafeMutableRawPointer(attempts)
        callbacks.credentials = { out, _, username, allowed, payload in
            guard let out, let counter = payload?.assumingMemoryBound(to: Int.self) else { return GIT_PASSTHROUGH.rawValue }
            counter.pointee += 1
            if counter.pointee > GitCredentials.maxAttempts { return GIT_EAUTH.rawValue }
            let user = username.map { String(cString: $0) } ?? "git"
            if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 {
                if let key = getenv("DCAPPLY_GIT_SSH_KEY") {
                    return git_credential_ssh_key_new(out, user, nil, key, nil)
                }
                return git_credential_ssh_key_from_agent(out, user)
            }
            if allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0, let token = getenv("DCAPPLY_GIT_TOKEN") {
                return git_credential_userpass_plaintext_new(out, username == nil ? "x-access-token" : user, token)
            }
            return GIT_PASSTHROUGH.rawValue
        }
    }
}
