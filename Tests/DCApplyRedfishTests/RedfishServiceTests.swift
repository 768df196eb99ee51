import DCApplyCore
@testable import DCApplyRedfish
import Foundation
import Testing

/// The provider against real Redfish services on 127.0.0.1: sushy-emulator (TLS, basic auth,
/// power) and sushy-static serving DMTF's public-tower mockup (GPUs, memory, drives).
@Suite(.timeLimit(.minutes(5)))
struct RedfishServiceTests {
    @Test func mockupSystemHasTwoGPUsOfTheMockupsModelAndItsDrives() async throws {
        try await RedfishServices.withMockup { endpoint in
            let folder = try RedfishServices.scratch("dcapply-mockup")
            defer { try? FileManager.default.removeItem(at: folder) }
            // Keyed by SerialNumber (the entry under the default name, devrender2, comes second);
            // the mockup's Chassis has no Placement, so the rack comes from here.
            try "437XR1238R2: {labels: {rack: r01, fabric: eth}}\ndevrender2: {labels: {rack: r99}}\n".write(to: folder.appendingPathComponent("racks.yaml"), atomically: true, encoding: .utf8)
            let site = try RedfishTestSupport.site("endpoints: [\"\(endpoint)\"]\nlabelsFrom: racks.yaml", in: folder)
            let (nodes, diagnostics) = try await RedfishTestSupport.provider(site).observe(site: site)
            #expect(!diagnostics.hasErrors, "\(diagnostics)")
            let node = try #require(nodes.first)
            #expect(nodes.count == 1)
            #expect(node.name == "devrender2")
            #expect(node.gpu == GPUInfo(model: "Nvidia(R) TU102", count: 2, memoryGiB: 11))
            #expect(node.capacity == ["gpus": 2, "cpuCores": 128, "memoryGiB": 1024])
            #expect(node.labels == ["rack": "r01", "fabric": "eth"])
            #expect(node.health == .healthy)
            #expect(node.powerState == .on)
            // The mockup lists 18 drive bays, 8 of them Absent: 6 NVMe SSDs of 1 PiB and 4 SAS HDDs remain.
            #expect(node.drives.count == 10)
            #expect(node.drives.filter { $0.media == .nvme }.count == 6)
            #expect(node.drives.filter { $0.media == .hdd }.count == 4)
            #expect(node.drives.first == Drive(id: "M.2-1", media: .nvme, capacityTiB: 1024, selfEncrypting: false))
            #expect(diagnostics.isEmpty, "\(diagnostics)")
        }
    }

