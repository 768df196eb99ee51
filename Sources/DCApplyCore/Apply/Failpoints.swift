import Foundation
import Synchronization

/// Faults injected on purpose, for testing dcapply itself; off unless `DCAPPLY_FAILPOINTS` is
/// set. The syntax is `NAME=ACTION[@N][,NAME=ACTION[@N]...]`:
///
/// - NAME: `apply.action` (every action an apply carries out, counted from 1 in this process,
///   hit after the action's provider call and before its outcome is journalled) or
///   `provider.call` (every call dcapply makes to a hardware provider, hit before the call),
///   or `actuator.call` (every `apply` call to an actuator, hit before the call), or
///   `journal.batch` (every batch of journal steps an apply writes, hit before it is written:
///   a crash there loses the whole batch).
/// - ACTION: `crash` (the process dies at once, as with SIGKILL), `error` (a transient provider
///   error: the apply retries it), `terminal` (a terminal provider error: no retry),
///   `sleep:MS` (wait MS milliseconds).
/// - `@N` hits only the Nth time; `@N+` every time from the Nth on; no `@` every time.
public final class Failpoints: Sendable {
    public enum Name: String, Sendable, CaseIterable {
        case applyAction = "apply.action"
        case providerCall = "provider.call"
        case actuatorCall = "actuator.call"
        case journalBatch = "journal.batch"
    }

    public enum Effect: Hashable, Sendable {
        case crash, transientError, terminalError
        /// For in-process tests: throws `SimulatedCrash`, which the apply does not catch, so
        /// nothing after the failpoint is journalled (the apply lock is still released).
        case simulatedCrash
        case sleep(milliseconds: Int)
    }

    struct Rule: Sendable {
        var name: Name
        var effect: Effect
        var from: Int?
        var onlyOnce: Bool
    }

    let rules: [Rule]
    private let counters = Mutex([Name: Int]())

    public static let none = Failpoints(rules: [])

    /// The in-process stand-in for `apply.action=crash@N` (or another failpoint's).
    public static func simulatedCrash(atAction n: Int, on name: Name = .applyAction) -> Failpoints {
        Failpoints(rules: [Rule(name: name, effect: .simulatedCrash, from: n, onlyOnce: true)])
    }

    public struct SimulatedCrash: Error, Sendable {}
    public var isEmpty: Bool { rules.isEmpty }

    init(rules: [Rule]) { self.rules = rules }

    /// Parses the environment variable's value; throws a usage error naming the bad part.
    public convenience init(parsing text: String) throws {
        var rules: [Rule] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            let usage = "DCAPPLY_FAILPOINTS: cannot read \(quoted(part)): expected NAME=ACTION[@N], NAME one of \(Name.allCases.map(\.rawValue).joined(separator: ", ")), ACTION one of crash, error, terminal, sleep:MS"
            let pieces = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pieces.count == 2, let name = Name(rawValue: pieces[0]) else { throw DCApplyError(.usage, usage) }
            var action = pieces[1], from: Int?, once = false
            if let at = action.firstIndex(of: "@") {
                var count = String(action[action.index(after: at)...])
                action = String(action[..<at])
                once = !count.hasSuffix("+")
                if count.hasSuffix("+") { count.removeLast() }
                guard let n = Int(count), n >= 1 else { throw DCApplyError(.usage, usage) }
                from = n
            }
            let effect: Effect
            switch action {
            case "crash": effect = .crash
            case "error": effect = .transientError
            case "terminal": effect = .terminalError
            case let sleep where sleep.hasPrefix("sleep:"):
                guard let ms = Int(sleep.dropFirst("sleep:".count)), ms >= 0 else { throw DCApplyError(.usage, usage) }
                effect = .sleep(milliseconds: ms)
            default: throw DCApplyError(.usage, usage)
            }
            rules.append(Rule(name: name, effect: effect, from: from, onlyOnce: once))
        }
        self.init(rules: rules)
    }

    /// Reads `DCAPPLY_FAILPOINTS` from an environment.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Failpoints {
        guard let text = environment["DCAPPLY_FAILPOINTS"], !text.isEmpty else { return .none }
        return try Failpoints(parsing: text)
    }

    /// Counts one hit of `name` and returns the effects due on it.
    func hit(_ name: Name) -> [Effect] {
        guard rules.contains(where: { $0.name == name }) else { return [] }
        let count = counters.withLock { counters -> Int in
            counters[name, default: 0] += 1
            return counters[name]!
        }
        return rules.filter { rule in
            guard rule.name == name else { return false }
            guard let from = rule.from else { return true }
            return rule.onlyOnce ? count == from : count >= from
        }.map(\.effect)
    }

    /// Whether the next hit of `name` sleeps (without counting it): a slowed action, which the
    /// apply loop must not let hold back the journal of the actions that ended before it.
    func sleepsOnNextHit(_ name: Name) -> Bool {
        guard rules.contains(where: { $0.name == name }) else { return false }
        let next = counters.withLock { $0[name, default: 0] } + 1
        return rules.contains { rule in
            guard rule.name == name, case .sleep = rule.effect else { return false }
            guard let from = rule.from else { return true }
            return rule.onlyOnce ? next == from : next >= from
        }
    }

    /// Carries out the effects due on one hit of `name`: sleeps, throws, or ends the process.
    public func trigger(_ name: Name, node: String? = nil) async throws {
        for effect in hit(name) {
            switch effect {
            case .crash:
                // Abrupt: no defer, no flush, no journal — as a power cut or kill -9 would be.
                kill(getpid(), SIGKILL)
            case .simulatedCrash:
                throw SimulatedCrash()
            case .sleep(let ms):
                try await Task.sleep(nanoseconds: UInt64(ms) * 1_000_000)
            case .transientError:
                throw ProviderError(.transient, node: node, "injected transient error (failpoint \(name.rawValue))")
            case .terminalError:
                throw ProviderError(.terminal, node: node, "injected terminal error (failpoint \(name.rawValue))")
            }
        }
    }
}

/// Wraps a provider so that `provider.call` failpoints fire before each of its calls.
public struct FaultInjectingProvider: HardwareProvider {
    public let base: any HardwareProvider
    public let failpoints: Failpoints

    public init(_ base: any HardwareProvider, failpoints: Failpoints) {
        self.base = base
        self.failpoints = failpoints
    }

    public func observe(site: Site) async throws -> (nodes: [ObservedNode], diagnostics: [Diagnostic]) {
        try await base.observe(site: site)
    }

    public func setPower(_ state: PowerState, node: String, site: Site) async throws {
        try await failpoints.trigger(.providerCall, node: node)
        try await base.setPower(state, node: node, site: site)
    }
}
