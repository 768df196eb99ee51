import AsyncHTTPClient
import DCApplyCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// One Redfish service (a BMC or an aggregator): authenticated requests with timeouts,
/// retries and a bound on requests in flight.
///
/// Authentication: a session (`X-Auth-Token`) when the service root links a SessionService
/// collection, else HTTP basic. The token and the password live only here and are never
/// part of a description, an error or a log message.
actor RedfishConnection {
    /// The service's origin, `https://host:port`, for messages and as a labelsFrom key.
    nonisolated let endpoint: String
    private let client: HTTPClient
    private let credentials: Credentials?
    private let settings: RedfishSettings
    private let logger: Logger
    private let limiter: AsyncSemaphore
    private var authorization: (name: String, value: String)?
    private var sessionLocation: String?
    /// The one sign-in every request waits for, so concurrent first requests don't race it.
    private var signingIn: Task<Void, any Error>?

    init(endpoint: String, client: HTTPClient, credentials: Credentials?, settings: RedfishSettings, logger: Logger) {
        self.endpoint = endpoint
        self.client = client
        self.credentials = credentials
        self.settings = settings
        self.logger = logger
        limiter = AsyncSemaphore(settings.requestsPerEndpoint)
    }

    /// The origin of a service root as written in a manifest: no trailing slash, no
    /// `/redfish/v1`.
    static func origin(of serviceRoot: String) -> String {
        var text = serviceRoot.trimmingCharacters(in: .whitespaces)
        while text.hasSuffix("/") { text.removeLast() }
        if text.hasSuffix("/redfish/v1") { text.removeLast("/redfish/v1".count) }
        return text
    }

    /// GETs a resource; its body must be a JSON object.
    func get(_ path: String) async throws -> JSONValue {
        try await signIn()
        let (status, _, body) = try await send(.GET, path)
        try check(status, path)
        guard let json = JSONValue.parse(body), json.isObject else {
            throw RedfishError(kind: .terminal, message: "\(endpoint)\(path): the answer is not a JSON object", status: nil)
        }
        return json
    }

    /// POSTs a JSON body to an action; 2xx is success.
    func post(_ path: String, json: [String: String]) async throws {
        try await signIn()
        let body = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        let (status, _, _) = try await send(.POST, path, body: body, retry: false)
        try check(status, path)
    }

    /// Ends the session, if one was opened; best effort.
    func close() async {
        guard let location = sessionLocation else { return }
        sessionLocation = nil
        _ = try? await send(.DELETE, location, retry: false)
        authorization = nil
    }

    private func check(_ status: Int, _ path: String) throws {
        switch status {
        case 200..<300: return
        case 401, 403: throw RedfishError(kind: .unauthorized, message: "\(endpoint)\(path): authentication refused (HTTP \(status)); check usernameFrom and passwordFrom", status: status)
        case 404, 405, 501: throw RedfishError(kind: .missing, message: "\(endpoint)\(path): not offered by this service (HTTP \(status))", status: status)
        case 429, 500...: throw RedfishError(kind: .transient, message: "\(endpoint)\(path): HTTP \(status) after \(settings.retries + 1) attempts", status: status)
        default: throw RedfishError(kind: .terminal, message: "\(endpoint)\(path): HTTP \(status)", status: status)
        }
    }

    private func signIn() async throws {
        if let signingIn { return try await signingIn.value }
        let task = Task { try await openSession() }
        signingIn = task
        try await task.value
    }

    /// Opens a session where the service offers one, else keeps basic auth.
    private func openSession() async throws {
        guard let credentials else { return }
        authorization = ("Authorization", credentials.basicAuthorization)
        // The service root is readable without credentials (Redfish requires it).
        let (status, _, body) = try await send(.GET, "/redfish/v1", authenticated: false)
        guard status == 200, let root = JSONValue.parse(body),
              let sessions = root["Links"]?["Sessions"]?.link else { return }
        let login = try JSONSerialization.data(withJSONObject: ["UserName": credentials.username, "Password": credentials.password])
        let (loginStatus, headers, _) = try await send(.POST, sessions, body: login, authenticated: false, retry: false)
        if (200..<300).contains(loginStatus), let token = headers.first(name: "X-Auth-Token") {
            authorization = ("X-Auth-Token", token)
            sessionLocation = headers.first(name: "Location").map(Self.path(of:))
            logger.debug("redfish session opened", metadata: ["redfish.endpoint": "\(endpoint)"])
        } else if loginStatus == 401 || loginStatus == 403 {
            throw RedfishError(kind: .unauthorized, message: "\(endpoint)\(sessions): authentication refused (HTTP \(loginStatus)); check usernameFrom and passwordFrom", status: loginStatus)
        }
    }

    /// A Location header may be absolute; requests take paths.
    static func path(of location: String) -> String {
        guard let url = URL(string: location), url.host != nil else { return location }
        return url.path
    }

    /// One request with retries on transient failures; returns status, headers and body.
    private func send(_ method: HTTPMethod, _ path: String, body: Data? = nil, authenticated: Bool = true,
                      retry: Bool = true) async throws -> (Int, HTTPHeaders, Data) {
        var attempt = 0
        while true {
            let started = ContinuousClock.now
            do {
                let result = try await limiter.run { [self] in try await once(method, path, body: body, authenticated: authenticated) }
                if retry, attempt < settings.retries, result.0 == 429 || result.0 >= 500 {
                    attempt += 1
                    try await Task.sleep(for: .seconds(settings.retryDelay * Double(1 << (attempt - 1))))
                    continue
                }
                return result
            } catch let error as RedfishError where error.kind == .transient && retry && attempt < settings.retries
                        // The client already retries connecting until the request's deadline:
                        // a BMC that stayed unreachable that long is not retried again.
                        && !(error.status == nil && ContinuousClock.now - started >= .seconds(settings.requestTimeout * 0.9)) {
                attempt += 1
                logger.debug("redfish request retried", metadata: ["redfish.endpoint": "\(endpoint)", "redfish.path": "\(path)"])
                try await Task.sleep(for: .seconds(settings.retryDelay * Double(1 << (attempt - 1))))
            }
        }
    }

    private func once(_ method: HTTPMethod, _ path: String, body: Data?, authenticated: Bool) async throws -> (Int, HTTPHeaders, Data) {
        var request = HTTPClientRequest(url: endpoint + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "OData-Version", value: "4.0")
        if authenticated, let authorization { request.headers.add(name: authorization.name, value: authorization.value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(settings.requestTimeout * 1000)))
            let buffer = try await response.body.collect(upTo: 16 << 20)
            return (Int(response.status.code), response.headers, Data(buffer.readableBytesView))
        } catch let error as RedfishError {
            throw error
        } catch {
            // The underlying error names the host and the kind of failure, never a header.
            throw RedfishError(kind: .transient, message: "\(endpoint)\(path): cannot reach the service (\(Self.summary(of: error)))", status: nil)
        }
    }

    /// A short, credential-free description of a transport error.
    static func summary(of error: any Error) -> String {
        if let client = error as? HTTPClientError {
            switch client {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "timed out"
            case .remoteConnectionClosed: return "connection closed"
            default: return "\(client)"
            }
        }
        let text = String(describing: error)
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}
