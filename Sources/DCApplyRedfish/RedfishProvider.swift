import AsyncHTTPClient
import DCApplyCore
import Foundation
import Logging

/// Observes the nodes of a Redfish site from its BMCs and applies power changes with
/// `ComputerSystem.Reset`. Pool membership and assignments stay in the state store.
///
/// Every ComputerSystem of every endpoint becomes a node (see `NodeMapper`). BMCs are contacted
/// at most `concurrency` at once, each with at most `requestsPerEndpoint` requests in flight.
/// An unreachable BMC is a warning and its nodes are missing from the observation; when no BMC
/// answers, or one refuses the credentials, it is an error and the run stops.
public struct RedfishProvider: HardwareProvider {
    public let configuration: RedfishConfiguration
    public let settings: RedfishSettings
    let logger: Logger
    let environment: [String: String]
    let directory: NodeDirectory
    /// `dcapply inventory set NODE health=...` overrides, to rehearse failures on real
    /// hardware; power states always come from the BMCs.
    let overrides: (any LocalHardwareStore)?

    public init(configuration: RedfishConfiguration, settings: RedfishSettings = RedfishSettings(), logger: Logger,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.init(configuration: configuration, settings: settings, logger: logger, environment: environment, directory: NodeDirectory(), overrides: nil)
    }

    init(configuration: RedfishConfiguration, settings: RedfishSettings, logger: Logger, environment: [String: String],
         directory: NodeDirectory, overrides: (any LocalHardwareStore)?) {
        self.configuration = configuration
        self.settings = settings
        self.logger = logger
        self.environment = environment
        self.directory = directory
        self.overrides = overrides
    }

    public func observe(site: Site) async throws -> (nodes: [ObservedNode], diagnostics: [Diagnostic]) {
        let setup = RedfishSiteSetup(site: site, configuration: configuration, environment: environment)
        var diagnostics = setup.diagnostics
        var labelsFile = LabelsFile()
        if let path = configuration.labelsFrom {
            let (file, labelDiagnostics) = LabelsFile.read(path: path)
            labelsFile = file
            diagnostics += labelDiagnostics
        }
        if diagnostics.hasErrors { return ([], diagnostics) }
        let results = try await scan(setup: setup, details: true)
        let rehearsed = try overrides?.overrides() ?? [:]
        var nodes: [ObservedNode] = []
        var locations: [String: NodeLocation] = [:]
        var gaps: [String: [String]] = [:]
        var unreachable: [String] = []
        for result in results {
            var systems: [SystemInventory] = []
            switch result.outcome {
            case .failure(let error):
                if error.kind == .unauthorized {
                    diagnostics.append(.error("Site \(site.metadata.name): \(error.message)", at: configuration.source))
                } else {
                    unreachable.append(result.endpoint)
                    diagnostics.append(.warning("Site \(site.metadata.name): \(error.message); its systems are not observed", at: configuration.source))
                }
            case .success(let found):
                systems = found
            case .partial(let found, let failures):
                systems = found
                for error in failures {
                    diagnostics.append(.warning("Site \(site.metadata.name): \(error.message); that system is not observed", at: configuration.source))
                }
            }
            for system in systems {
                var node = NodeMapper.node(system, site: site.metadata.name, labelsFile: labelsFile)
                if let health = rehearsed[node.name]?.health { node.health = health }
                if let other = locations[node.name] {
                    diagnostics.append(.error("Site \(site.metadata.name): systems \(other.endpoint)\(other.path) and \(system.endpoint)\(system.path) are both named \(node.name); name them in labelsFrom", at: configuration.source))
                    continue
                }
                locations[node.name] = NodeLocation(endpoint: system.endpoint, path: system.path)
                nodes.append(node)
                for gap in Set(system.gaps) { gaps["\(system.endpoint): \(gap)", default: []].append(node.name) }
            }
        }
        if !results.isEmpty, unreachable.count == results.count {
            diagnostics.append(.error("Site \(site.metadata.name): no Redfish endpoint answered", at: configuration.source))
        }
        for (gap, names) in gaps.sorted(by: { $0.key < $1.key }) {
            let sorted = names.sorted()
            let shown = sorted.prefix(3).joined(separator: ", ") + (sorted.count > 3 ? ", …" : "")
            diagnostics.append(.warning("Site \(site.metadata.name): \(gap) for \(sorted.count) system\(sorted.count == 1 ? "" : "s") (\(shown)); observed with what is known", at: configuration.source))
        }
        await directory.record(site: site.metadata.name, locations)
        logger.debug("redfish site observed", metadata: ["dcapply.site": "\(site.metadata.name)", "redfish.nodes": "\(nodes.count)"])
        return (nodes.sorted { $0.name < $1.name }, diagnostics)
    }

