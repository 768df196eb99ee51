import DCApplyCore
import Foundation
import Logging
import Subprocess
import Synchronization

/// Runs one call of the exec protocol: the command once, one JSON request on stdin (then
/// closed), one JSON response read from stdout, within a time limit.
///
/// The command runs in its own process group, in the folder of the manifest that names it,
/// with dcapply's environment (plus `environment`): secrets reach it only that way. Exit 75
/// (`EX_TEMPFAIL`) is a transient error; any other non-zero exit, a signal, or the time limit
/// (the whole process group is killed) is terminal. Errors name the plugin, the exit code and
/// the first line of stderr; stderr is logged, redacted, at debug level.
struct ExecRunner: Sendable {
    /// Names the plugin in messages: `exec:netbox-sync`.
    let name: String
    let configuration: ExecConfiguration
    let environment: [String: String]
    let logger: Logger

    static let transientExit: Int32 = 75
    static let outputLimit = 64 << 20

    /// Runs the call; returns stdout of a successful run.
    func call(operation: String, request: Data) async throws -> Data {
        guard !configuration.command.isEmpty else { throw ProviderError(.terminal, "\(name): the command is empty") }
        let program = configuration.executable
        let executable: Executable = program.contains("/") ? .path(.init(program)) : .name(program)
        var platformOptions = PlatformOptions()
        platformOptions.processGroupID = 0  // its own group, so a timeout kills its children too
        let options = platformOptions
        var variables: [Environment.Key: String?] = [:]
        for (key, value) in environment { variables[Environment.Key(stringLiteral: key)] = value }
        let extra = variables
        let text = String(decoding: request, as: UTF8.self)
        let call = CallState()
        let timeout = configuration.timeoutSeconds
        let arguments = Arguments(Array(configuration.command.dropFirst()))
        let directory = configuration.directory
        let started = ContinuousClock.now

        struct Collected: Sendable {
            var status: TerminationStatus
            var stdout: String
            var stderr: String
        }
        let collected: Collected
        do {
            collected = try await withThrowingTaskGroup(of: Collected?.self) { group in
                group.addTask {
                    let result = try await Subprocess.run(
                        executable, arguments: arguments, environment: .inherit.updating(extra),
                        workingDirectory: .init(directory), platformOptions: options,
                        input: .string(text), output: .string(limit: Self.outputLimit), error: .string(limit: Self.outputLimit)
                    ) { execution in
                        call.pid.withLock { $0 = execution.processIdentifier.value }
                    }
                    return Collected(status: result.terminationStatus, stdout: result.standardOutput, stderr: result.standardError)
                }
                group.addTask {
                    try await Task.sleep(nanoseconds: UInt64(max(timeout, 0.001) * 1_000_000_000))
                    call.timedOut.withLock { $0 = true }
                    let group = call.pid.withLock { $0 }
                    if group > 0 { kill(-group, SIGKILL) }
                    return nil
                }
                while let next = try await group.next() {
                    if let next {
                        group.cancelAll()
                        return next
                    }
                }
                throw ProviderError(.terminal, "\(name): \(operation): the plugin did not run")
            }
        } catch let error as ProviderError {
            throw error
        } catch is CancellationError {
            let group = call.pid.withLock { $0 }
            if group > 0 { kill(-group, SIGKILL) }
            throw CancellationError()
        } catch {
            throw ProviderError(.terminal, "\(name): \(operation): cannot run \(configuration.command.joined(separator: " ")): \(error)")
        }

        let elapsed = ContinuousClock.now - started
        let stderr = Secrets.redact(collected.stderr)
        if !stderr.isEmpty {
            logger.debug("exec plugin stderr", metadata: ["dcapply.plugin": "\(name)", "dcapply.operation": "\(operation)", "dcapply.stderr": "\(stderr)"])
        }
        let firstLine = stderr.split(whereSeparator: \.isNewline).first.map { "; stderr: \($0)" } ?? ""
        if call.timedOut.withLock({ $0 }) {
            throw ProviderError(.terminal, "\(name): \(operation) timed out after \(Self.seconds(timeout)) (process group killed)\(firstLine)")
        }
        switch collected.status {
        case .exited(0):
            logger.debug("exec plugin call", metadata: ["dcapply.plugin": "\(name)", "dcapply.operation": "\(operation)", "dcapply.elapsed": "\(elapsed)"])
            return Data(collected.stdout.utf8)
        case .exited(Self.transientExit):
            throw ProviderError(.transient, "\(name): \(operation) exited 75 (transient)\(firstLine)")
        case .exited(let code):
            throw ProviderError(.terminal, "\(name): \(operation) exited \(code)\(firstLine)")
        case .signaled(let signal):
            throw ProviderError(.terminal, "\(name): \(operation) was killed by signal \(signal)\(firstLine)")
        }
    }

    /// What the call's tasks share: the child's pid (its process group) and whether the time
    /// limit fired.
    private final class CallState: Sendable {
        let pid = Mutex<pid_t>(0)
        let timedOut = Mutex(false)
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value))s" : "\(value)s"
    }
}
