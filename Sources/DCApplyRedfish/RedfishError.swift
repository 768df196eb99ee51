import DCApplyCore

/// A failed Redfish request. `missing` (404, 501) lets the observer degrade to what it knows;
/// the message names the endpoint and the path, never a credential.
struct RedfishError: Error, CustomStringConvertible, Sendable {
    enum Kind: Sendable, Equatable {
        /// Refused connection, timeout, HTTP 5xx or 429: may succeed when retried.
        case transient
        /// Authentication refused (401, 403): no retry, the configuration is wrong.
        case unauthorized
        /// 404 or 501: the service does not offer the resource.
        case missing
        /// Any other 4xx, or a body that is not a JSON object.
        case terminal
    }

    var kind: Kind
    var message: String
    /// The HTTP status, when there was an answer.
    var status: Int?

    var description: String { message }

    var providerError: ProviderError.Kind { kind == .transient ? .transient : .terminal }
}
