/// Observes a site's hardware and carries out power changes.
///
/// Contract: `observe` returns every node of the site with its current health and power
/// state, and diagnostics for input it could not read (then the caller stops). `setPower`
/// is idempotent: asking for the state a node is already in succeeds and changes nothing.
public protocol HardwareProvider: Sendable {
    func observe(site: Site) async throws -> (nodes: [ObservedNode], diagnostics: [Diagnostic])
    func setPower(_ state: PowerState, node: String, site: Site) async throws
}

/// Changes to the observed hardware that dcapply itself keeps for the local provider:
/// `inventory set` overrides and the power states applies reach.
public struct NodeOverride: Hashable, Sendable {
    public var health: Health?
    public var powerState: PowerState?

    public init(health: Health? = nil, powerState: PowerState? = nil) {
        self.health = health
        self.powerState = powerState
    }
}

/// Where the local provider keeps what happened to its simulated hardware.
///
/// Contract: `overrides` returns what `setOverride` stored, by node name; a nil field in an
/// override leaves that field unchanged, `clear` removes it.
public protocol LocalHardwareStore: Sendable {
    func overrides() throws -> [String: NodeOverride]
    func setOverride(node: String, health: Health??, powerState: PowerState??) throws
}

/// A provider call that failed. `transient` failures (timeouts, refused connections, HTTP 5xx,
/// 429) may succeed when retried; `terminal` ones (bad credentials, 4xx, an unknown node) will
/// not, and the apply does not retry them. The message never holds a credential.
public struct ProviderError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable { case transient, terminal }

    public var kind: Kind
    public var node: String?
    public var message: String

    public init(_ kind: Kind, node: String? = nil, _ message: String) {
        self.kind = kind
        self.node = node
        self.message = message
    }

    public var description: String { node.map { "\($0): \(message)" } ?? message }
}