    public func setPower(_ state: PowerState, node: String, site: Site) async throws {
        let setup = RedfishSiteSetup(site: site, configuration: configuration, environment: environment)
        if let problem = setup.diagnostics.first(where: { $0.severity == .error }) {
            throw ProviderError(.terminal, node: node, problem.message)
        }
        let client = setup.makeClient(settings: settings)
        do {
            try await setPower(state, node: node, site: site, setup: setup, client: client)
            try? await client.shutdown()
        } catch {
            try? await client.shutdown()
            if let error = error as? RedfishError { throw ProviderError(error.providerError, node: node, error.message) }
            throw error
        }
    }

    private func setPower(_ state: PowerState, node: String, site: Site, setup: RedfishSiteSetup, client: HTTPClient) async throws {
        let location = try await locate(node, site: site, setup: setup, client: client)
        let connection = RedfishConnection(endpoint: location.endpoint, client: client, credentials: setup.credentials, settings: settings, logger: logger)
        do {
            try await reset(connection, to: state, node: node, location: location)
            await connection.close()
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Resets the System to `state` and polls until it is there.
    private func reset(_ connection: RedfishConnection, to state: PowerState, node: String, location: NodeLocation) async throws {
        let system = try await connection.get(location.path)
        if NodeMapper.powerState(system["PowerState"]?.string) == state { return }
        let reset = system["Actions"]?["#ComputerSystem.Reset"]
        let target = reset?["target"]?.string ?? location.path + "/Actions/ComputerSystem.Reset"
        let allowed = Set((reset?["ResetType@Redfish.AllowableValues"]?.array ?? []).compactMap(\.string))
        func offers(_ type: String) -> Bool { allowed.isEmpty || allowed.contains(type) }
        let metadata: Logger.Metadata = ["dcapply.node": "\(node)", "redfish.endpoint": "\(location.endpoint)"]
        switch state {
        case .on:
            logger.info("redfish power on", metadata: metadata)
            try await connection.post(target, json: ["ResetType": offers("On") ? "On" : "ForceOn"])
            guard try await poll(connection, location.path, until: .on, seconds: settings.powerTimeout) else {
                throw ProviderError(.transient, node: node, "\(location.endpoint)\(location.path): still not on \(Int(settings.powerTimeout)) s after Reset On")
            }
        case .off:
            if offers("GracefulShutdown") {
                logger.info("redfish graceful shutdown", metadata: metadata)
                try await connection.post(target, json: ["ResetType": "GracefulShutdown"])
                if try await poll(connection, location.path, until: .off, seconds: settings.gracefulShutdownTimeout) { return }
                logger.warning("redfish graceful shutdown timed out; forcing off", metadata: metadata)
            }
            try await connection.post(target, json: ["ResetType": "ForceOff"])
            guard try await poll(connection, location.path, until: .off, seconds: settings.powerTimeout) else {
                throw ProviderError(.transient, node: node, "\(location.endpoint)\(location.path): still not off \(Int(settings.powerTimeout)) s after ForceOff")
            }
        }
    }

    /// Polls PowerState until it is `state`; false after `seconds`.
    private func poll(_ connection: RedfishConnection, _ path: String, until state: PowerState, seconds: Double) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .seconds(settings.pollInterval))
            let system = try await connection.get(path)
            if system["PowerState"]?.string == (state == .on ? "On" : "Off") { return true }
        }
        return false
    }

    /// Where a node lives: from the last observation, else by listing every System again.
    private func locate(_ node: String, site: Site, setup: RedfishSiteSetup, client: HTTPClient) async throws -> NodeLocation {
        if let known = await directory.location(site: site.metadata.name, node: node) { return known }
        var labelsFile = LabelsFile()
        if let path = configuration.labelsFrom { labelsFile = LabelsFile.read(path: path).0 }
        var found: [String: NodeLocation] = [:]
        for result in try await scan(setup: setup, details: false, client: client) {
            guard case .success(let systems) = result.outcome else { continue }
            for system in systems {
                found[NodeMapper.node(system, site: site.metadata.name, labelsFile: labelsFile).name] = NodeLocation(endpoint: system.endpoint, path: system.path)
            }
        }
        await directory.record(site: site.metadata.name, found)
        guard let location = found[node] else {
            throw ProviderError(.terminal, node: node, "no Redfish System of site \(site.metadata.name) is this node")
        }
        return location
    }

    struct EndpointResult: Sendable {
        enum Outcome: Sendable {
            case success([SystemInventory])
            case failure(RedfishError)
            case partial([SystemInventory], [RedfishError])
        }
        var endpoint: String
        var outcome: Outcome
    }

    /// Scans every endpoint, `concurrency` at once; one result per endpoint, in their order.
    func scan(setup: RedfishSiteSetup, details: Bool, client existing: HTTPClient? = nil) async throws -> [EndpointResult] {
        let client = existing ?? setup.makeClient(settings: settings)
        do {
            let results = try await scanEndpoints(setup: setup, details: details, client: client)
            if existing == nil { try? await client.shutdown() }
            return results
        } catch {
            if existing == nil { try? await client.shutdown() }
            throw error
        }
    }

    private func scanEndpoints(setup: RedfishSiteSetup, details: Bool, client: HTTPClient) async throws -> [EndpointResult] {
        let limiter = AsyncSemaphore(configuration.concurrency)
        return try await setup.endpoints.concurrentMap { [settings, logger] endpoint in
            try await limiter.run {
                let connection = RedfishConnection(endpoint: endpoint, client: client, credentials: setup.credentials, settings: settings, logger: logger)
                let outcome = try await scanEndpoint(RedfishScanner(connection: connection), details: details)
                await connection.close()
                return EndpointResult(endpoint: endpoint, outcome: outcome)
            }
        }
    }

    private func scanEndpoint(_ scanner: RedfishScanner, details: Bool) async throws -> EndpointResult.Outcome {
        let paths: [String]
        do { paths = try await scanner.systemPaths() } catch let error as RedfishError { return .failure(error) }
        let results = try await paths.concurrentMap { path in
            await outcome { try await scanner.system(path, details: details) }
        }
        var systems: [SystemInventory] = []
        var failures: [RedfishError] = []
        for (path, result) in zip(paths, results) {
            switch result {
            case .success(let system): systems.append(system)
            case .failure(let error as RedfishError): failures.append(error)
            case .failure(let error): failures.append(RedfishError(kind: .transient, message: "\(scanner.connection.endpoint)\(path): \(error)"))
            }
        }
        if let refused = failures.first(where: { $0.kind == .unauthorized }) { return .failure(refused) }
        return failures.isEmpty ? .success(systems) : .partial(systems, failures)
    }
}

/// Where a node's System is: its service and its path there.
struct NodeLocation: Sendable, Hashable {
    var endpoint: String
    var path: String
}

/// The nodes of each site as last observed, so a power change does not list every System again.
actor NodeDirectory {
    private var sites: [String: [String: NodeLocation]] = [:]

    func record(site: String, _ locations: [String: NodeLocation]) {
        sites[site, default: [:]].merge(locations) { _, new in new }
    }

    func location(site: String, node: String) -> NodeLocation? { sites[site]?[node] }
}