    @Test func emulatorSystemsBecomeNodesWithDrivesOverTLSAndBasicAuth() async throws {
        try await RedfishServices.withEmulator(systems: 3) { emulator in
            let folder = try RedfishServices.scratch("dcapply-emulator")
            defer { try? FileManager.default.removeItem(at: folder) }
            try "\(emulator.password)\n".write(to: folder.appendingPathComponent("bmc-password"), atomically: true, encoding: .utf8)
            try "\(RedfishServices.uuid(1)): {name: gpu-b, labels: {fabric: ib}}\n".write(to: folder.appendingPathComponent("racks.yaml"), atomically: true, encoding: .utf8)
            let site = try RedfishTestSupport.site("""
                endpoints: ["\(emulator.endpoint)"]
                usernameFrom: env:TEST_BMC_USER
                passwordFrom: file:bmc-password
                caFile: \(RedfishServices.caFile)
                labelsFrom: racks.yaml
                """, in: folder)
            let (nodes, diagnostics) = try await RedfishTestSupport.provider(site, environment: ["TEST_BMC_USER": emulator.username]).observe(site: site)
            #expect(!diagnostics.hasErrors, "\(diagnostics)")
            #expect(nodes.map(\.name) == ["gpu-b", "node-00-\(RedfishServices.uuid(0))", "node-02-\(RedfishServices.uuid(2))"])
            let node = try #require(nodes.first)
            // The emulator's one Chassis holds every System and says rack WEB43, row North.
            #expect(node.labels == ["fabric": "ib", "rack": "WEB43", "row": "North"])
            #expect(node.drives == [Drive(id: "nvme0", media: .nvme, capacityTiB: 6.986, selfEncrypting: true),
                                    Drive(id: "sata0", media: .hdd, capacityTiB: 1, selfEncrypting: true)])
            #expect(node.powerState == .off)
            #expect(node.gpu == nil)
            // The fake driver links no Processors and answers 404 for Memory: one warning each, for all systems.
            let warnings = diagnostics.filter { $0.severity == .warning }.map(\.message)
            #expect(warnings.contains { $0.contains("Processors not linked for 3 systems") })
        }
    }

    @Test func powerOnAndOffReachTheEmulator() async throws {
        try await RedfishServices.withEmulator(systems: 2) { emulator in
            let folder = try RedfishServices.scratch("dcapply-power")
            defer { try? FileManager.default.removeItem(at: folder) }
            let site = try RedfishTestSupport.site("""
                endpoints: ["\(emulator.endpoint)"]
                usernameFrom: env:U
                passwordFrom: env:P
                caFile: \(RedfishServices.caFile)
                """, in: folder)
            let provider = try RedfishTestSupport.provider(site, environment: ["U": emulator.username, "P": emulator.password])
            let names = try await provider.observe(site: site).nodes.map(\.name)
            // Both at once: one BMC's work does not wait for the other's.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for name in names { group.addTask { try await provider.setPower(.on, node: name, site: site) } }
                try await group.waitForAll()
            }
            #expect(try await provider.observe(site: site).nodes.map(\.powerState) == [.on, .on])
            try await provider.setPower(.on, node: names[0], site: site)  // idempotent
            try await provider.setPower(.off, node: names[0], site: site)
            #expect(try await provider.observe(site: site).nodes.map(\.powerState) == [.off, .on])
            await #expect(throws: ProviderError.self) { try await provider.setPower(.on, node: "no-such-node", site: site) }
        }
    }

    @Test func wrongPasswordStopsTheRunAndNamesNoSecret() async throws {
        try await RedfishServices.withEmulator(systems: 1) { emulator in
            let folder = try RedfishServices.scratch("dcapply-auth")
            defer { try? FileManager.default.removeItem(at: folder) }
            let site = try RedfishTestSupport.site("""
                endpoints: ["\(emulator.endpoint)"]
                usernameFrom: env:U
                passwordFrom: env:P
                insecureSkipVerify: true
                """, in: folder)
            let wrong = "wrong-" + emulator.password
            let provider = try RedfishTestSupport.provider(site, environment: ["U": emulator.username, "P": wrong])
            let (nodes, diagnostics) = try await provider.observe(site: site)
            #expect(nodes.isEmpty)
            #expect(diagnostics.contains { $0.severity == .error && $0.message.contains("authentication refused (HTTP 401)") })
            #expect(diagnostics.contains { $0.severity == .warning && $0.message.contains("insecureSkipVerify") })
            let error = await #expect(throws: ProviderError.self) { try await provider.setPower(.on, node: "x", site: site) }
            for text in diagnostics.map(\.description) + [error.map { "\($0)" } ?? ""] {
                #expect(!text.contains(wrong) && !text.contains(emulator.password))
            }
        }
    }

    @Test func unreachableBMCIsAWarningAndTheOthersAreObserved() async throws {
        try await RedfishServices.withEmulator(systems: 1, secure: false) { emulator in
            let folder = try RedfishServices.scratch("dcapply-unreachable")
            defer { try? FileManager.default.removeItem(at: folder) }
            let dead = "http://127.0.0.1:\(RedfishServices.freePort())"
            try "\(emulator.endpoint)\n# a BMC that is down\n\(dead)/redfish/v1\n".write(to: folder.appendingPathComponent("bmcs.txt"), atomically: true, encoding: .utf8)
            let site = try RedfishTestSupport.site("endpointsFile: bmcs.txt\nconcurrency: 2", in: folder)
            var settings = RedfishTestSupport.fastSettings
            settings.requestTimeout = 2
            let (nodes, diagnostics) = try await RedfishTestSupport.provider(site, settings: settings).observe(site: site)
            #expect(nodes.count == 1)
            #expect(!diagnostics.hasErrors)
            #expect(diagnostics.contains { $0.severity == .warning && $0.message.hasPrefix("Site lab: \(dead)/redfish/v1: cannot reach the service") })

            let allDead = try RedfishTestSupport.site("endpoints: [\"\(dead)\"]", in: folder)
            let (none, errors) = try await RedfishTestSupport.provider(allDead, settings: settings).observe(site: allDead)
            #expect(none.isEmpty)
            #expect(errors.contains { $0.severity == .error && $0.message == "Site lab: no Redfish endpoint answered" })
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func serverErrorsMalformedJSONAndSlowAnswersDegradeWithWarnings() async throws {
        let python = try RedfishServices.program("python3")
        let port = RedfishServices.freePort()
        let script = RedfishServices.fixtures.appendingPathComponent("faulty_redfish.py").path
        try await RedfishServices.serve(python, [script, "\(port)"], port: port, secure: false) {
            let folder = try RedfishServices.scratch("dcapply-faults")
            defer { try? FileManager.default.removeItem(at: folder) }
            let site = try RedfishTestSupport.site("endpoints: [\"http://127.0.0.1:\(port)\"]", in: folder)
            var settings = RedfishTestSupport.fastSettings
            settings.requestTimeout = 1
            // No hang: the test's time limit bounds it, and the warnings below prove the 1 s
            // timeout cut the slow Storage (it answers after 3 s).
            let (nodes, diagnostics) = try await RedfishTestSupport.provider(site, settings: settings).observe(site: site)
            #expect(!diagnostics.hasErrors, "\(diagnostics)")
            let node = try #require(nodes.first)
            #expect(node.name == "faulty-sys1")
            #expect(node.health == .degraded)
            #expect(node.labels == ["rack": "r09", "row": "3"])
            #expect(node.capacity == ["gpus": 0, "cpuCores": 64])
            #expect(node.drives.isEmpty)
            let warnings = diagnostics.map(\.message).joined(separator: "\n")
            #expect(warnings.contains("Processors unreadable (HTTP 500)"))
            #expect(warnings.contains("Memory unreadable (not JSON)"))
            #expect(warnings.contains("Storage unreadable (no answer)"))
        }
    }
}

/// Session authentication, against a small service that accepts nothing but X-Auth-Token.
@Suite(.timeLimit(.minutes(5)))
struct RedfishSessionTests {
    @Test func aSessionIsOpenedUsedAndClosedWhenTheServiceOffersOne() async throws {
        let python = try RedfishServices.program("python3")
        let port = RedfishServices.freePort()
        let password = "pw-" + UUID().uuidString.prefix(12).lowercased()
        let script = RedfishServices.fixtures.appendingPathComponent("session_redfish.py").path
        try await RedfishServices.serve(python, [script, "\(port)", "operator", password], port: port, secure: false) {
            let folder = try RedfishServices.scratch("dcapply-session")
            defer { try? FileManager.default.removeItem(at: folder) }
            let site = try RedfishTestSupport.site("endpoints: [\"http://127.0.0.1:\(port)\"]\nusernameFrom: env:U\npasswordFrom: env:P", in: folder)
            let (nodes, diagnostics) = try await RedfishTestSupport.provider(site, environment: ["U": "operator", "P": password]).observe(site: site)
            #expect(!diagnostics.hasErrors, "\(diagnostics)")
            #expect(nodes.map(\.name) == ["sess-node"])
            #expect(nodes.first?.capacity == ["gpus": 0, "cpuCores": 32, "memoryGiB": 512])
            let stats = try await RedfishServices.output(python, ["-c", "import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1]).read().decode())", "http://127.0.0.1:\(port)/stats"])
            #expect(stats.contains("\"opened\": 1, \"open\": 0"), "\(stats)")

            let (none, refused) = try await RedfishTestSupport.provider(site, environment: ["U": "operator", "P": "not-" + password]).observe(site: site)
            #expect(none.isEmpty)
            #expect(refused.contains { $0.severity == .error && $0.message.contains("authentication refused (HTTP 401)") })
            #expect(!refused.map(\.description).joined().contains(password))
        }
    }
}
