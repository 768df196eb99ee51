import Foundation
import Testing
@testable import DCApplyCore

/// Validation of manifests against the v1 contract (shared/spec/manifests.md): envelope, unknown
/// fields, types and ranges, exactly-one-of groups, selectors, references, and hostile input.
/// Expected diagnostics are exact strings: `file:line:column: error: field.path: message`.
@Suite struct ManifestValidationTests {

    // MARK: - Helpers

    typealias Case = DiagnosticCase

    static func parse(_ text: String, path: String = "test.yaml") -> (state: DesiredState, locations: ManifestParser.Locations, diagnostics: [Diagnostic]) {
        ManifestParser().parse([SourceFile(path: path, text: text)])
    }

    static func descriptions(_ text: String) -> [String] {
        parse(text).diagnostics.map(\.description)
    }

    /// A fixture under Fixtures/manifests, shown under its path relative to that folder.
    static func fixture(_ relativePath: String) throws -> SourceFile {
        let root = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let url = root.appendingPathComponent("manifests").appendingPathComponent(relativePath)
        return SourceFile(path: relativePath, text: try String(contentsOf: url, encoding: .utf8))
    }

    /// A Site `east-1` (lines 1-6) and a HardwarePool `train-h100` (lines 8-11), then `---` on
    /// line 12: a document appended to this starts on line 13.
    static let preamble = """
        apiVersion: dcapply/v1
        kind: Site
        metadata: {name: east-1}
        spec:
          failureDomains: [room, row, rack]
          provider: {local: {inventory: inventory.yaml}}
        ---
        apiVersion: dcapply/v1
        kind: HardwarePool
        metadata: {name: train-h100}
        spec: {site: east-1}
        ---

        """

    /// `preamble` + a document of `kind` named `name` whose spec lines (indented two spaces)
    /// start on line 17.
    static func document(_ kind: String, _ name: String = "x", spec: String) -> String {
        preamble + "apiVersion: dcapply/v1\nkind: \(kind)\nmetadata: {name: \(name)}\nspec:\n" + spec
    }

    static func workload(_ spec: String) -> String { document("Workload", "w", spec: spec) }

    /// A StorageTier whose site and media are set (lines 17-18); more spec lines start on line 19.
    static func tier(_ spec: String) -> String { document("StorageTier", "t", spec: "  site: east-1\n  media: nvme\n" + spec) }

    /// A HardwarePool `p2` on east-1 (line 17); more spec lines start on line 18.
    static func pool(_ spec: String) -> String { document("HardwarePool", "p2", spec: "  site: east-1\n" + spec) }

    /// A standalone Site `s` whose failureDomains is on line 5; more spec lines start on line 6.
    static func site(_ spec: String) -> String {
        "apiVersion: dcapply/v1\nkind: Site\nmetadata: {name: s}\nspec:\n  failureDomains: [rack]\n" + spec
    }

    // MARK: - A good file

    @Test func goodFileWithAllSevenKindsHasNoDiagnosticsAndTheRightModel() throws {
        let source = try Self.fixture("good/all-kinds.yaml")
        let (state, locations, diagnostics) = ManifestParser().parse([source])
        #expect(diagnostics.map(\.description) == [])

        #expect(state.sites.keys.sorted() == ["east-1"])
        #expect(state.redundancyPolicies.keys.sorted() == ["pool-spread", "rack-spread"])
        #expect(state.pools.keys.sorted() == ["train-h100"])
        #expect(state.workloads.keys.sorted() == ["llama-70b-serve"])
        #expect(state.storageTiers.keys.sorted() == ["hot", "warm"])
        #expect(state.accessPolicies.keys.sorted() == ["ml-research"])
        #expect(state.energyPolicies.keys.sorted() == ["east-1-energy"])
        #expect(state.digest.count == 64)

        let site = try #require(state.sites["east-1"])
        #expect(site.failureDomains == ["room", "row", "rack"])
        #expect(site.metadata.labels == ["region": "us-east"])
        #expect(site.powerDomain == "rack")
        guard case .local(_, let declared, _) = site.provider else {
            Issue.record("expected a local provider, got \(site.provider)")
            return
        }
        #expect(declared == "inventory.yaml")

        let policy = try #require(state.redundancyPolicies["rack-spread"])
        #expect(policy.failureDomain == "rack")
        #expect(policy.maxPerDomain == 2)
        #expect(policy.minDomains == 3)
        #expect(policy.spares == 0)
        #expect(policy.maxUnavailable == 1)
        #expect(state.redundancyPolicies["pool-spread"]?.spares == 1)

        let pool = try #require(state.pools["train-h100"])
        #expect(pool.site == "east-1")
        #expect(pool.size == .gpus(128))
        #expect(pool.gpuModel == "H100")
        #expect(pool.minGpuMemoryGiB == 80)
        #expect(pool.redundancy == "pool-spread")
        #expect(pool.metadata.annotations == ["owner": "ml-infra@example.com"])
        #expect(pool.nodeSelector == LabelSelector(
            matchLabels: ["fabric": "ib-ndr"],
            matchExpressions: [
                .init(key: "rack", operator: .notIn, values: ["r99"]),
                .init(key: "leafSwitch", operator: .exists, values: []),
            ]))
        let selector = try #require(pool.nodeSelector)
        #expect(selector.matches(["fabric": "ib-ndr", "rack": "r01", "leafSwitch": "leaf-01"]))
        #expect(!selector.matches(["fabric": "ib-ndr", "rack": "r99", "leafSwitch": "leaf-01"]))
        #expect(!selector.matches(["fabric": "ib-ndr", "rack": "r01"]))

        let workload = try #require(state.workloads["llama-70b-serve"])
        #expect(workload.pool == "train-h100")
        #expect(workload.tenant == "ml-research")
        #expect(workload.replicas == 6)
        #expect(workload.resources == ["gpus": 4, "cpuCores": 32, "memoryGiB": 256.5, "nicGbps": 100])
        #expect(workload.gpusPerReplica == 4)
        #expect(workload.priority == 0, "priority defaults to 0")
        #expect(workload.redundancy == "rack-spread")
        #expect(workload.colocate == "leafSwitch")

        let hot = try #require(state.storageTiers["hot"])
        #expect(hot.media == .nvme)
        #expect(hot.usableTiB == 500)
        #expect(hot.protection == .erasure(data: 8, parity: 3))
        #expect(hot.protection.dataChunks == 8, "k = data")
        #expect(hot.protection.width == 11, "w = data + parity")
        #expect(hot.encryptionRequired)
        #expect(hot.redundancy == "rack-spread")
        let warm = try #require(state.storageTiers["warm"])
        #expect(warm.media == .ssd)
        #expect(warm.usableTiB == 120.5)
        #expect(warm.protection == .replicas(3))
        #expect(warm.protection.dataChunks == 1, "k = 1 for replicas")
        #expect(warm.protection.width == 3, "w = r for replicas")
        #expect(!warm.encryptionRequired, "encryption defaults to optional")
        #expect(warm.nodeSelector == nil)

        let access = try #require(state.accessPolicies["ml-research"])
        #expect(access.members == [.init(user: "alice@example.com", keys: ["ssh-ed25519 AAAAC3Nza alice"])])
        #expect(access.rules == [.init(kinds: ["HardwarePool", "Workload"], names: ["train-*"], verbs: ["use", "manage"])])
        #expect(access.allows("use", on: ResourceAddress(.hardwarePool, "train-h100")))
        #expect(!access.allows("use", on: ResourceAddress(.hardwarePool, "infer-a100")))
        #expect(!access.allows("use", on: ResourceAddress(.storageTier, "train-x")))

        let energy = try #require(state.energyPolicies["east-1-energy"])
        #expect(energy.site == "east-1")
        #expect(energy.rackPowerCapKW == 40)
        #expect(energy.rackCapsKW == ["r12": 30])
        #expect(energy.powerOffIdle)
        #expect(energy.keepWarm == 2)
        #expect(energy.capW(rack: "r12") == 30_000)
        #expect(energy.capW(rack: "r01") == 40_000)
        #expect(state.energyPolicy(site: "east-1")?.metadata.name == "east-1-energy")

        #expect(locations.resources[ResourceAddress(.workload, "llama-70b-serve")]?.description == "good/all-kinds.yaml:48:11")
        #expect(locations.location(of: ResourceAddress(.workload, "llama-70b-serve"), field: "spec.replicas")?.description == "good/all-kinds.yaml:52:13")
    }

    @Test func optionalFieldsTakeTheirDefaults() throws {
        let (state, _, diagnostics) = Self.parse(Self.document("EnergyPolicy", "e", spec: "  site: east-1\n")
            + "\n---\napiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: r}\nspec: {failureDomain: rack}\n"
            + "---\napiVersion: dcapply/v1\nkind: AccessPolicy\nmetadata: {name: everyone}\nspec:\n")
        #expect(diagnostics.map(\.description) == [])
        let pool = try #require(state.pools["train-h100"])
        #expect(pool.size == nil, "no size: every matching healthy node")
        #expect(pool.nodeSelector == nil)
        #expect(pool.redundancy == nil)
        let energy = try #require(state.energyPolicies["e"])
        #expect(energy.rackPowerCapKW == nil)
        #expect(energy.rackCapsKW == [:])
        #expect(!energy.powerOffIdle)
        #expect(energy.keepWarm == 0)
        let policy = try #require(state.redundancyPolicies["r"])
        #expect(policy.maxPerDomain == nil && policy.minDomains == nil && policy.maxUnavailable == nil && policy.spares == 0)
        #expect(state.accessPolicies["everyone"]?.rules == [])
    }

    @Test func windowsLineEndingsAndEmptyDocumentsAreAccepted() {
        let text = "---\n---\r\napiVersion: dcapply/v1\r\nkind: RedundancyPolicy\r\nmetadata: {name: a}\r\nspec: {failureDomain: rack}\r\n---\n# only a comment\n---\n"
        let (state, _, diagnostics) = Self.parse(text)
        #expect(diagnostics.map(\.description) == [])
        #expect(state.redundancyPolicies["a"]?.failureDomain == "rack")
    }

    // MARK: - Envelope

    static let envelopeCases: [Case] = [
        Case("missing apiVersion",
             "kind: RedundancyPolicy\nmetadata: {name: a}\nspec: {failureDomain: rack}\n",
             ["test.yaml:1:1: error: apiVersion: required field is missing (always dcapply/v1)"]),
        Case("wrong apiVersion",
             "apiVersion: dcapply/v2\nkind: RedundancyPolicy\nmetadata: {name: a}\nspec: {failureDomain: rack}\n",
             [#"test.yaml:1:13: error: apiVersion: expected one of dcapply/v1, got "dcapply/v2"; did you mean "dcapply/v1"?"#]),
        Case("unknown kind with a close match",
             "apiVersion: dcapply/v1\nkind: Workoad\nmetadata: {name: a}\nspec: {}\n",
             [#"test.yaml:2:7: error: kind: unknown kind "Workoad"; did you mean "Workload"?"#]),
        Case("unknown kind without a close match",
             "apiVersion: dcapply/v1\nkind: Banana\nmetadata: {name: a}\nspec: {}\n",
             [#"test.yaml:2:7: error: kind: unknown kind "Banana"; valid kinds: Site, RedundancyPolicy, HardwarePool, Workload, StorageTier, AccessPolicy, EnergyPolicy"#]),
        Case("missing kind",
             "apiVersion: dcapply/v1\nmetadata: {name: a}\nspec: {}\n",
             ["test.yaml:1:1: error: kind: required field is missing (one of Site, RedundancyPolicy, HardwarePool, Workload, StorageTier, AccessPolicy, EnergyPolicy)"]),
        Case("missing metadata",
             "apiVersion: dcapply/v1\nkind: RedundancyPolicy\nspec: {failureDomain: rack}\n",
             ["test.yaml:1:1: error: metadata: required field is missing (name, labels, annotations)"]),
        Case("missing metadata.name",
             "apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata:\n  labels: {team: ml}\nspec: {failureDomain: rack}\n",
             ["test.yaml:4:3: error: metadata.name: required field is missing (a DNS label, unique per kind)"]),
        Case("null metadata.name",
             "apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: }\nspec: {failureDomain: rack}\n",
             ["test.yaml:3:18: error: metadata.name: expected a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters, got nothing (null)"]),
        Case("name with upper case",
             "apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: Rack-Spread}\nspec: {failureDomain: rack}\n",
             [#"test.yaml:3:18: error: metadata.name: expected a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters, got "Rack-Spread""#]),
        Case("name of 64 characters",
             "apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: \(String(repeating: "a", count: 64))}\nspec: {failureDomain: rack}\n",
             ["test.yaml:3:18: error: metadata.name: is 64 characters long; a DNS label has at most 63"]),
        Case("name with a leading dash",
             "apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata:\n  name: -spread\nspec: {failureDomain: rack}\n",
             [#"test.yaml:4:9: error: metadata.name: expected a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters, got "-spread""#]),
        Case("name with an underscore",
             "apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: rack_spread}\nspec: {failureDomain: rack}\n",
             [#"test.yaml:3:18: error: metadata.name: expected a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters, got "rack_spread""#]),
        Case("missing spec",
             "apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: a}\n",
             ["test.yaml:1:1: error: spec: required field is missing (the RedundancyPolicy's specification)"]),
        Case("spec is a list",
             "apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: a}\nspec: [failureDomain]\n",
             ["test.yaml:4:7: error: spec: expected a mapping, got a list"]),
        Case("bad label key and non-string label value",
             "apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: a, labels: {-bad: x, ok: [1]}}\nspec: {failureDomain: rack}\n",
             [#"test.yaml:3:30: error: metadata.labels.-bad: key "-bad" is not valid: expected a label key: letters, digits, '-', '_', '.', '/', at most 253 characters"#,
              "test.yaml:3:43: error: metadata.labels.ok: expected a string, got a list"]),
        Case("document is a list",
             "- apiVersion: dcapply/v1\n- kind: Site\n",
             ["test.yaml:1:1: error: a manifest must be a mapping with apiVersion, kind, metadata and spec, got a list"]),
        Case("document is a scalar",
             "hello world\n",
             [#"test.yaml:1:1: error: a manifest must be a mapping with apiVersion, kind, metadata and spec, got "hello world""#]),
        Case("second document is a scalar",
             "apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: a}\nspec: {failureDomain: rack}\n---\n42\n",
             [#"test.yaml:6:1: error: a manifest must be a mapping with apiVersion, kind, metadata and spec, got "42""#]),
    ]

    @Test(arguments: envelopeCases)
    func envelope(_ c: Case) {
        #expect(Self.descriptions(c.text) == c.expected)
    }

    @Test func nameOf63CharactersIsAccepted() {
        let name = String(repeating: "a", count: 62) + "1"
        let (state, _, diagnostics) = Self.parse("apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: \(name)}\nspec: {failureDomain: rack}\n")
        #expect(diagnostics.isEmpty)
        #expect(state.redundancyPolicies[name] != nil)
    }

    @Test func inventoryDocumentsAreSkippedByTheManifestParser() {
        let (state, _, diagnostics) = Self.parse("apiVersion: dcapply/v1\nkind: Inventory\nnodes: [{name: a}]\n")
        #expect(diagnostics.isEmpty)
        #expect(state == { var empty = DesiredState(); empty.digest = state.digest; return empty }())
    }

    // MARK: - Unknown fields

    /// A misspelt field with a did-you-mean is reported once: the field it points to is not also
    /// reported as missing, nor as a missing exactly-one-of member, nor by the selector check.
    static let unknownFieldCases: [Case] = [
        Case("spec.replica → replicas",
             workload("  pool: train-h100\n  replica: 2\n  resources: {gpus: 1}\n"),
             [#"test.yaml:18:3: error: spec.replica: unknown field "replica"; did you mean "replicas"?"#]),
        Case("spec.size.node → nodes",
             pool("  size: {node: 2}\n"),
             [#"test.yaml:18:10: error: spec.size.node: unknown field "node"; did you mean "nodes"?"#]),
        Case("spec.protection.erasure.parit → parity",
             tier("  usableTiB: 10\n  protection: {erasure: {data: 8, parit: 3}}\n"),
             [#"test.yaml:20:35: error: spec.protection.erasure.parit: unknown field "parit"; did you mean "parity"?"#]),
        Case("spec.nodeSelector.matchExpressions[0].vaules → values",
             pool("  nodeSelector:\n    matchExpressions:\n      - {key: rack, operator: In, vaules: [r01]}\n"),
             [#"test.yaml:20:35: error: spec.nodeSelector.matchExpressions[0].vaules: unknown field "vaules"; did you mean "values"?"#]),
        Case("spec.provider.locl → local (an exactly-one-of member)",
             site("  provider: {locl: {inventory: inventory.yaml}}\n"),
             [#"test.yaml:6:14: error: spec.provider.locl: unknown field "locl"; did you mean "local"?"#]),
        Case("metadata.label → labels",
             "apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata:\n  name: a\n  label: {team: ml}\nspec: {failureDomain: rack}\n",
             [#"test.yaml:5:3: error: metadata.label: unknown field "label"; did you mean "labels"?"#]),
        Case("top-level specs → spec",
             "apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: a}\nspec: {failureDomain: rack}\nspecs: {}\n",
             [#"test.yaml:5:1: error: specs: unknown field "specs"; did you mean "spec"?"#]),
        Case("no close match lists the valid fields",
             workload("  pool: train-h100\n  replicas: 2\n  resources: {gpus: 1}\n  zzzqqq: 1\n"),
             [#"test.yaml:20:3: error: spec.zzzqqq: unknown field "zzzqqq"; valid fields: pool, tenant, replicas, resources, redundancy, colocate, priority"#]),
    ]

    @Test(arguments: unknownFieldCases)
    func unknownFields(_ c: Case) {
        #expect(Self.descriptions(c.text) == c.expected)
    }

    // MARK: - Types and ranges

    static let typeCases: [Case] = [
        Case("replicas \"two\"",
             workload("  pool: train-h100\n  replicas: two\n  resources: {gpus: 1}\n"),
             [#"test.yaml:18:13: error: spec.replicas: expected a non-negative integer, got "two""#]),
        Case("replicas -1",
             workload("  pool: train-h100\n  replicas: -1\n  resources: {gpus: 1}\n"),
             ["test.yaml:18:13: error: spec.replicas: must be at least 0, got -1"]),
        Case("replicas 2.5",
             workload("  pool: train-h100\n  replicas: 2.5\n  resources: {gpus: 1}\n"),
             [#"test.yaml:18:13: error: spec.replicas: expected a non-negative integer, got "2.5""#]),
        Case("quoted \"8\" for an integer",
             workload("  pool: train-h100\n  replicas: \"8\"\n  resources: {gpus: 1}\n"),
             [#"test.yaml:18:13: error: spec.replicas: expected a non-negative integer, got the string "8""#]),
        Case("replicas given a list",
             workload("  pool: train-h100\n  replicas: [2]\n  resources: {gpus: 1}\n"),
             ["test.yaml:18:13: error: spec.replicas: expected a non-negative integer, got a list"]),
        Case("usableTiB 0",
             tier("  usableTiB: 0\n  protection: {replicas: 3}\n"),
             ["test.yaml:19:14: error: spec.usableTiB: must be greater than 0, got 0"]),
        Case("usableTiB negative",
             tier("  usableTiB: -5\n  protection: {replicas: 3}\n"),
             ["test.yaml:19:14: error: spec.usableTiB: must be greater than 0, got -5"]),
        Case("usableTiB not a number",
             tier("  usableTiB: 5TiB\n  protection: {replicas: 3}\n"),
             [#"test.yaml:19:14: error: spec.usableTiB: expected a number, got "5TiB""#]),
        Case("gpus 1.5 and cpuCores 2.5 in resources",
             workload("  pool: train-h100\n  replicas: 2\n  resources: {gpus: 1.5, cpuCores: 2.5, memoryGiB: 0.5}\n"),
             ["test.yaml:19:21: error: spec.resources.gpus: gpus is a count: expected a whole number, got 1.5",
              "test.yaml:19:36: error: spec.resources.cpuCores: cpuCores is a count: expected a whole number, got 2.5"]),
        Case("resource key gpu-count",
             workload("  pool: train-h100\n  replicas: 2\n  resources: {gpu-count: 1}\n"),
             [#"test.yaml:19:15: error: spec.resources.gpu-count: key "gpu-count" is not valid: expected a resource key made of [a-zA-Z][a-zA-Z0-9]*"#]),
        Case("negative resource amount",
             workload("  pool: train-h100\n  replicas: 2\n  resources: {memoryGiB: -1}\n"),
             ["test.yaml:19:26: error: spec.resources.memoryGiB: must be at least 0, got -1"]),
        Case("media nvm",
             tier("").replacingOccurrences(of: "media: nvme", with: "media: nvm") + "  usableTiB: 1\n  protection: {replicas: 3}\n",
             [#"test.yaml:18:10: error: spec.media: expected one of nvme, ssd, hdd, got "nvm"; did you mean "nvme"?"#]),
        Case("encryption not an allowed value",
             tier("  usableTiB: 1\n  protection: {replicas: 3}\n  encryption: yes\n"),
             [#"test.yaml:21:15: error: spec.encryption: expected one of required, optional, got "yes""#]),
        Case("boolean given yes",
             document("EnergyPolicy", "e", spec: "  site: east-1\n  powerOffIdle: yes\n"),
             [#"test.yaml:18:17: error: spec.powerOffIdle: expected true or false, got "yes""#]),
        Case("list field given a scalar",
             site("  provider: {exec: {command: [x]}}\n").replacingOccurrences(of: "[rack]", with: "rack"),
             [#"test.yaml:5:19: error: spec.failureDomains: expected a list, got "rack""#]),
        Case("list field with too few items",
             site("  provider: {exec: {command: []}}\n"),
             ["test.yaml:6:30: error: spec.provider.exec.command: must list at least 1 item"]),
        Case("mapping given a list",
             workload("  pool: train-h100\n  replicas: 2\n  resources: [gpus, 1]\n"),
             ["test.yaml:19:14: error: spec.resources: expected a mapping, got a list"]),
        Case("object given a scalar",
             pool("  size: 16\n"),
             [#"test.yaml:18:9: error: spec.size: expected a mapping, got "16""#]),
        Case("minimum 1 for maxPerDomain",
             "apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: a}\nspec: {failureDomain: rack, maxPerDomain: 0}\n",
             ["test.yaml:4:43: error: spec.maxPerDomain: must be at least 1, got 0"]),
        Case("priority may be negative but is bounded",
             workload("  pool: train-h100\n  replicas: 1\n  resources: {gpus: 1}\n  priority: -2000000000\n"),
             ["test.yaml:20:13: error: spec.priority: must be at least -1000000000, got -2000000000"]),
        Case("secret given as a literal",
             site("  provider:\n    redfish: {endpoints: [\"https://10.0.0.1\"], usernameFrom: admin, passwordFrom: \"env:BMC_PASSWORD\"}\n"),
             [#"test.yaml:7:62: error: spec.provider.redfish.usernameFrom: expected a reference env:NAME or file:PATH (never a literal secret), got a literal value (not shown)"#]),
        Case("access rule with a misspelt kind and an unknown verb",
             "apiVersion: dcapply/v1\nkind: AccessPolicy\nmetadata: {name: a}\nspec:\n  rules:\n    - {kinds: [Workloads], verbs: [use, admin]}\n",
             [#"test.yaml:6:16: error: spec.rules[0].kinds[0]: expected one of Site, RedundancyPolicy, HardwarePool, Workload, StorageTier, AccessPolicy, EnergyPolicy, got "Workloads"; did you mean "Workload"?"#,
              #"test.yaml:6:41: error: spec.rules[0].verbs[1]: expected one of use, manage, got "admin""#]),
        Case("a failure domain listed twice",
             site("  provider: {exec: {command: [x]}}\n").replacingOccurrences(of: "[rack]", with: "[rack, rack]"),
             [#"test.yaml:5:26: error: spec.failureDomains[1]: "rack" is listed twice"#]),
    ]

    @Test(arguments: typeCases)
    func typesAndRanges(_ c: Case) {
        #expect(Self.descriptions(c.text) == c.expected)
    }

    // MARK: - Exactly one of

    static let exactlyOneOfCases: [Case] = [
        Case("provider with none",
             site("  provider: {}\n"),
             ["test.yaml:6:13: error: spec.provider: needs exactly one of local, redfish, exec"]),
        Case("provider null",
             site("  provider:\n"),
             ["test.yaml:6:12: error: spec.provider: needs exactly one of local, redfish, exec"]),
        Case("provider missing",
             site(""),
             ["test.yaml:5:3: error: spec.provider: required field is missing (exactly one of local, redfish, exec)"]),
        Case("provider with local and exec",
             site("  provider:\n    local: {inventory: inventory.yaml}\n    exec: {command: [./sync]}\n"),
             ["test.yaml:7:5: error: spec.provider: takes exactly one of local, redfish, exec, got local and exec"]),
        Case("redfish with endpoints and endpointsFile",
             site("  provider:\n    redfish: {endpoints: [\"https://10.0.0.1\"], endpointsFile: bmcs.txt}\n"),
             ["test.yaml:7:14: error: spec.provider.redfish: takes exactly one of endpoints, endpointsFile, got endpoints and endpointsFile"]),
        Case("redfish with caFile and insecureSkipVerify",
             site("  provider:\n    redfish: {endpointsFile: bmcs.txt, caFile: ca.pem, insecureSkipVerify: true}\n"),
             ["test.yaml:7:14: error: spec.provider.redfish: takes at most one of caFile, insecureSkipVerify, got caFile and insecureSkipVerify"]),
        Case("size with nodes and gpus",
             pool("  size: {nodes: 2, gpus: 16}\n"),
             ["test.yaml:18:9: error: spec.size: takes exactly one of nodes, gpus, got nodes and gpus"]),
        Case("size empty",
             pool("  size: {}\n"),
             ["test.yaml:18:9: error: spec.size: needs exactly one of nodes, gpus"]),
        Case("protection with replicas and erasure",
             tier("  usableTiB: 10\n  protection:\n    replicas: 3\n    erasure: {data: 8, parity: 3}\n"),
             ["test.yaml:21:5: error: spec.protection: takes exactly one of replicas, erasure, got replicas and erasure"]),
        Case("protection with none",
             tier("  usableTiB: 10\n  protection: {}\n"),
             ["test.yaml:20:15: error: spec.protection: needs exactly one of replicas, erasure"]),
    ]

    @Test(arguments: exactlyOneOfCases)
    func exactlyOneOf(_ c: Case) {
        #expect(Self.descriptions(c.text) == c.expected)
    }

    // MARK: - Selectors

    static func selector(_ expression: String) -> String {
        pool("  nodeSelector:\n    matchExpressions:\n      - \(expression)\n")
    }

    static let selectorCases: [Case] = [
        Case("In without values",
             selector("{key: rack, operator: In}"),
             ["test.yaml:20:9: error: spec.nodeSelector.matchExpressions[0].values: operator In needs at least one value"]),
        Case("NotIn with an empty list",
             selector("{key: rack, operator: NotIn, values: []}"),
             ["test.yaml:20:9: error: spec.nodeSelector.matchExpressions[0].values: operator NotIn needs at least one value"]),
        Case("Exists with values",
             selector("{key: rack, operator: Exists, values: [r01]}"),
             ["test.yaml:20:47: error: spec.nodeSelector.matchExpressions[0].values: operator Exists takes no values"]),
        Case("Gt with a non-integer",
             selector("{key: gen, operator: Gt, values: [abc]}"),
             ["test.yaml:20:42: error: spec.nodeSelector.matchExpressions[0].values: operator Gt takes exactly one integer value"]),
        Case("Lt with two values",
             selector("{key: gen, operator: Lt, values: [\"1\", \"2\"]}"),
             ["test.yaml:20:42: error: spec.nodeSelector.matchExpressions[0].values: operator Lt takes exactly one integer value"]),
        Case("Gt without values",
             selector("{key: gen, operator: Gt}"),
             ["test.yaml:20:9: error: spec.nodeSelector.matchExpressions[0].values: operator Gt takes exactly one integer value"]),
        Case("unknown operator",
             selector("{key: gen, operator: Equals, values: [a]}"),
             [#"test.yaml:20:30: error: spec.nodeSelector.matchExpressions[0].operator: expected one of In, NotIn, Exists, DoesNotExist, Gt, Lt, got "Equals""#]),
        Case("operator in the wrong case",
             selector("{key: gen, operator: NotIN, values: [a]}"),
             [#"test.yaml:20:30: error: spec.nodeSelector.matchExpressions[0].operator: expected one of In, NotIn, Exists, DoesNotExist, Gt, Lt, got "NotIN"; did you mean "NotIn"?"#]),
        Case("missing key",
             selector("{operator: Exists}"),
             ["test.yaml:20:9: error: spec.nodeSelector.matchExpressions[0].key: required field is missing (the label key)"]),
    ]

    @Test(arguments: selectorCases)
    func selectorSyntax(_ c: Case) {
        #expect(Self.descriptions(c.text) == c.expected)
    }

    @Test func validSelectorOperatorsParse() throws {
        let text = Self.pool("""
              nodeSelector:
                matchExpressions:
                  - {key: gen, operator: Gt, values: ["3"]}
                  - {key: gen, operator: Lt, values: ["9"]}
                  - {key: rack, operator: In, values: [r01, r02]}
                  - {key: drained, operator: DoesNotExist}

            """)
        let (state, _, diagnostics) = Self.parse(text)
        #expect(diagnostics.isEmpty)
        let selector = try #require(state.pools["p2"]?.nodeSelector)
        #expect(selector.matchExpressions.map(\.operator) == [.gt, .lt, .in, .doesNotExist])
        #expect(selector.matches(["gen": "5", "rack": "r02"]))
        #expect(!selector.matches(["gen": "3", "rack": "r02"]))
        #expect(!selector.matches(["gen": "5", "rack": "r02", "drained": "yes"]))
    }

    // MARK: - References

    static let accessPolicy = "---\napiVersion: dcapply/v1\nkind: AccessPolicy\nmetadata: {name: ml}\nspec:\n  rules:\n    - {kinds: [HardwarePool], names: [\"NAMES\"], verbs: [use]}\n"
    static let rackSpread = "---\napiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: rack-spread}\nspec: {failureDomain: rack}\n"

    static let referenceCases: [Case] = [
        Case("pool names an unknown site, close match",
             document("HardwarePool", "p2", spec: "  site: east-2\n"),
             [#"test.yaml:17:9: error: spec.site: Site "east-2" does not exist (declared: east-1); did you mean "east-1"?"#]),
        Case("pool names an unknown site, no close match",
             document("HardwarePool", "p2", spec: "  site: moon\n"),
             [#"test.yaml:17:9: error: spec.site: Site "moon" does not exist (declared: east-1)"#]),
        Case("storage tier and energy policy name an unknown site",
             tier("  usableTiB: 1\n  protection: {replicas: 2}\n").replacingOccurrences(of: "site: east-1\n  media", with: "site: west-1\n  media")
                + "---\napiVersion: dcapply/v1\nkind: EnergyPolicy\nmetadata: {name: e}\nspec: {site: wst-1}\n",
             [#"test.yaml:17:9: error: spec.site: Site "west-1" does not exist (declared: east-1); did you mean "east-1"?"#,
              #"test.yaml:25:14: error: spec.site: Site "wst-1" does not exist (declared: east-1); did you mean "east-1"?"#]),
        Case("workload names an unknown pool",
             workload("  pool: train-a100\n  replicas: 1\n  resources: {gpus: 1}\n"),
             [#"test.yaml:17:9: error: spec.pool: HardwarePool "train-a100" does not exist (declared: train-h100); did you mean "train-h100"?"#]),
        Case("tenant unknown, no policy at all",
             workload("  pool: train-h100\n  tenant: ml\n  replicas: 1\n  resources: {gpus: 1}\n"),
             [#"test.yaml:18:11: error: spec.tenant: AccessPolicy "ml" does not exist (none is declared)"#]),
        Case("tenant unknown, close match",
             workload("  pool: train-h100\n  tenant: ml-reserch\n  replicas: 1\n  resources: {gpus: 1}\n")
                + accessPolicy.replacingOccurrences(of: "{name: ml}", with: "{name: ml-research}").replacingOccurrences(of: "NAMES", with: "*"),
             [#"test.yaml:18:11: error: spec.tenant: AccessPolicy "ml-reserch" does not exist (declared: ml-research); did you mean "ml-research"?"#]),
        Case("tenant without use on the pool",
             workload("  pool: train-h100\n  tenant: ml\n  replicas: 1\n  resources: {gpus: 1}\n")
                + accessPolicy.replacingOccurrences(of: "NAMES", with: "infer-*"),
             [#"test.yaml:18:11: error: spec.tenant: tenant "ml" is not granted use on HardwarePool/train-h100: add a rule {kinds: [HardwarePool], names: [train-h100], verbs: [use]} to AccessPolicy/ml"#]),
        Case("tenant granted only manage on the pool",
             workload("  pool: train-h100\n  tenant: ml\n  replicas: 1\n  resources: {gpus: 1}\n")
                + accessPolicy.replacingOccurrences(of: "NAMES", with: "train-h100").replacingOccurrences(of: "verbs: [use]", with: "verbs: [manage]"),
             [#"test.yaml:18:11: error: spec.tenant: tenant "ml" is not granted use on HardwarePool/train-h100: add a rule {kinds: [HardwarePool], names: [train-h100], verbs: [use]} to AccessPolicy/ml"#]),
        Case("tenant granted use by the glob train-*",
             workload("  pool: train-h100\n  tenant: ml\n  replicas: 1\n  resources: {gpus: 1}\n")
                + accessPolicy.replacingOccurrences(of: "NAMES", with: "train-*"),
             []),
        Case("tenant granted use on all names (no names)",
             workload("  pool: train-h100\n  tenant: ml\n  replicas: 1\n  resources: {gpus: 1}\n")
                + accessPolicy.replacingOccurrences(of: "names: [\"NAMES\"], ", with: ""),
             []),
        Case("redundancy policy unknown",
             workload("  pool: train-h100\n  replicas: 1\n  resources: {gpus: 1}\n  redundancy: rack-sprad\n") + rackSpread,
             [#"test.yaml:20:15: error: spec.redundancy: RedundancyPolicy "rack-sprad" does not exist (declared: rack-spread); did you mean "rack-spread"?"#]),
        Case("policy failureDomain not in the Site's failureDomains",
             pool("  redundancy: leaf-spread\n") + rackSpread.replacingOccurrences(of: "rack-spread", with: "leaf-spread").replacingOccurrences(of: "failureDomain: rack", with: "failureDomain: leafSwitch"),
             [#"test.yaml:18:15: error: spec.redundancy: RedundancyPolicy "leaf-spread" spreads by "leafSwitch", which Site "east-1" does not list in failureDomains (room, row, rack)"#]),
        Case("two EnergyPolicies for one site",
             document("EnergyPolicy", "e1", spec: "  site: east-1\n  powerOffIdle: true\n")
                + "---\napiVersion: dcapply/v1\nkind: EnergyPolicy\nmetadata: {name: e2}\nspec: {site: east-1}\n",
             [#"test.yaml:23:14: error: spec.site: Site "east-1" already has EnergyPolicy/e1 (at test.yaml:15:11); a site takes one energy policy"#]),
        Case("spares on a workload's policy is a warning",
             workload("  pool: train-h100\n  replicas: 1\n  resources: {gpus: 1}\n  redundancy: rack-spread\n")
                + rackSpread.replacingOccurrences(of: "{failureDomain: rack}", with: "{failureDomain: rack, spares: 1}"),
             [#"test.yaml:20:15: warning: spec.redundancy: RedundancyPolicy "rack-spread" sets spares, which applies to pools only; ignored here"#]),
    ]

    @Test(arguments: referenceCases)
    func references(_ c: Case) {
        #expect(Self.descriptions(c.text) == c.expected)
    }

    @Test func referencesResolveAcrossFiles() {
        let site = SourceFile(path: "site.yaml", text: "apiVersion: dcapply/v1\nkind: Site\nmetadata: {name: east-1}\nspec: {failureDomains: [rack], provider: {local: {inventory: inventory.yaml}}}\n")
        let pool = SourceFile(path: "pools/train.yaml", text: "apiVersion: dcapply/v1\nkind: HardwarePool\nmetadata: {name: train-h100}\nspec: {site: east-1}\n")
        let work = SourceFile(path: "workloads/llama.yaml", text: "apiVersion: dcapply/v1\nkind: Workload\nmetadata: {name: llama}\nspec: {pool: train-h100, replicas: 2, resources: {gpus: 8}, priority: 100}\n")
        let (state, _, diagnostics) = ManifestParser().parse([work, pool, site])
        #expect(diagnostics.map(\.description) == [])
        #expect(state.workloads["llama"]?.priority == 100)
    }

    @Test func duplicateKindAndNameAcrossTwoFilesNamesBothLocations() throws {
        let first = try Self.fixture("bad/duplicate-a.yaml")
        let second = try Self.fixture("bad/duplicate-b.yaml")
        let (state, _, diagnostics) = ManifestParser().parse([first, second])
        #expect(diagnostics.map(\.description) == [
            "bad/duplicate-b.yaml:5:3: error: metadata.name: duplicate HardwarePool/train-h100: also declared at bad/duplicate-a.yaml:11:3",
        ])
        // The first declaration wins; the same name under another kind is no duplicate.
        #expect(state.pools["train-h100"]?.size == nil)
        #expect(state.workloads["train-h100"]?.pool == "train-h100")
    }

    @Test func duplicateInOneFileIsFoundEvenWhenTheSecondSpecIsInvalid() {
        let text = Self.preamble + "apiVersion: dcapply/v1\nkind: HardwarePool\nmetadata: {name: train-h100}\nspec: {site: east-1, size: {nodes: many}}\n"
        #expect(Self.descriptions(text) == [
            #"test.yaml:16:36: error: spec.size.nodes: expected a non-negative integer, got "many""#,
            "test.yaml:15:11: error: metadata.name: duplicate HardwarePool/train-h100: also declared at test.yaml:10:11",
        ])
    }

    /// An invalid document is still registered under its name: what refers to it gets no second
    /// "does not exist" error.
    @Test func referencesToAnInvalidDocumentAreNotReportedAgain() {
        let pool = Self.workload("  pool: p2\n  replicas: 1\n  resources: {gpus: 1}\n")
            + "---\napiVersion: dcapply/v1\nkind: HardwarePool\nmetadata: {name: p2}\nspec: {site: east-1, size: {nodes: many}}\n"
        #expect(Self.descriptions(pool) == [
            #"test.yaml:24:36: error: spec.size.nodes: expected a non-negative integer, got "many""#,
        ])
        let policy = Self.workload("  pool: train-h100\n  replicas: 1\n  resources: {gpus: 1}\n  redundancy: rs\n")
            + "---\napiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: rs}\nspec: {failureDomain: rack, maxPerDomain: 0}\n"
        #expect(Self.descriptions(policy) == [
            "test.yaml:25:43: error: spec.maxPerDomain: must be at least 1, got 0",
        ])
    }

    /// Selector and whole-number checks are reported alongside the schema's other errors.
    @Test func selectorAndWholeNumberChecksRunEvenWhenTheSchemaHasOtherErrors() {
        #expect(Self.descriptions(Self.pool("  size: {nodes: many}\n  nodeSelector:\n    matchExpressions:\n      - {key: rack, operator: In}\n")) == [
            #"test.yaml:18:17: error: spec.size.nodes: expected a non-negative integer, got "many""#,
            "test.yaml:21:9: error: spec.nodeSelector.matchExpressions[0].values: operator In needs at least one value",
        ])
        #expect(Self.descriptions(Self.workload("  pool: train-h100\n  replicas: two\n  resources: {gpus: 1.5}\n")) == [
            #"test.yaml:18:13: error: spec.replicas: expected a non-negative integer, got "two""#,
            "test.yaml:19:21: error: spec.resources.gpus: gpus is a count: expected a whole number, got 1.5",
        ])
    }

    // MARK: - All errors together

    @Test func allErrorsOfAFileAreReportedTogetherSortedByLine() throws {
        let source = try Self.fixture("bad/three-mistakes.yaml")
        let (_, _, diagnostics) = ManifestParser().parse([source])
        let expected = [
            #"bad/three-mistakes.yaml:6:9: error: spec.site: Site "east-2" does not exist (declared: east-1); did you mean "east-1"?"#,
            #"bad/three-mistakes.yaml:20:13: error: spec.replicas: expected a non-negative integer, got "two""#,
            #"bad/three-mistakes.yaml:22:3: error: spec.priorty: unknown field "priorty"; did you mean "priority"?"#,
        ]
        #expect(diagnostics.count == 3)
        #expect(Set(diagnostics.map(\.description)) == Set(expected))
        #expect(diagnostics.sortedForDisplay().map(\.description) == expected)
    }

    @Test func errorsInSeveralFilesAreAllReported() {
        let a = SourceFile(path: "a.yaml", text: "apiVersion: dcapply/v1\nkind: Workoad\nmetadata: {name: a}\nspec: {}\n")
        let b = SourceFile(path: "b.yaml", text: "apiVersion: dcapply/v1\nkind: Site\nmetadata: {name: s}\nspec: {failureDomains: [rack], provider: {local: {}}}\n")
        let c = SourceFile(path: "c.yaml", text: "apiVersion: dcapply/v1\nkind: Site\nmetadata: {name: t}\nspec: {failureDomains: [rack], provider: {exec: {command: [x]}}\n")
        let (_, _, diagnostics) = ManifestParser().parse([c, b, a])
        #expect(diagnostics.sortedForDisplay().map(\.description) == [
            #"a.yaml:2:7: error: kind: unknown kind "Workoad"; did you mean "Workload"?"#,
            "b.yaml:4:50: error: spec.provider.local.inventory: required field is missing (path of the inventory file, relative to this manifest)",
            "c.yaml:5:1: error: YAML syntax: did not find expected ',' or '}' while parsing a flow mapping",
        ])
    }

    // MARK: - Hostile input

    static let hostileCases: [Case] = [
        Case("unclosed bracket",
             "apiVersion: dcapply/v1\nkind: Site\nmetadata: {name: a}\nspec:\n  failureDomains: [rack, row\n  provider: {exec: {command: [x]}}\n",
             ["test.yaml:6:11: error: YAML syntax: did not find expected ',' or ']' while parsing a flow sequence"]),
        Case("bad indentation, deeper",
             "apiVersion: dcapply/v1\nkind: Site\nmetadata:\n  name: a\n   labels: {}\nspec: {}\n",
             ["test.yaml:5:10: error: YAML syntax: mapping values are not allowed in this context"]),
        Case("bad indentation, shallower",
             "apiVersion: dcapply/v1\nkind: Site\nmetadata:\n    name: a\n  labels: {}\nspec: {}\n",
             ["test.yaml:5:3: error: YAML syntax: did not find expected key while parsing a block mapping"]),
        Case("tab indentation",
             "apiVersion: dcapply/v1\nkind: Site\nmetadata:\n\tname: a\nspec: {}\n",
             ["test.yaml:4:1: error: YAML syntax: found character that cannot start any token while scanning for the next token"]),
        Case("undefined alias",
             "apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: a}\nspec: {failureDomain: *nope}\n",
             ["test.yaml:4:23: error: alias *nope refers to no anchor defined before it"]),
        Case("control character",
             "apiVersion: dcapply/v1\nkind: \u{07}Site\n",
             ["test.yaml:2:7: error: YAML syntax: control characters are not allowed (character 0x07)"]),
        // Nesting is refused at the 201st opening, flow or block (libyaml's own limit is raised
        // above its look-ahead so that ours always fires first).
        Case("10,000-deep flow nesting",
             String(repeating: "[", count: 10_000),
             ["test.yaml:1:201: error: nesting is deeper than 200 levels; no input file needs this"]),
        Case("10,000-deep closed flow nesting",
             String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000),
             ["test.yaml:1:201: error: nesting is deeper than 200 levels; no input file needs this"]),
        Case("300-deep flow nesting",
             String(repeating: "[", count: 300) + String(repeating: "]", count: 300),
             ["test.yaml:1:201: error: nesting is deeper than 200 levels; no input file needs this"]),
        Case("10,000-deep flow mappings",
             String(repeating: "{a: ", count: 10_000) + "1" + String(repeating: "}", count: 10_000),
             ["test.yaml:1:801: error: nesting is deeper than 200 levels; no input file needs this"]),
        Case("1,000-deep block mappings",
             (0..<1_000).map { String(repeating: " ", count: $0) + "k\($0):\n" }.joined(),
             ["test.yaml:201:201: error: nesting is deeper than 200 levels; no input file needs this"]),
        Case("5,000-deep block sequences",
             (0..<5_000).map { String(repeating: " ", count: $0) + "-\n" }.joined(),
             ["test.yaml:201:201: error: nesting is deeper than 200 levels; no input file needs this"]),
        Case("nesting within the limit is parsed",
             (0..<150).map { String(repeating: " ", count: $0) + "k:\n" }.joined(),
             ["test.yaml:1:1: error: kind: required field is missing (one of Site, RedundancyPolicy, HardwarePool, Workload, StorageTier, AccessPolicy, EnergyPolicy)"]),
        Case("duplicate keys in one mapping",
             "apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: a}\nspec:\n  failureDomain: rack\n  failureDomain: row\n",
             [#"test.yaml:6:3: error: spec.failureDomain: duplicate key "failureDomain"; first at line 5, column 3"#]),
        Case("empty file", "", []),
        Case("only comments and separators", "# nothing here\n---\n---\n...\n", []),
    ]

    @Test(arguments: hostileCases)
    func hostileInput(_ c: Case) {
        let (state, _, diagnostics) = Self.parse(c.text)
        #expect(diagnostics.map(\.description) == c.expected)
        if c.expected.isEmpty {
            #expect(state.sites.isEmpty && state.pools.isEmpty && state.workloads.isEmpty && state.storageTiers.isEmpty
                    && state.redundancyPolicies.isEmpty && state.accessPolicies.isEmpty && state.energyPolicies.isEmpty)
        }
    }

    /// A duplicate key is reported at the repeated key, and the rest of the file is still read.
    @Test func aDuplicateKeyDoesNotStopTheRestOfTheFile() {
        let text = "apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: a}\nspec:\n  failureDomain: rack\n  failureDomain: row\n  maxPerDomain: 0\n"
            + "---\napiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: b}\nspec: {failureDomain: rack, minDomains: 0}\n"
        let (state, _, diagnostics) = Self.parse(text)
        #expect(diagnostics.map(\.description) == [
            #"test.yaml:6:3: error: spec.failureDomain: duplicate key "failureDomain"; first at line 5, column 3"#,
            "test.yaml:7:17: error: spec.maxPerDomain: must be at least 1, got 0",
            "test.yaml:12:41: error: spec.minDomains: must be at least 1, got 0",
        ])
        #expect(state.redundancyPolicies["a"]?.failureDomain == "rack", "the first value is kept")
    }

    /// A document is located at its root node, not at the `---` before it.
    @Test func aDocumentIsLocatedAtItsRootNode() {
        let text = "apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: a}\nspec: {failureDomain: rack}\n---\n\n# a comment\n42\n"
        #expect(Self.descriptions(text) == [
            #"test.yaml:8:1: error: a manifest must be a mapping with apiVersion, kind, metadata and spec, got "42""#,
        ])
    }

    @Test func documentsBeforeASyntaxErrorAreStillChecked() {
        let text = "apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: a}\nspec: {failureDomain: rack, maxPerDomain: 0}\n---\nkey: [unclosed\n"
        #expect(Self.descriptions(text) == [
            "test.yaml:7:1: error: YAML syntax: did not find expected ',' or ']' while parsing a flow sequence",
            "test.yaml:4:43: error: spec.maxPerDomain: must be at least 1, got 0",
        ])
    }

    /// A deterministic stream of bytes (xorshift), so the expected diagnostic is stable.
    static func junk(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return UInt8(truncatingIfNeeded: state >> 32)
        }
    }

    static let binaryCases: [(String, [UInt8], String)] = [
        ("invalid UTF-8 after text", Array("apiVersion: dcapply/v1\n".utf8) + [0x6B, 0xFF, 0xFE, 0x00],
         "junk.bin:2:2: error: not UTF-8 text: invalid byte 0xFF at offset 24 (is this a binary file?)"),
        ("NUL in otherwise valid text", Array("apiVersion: dcapply/v1\nki".utf8) + [0x00, 0x6E, 0x64],
         "junk.bin:2:3: error: not text: NUL byte at offset 25 (is this a binary file?)"),
        ("lone continuation byte first", [0x80, 0x41, 0x42],
         "junk.bin:1:1: error: not UTF-8 text: invalid byte 0x80 at offset 0 (is this a binary file?)"),
        ("truncated multi-byte sequence at the end", Array("name: caf".utf8) + [0xC3],
         "junk.bin:1:10: error: not UTF-8 text: invalid byte 0xC3 at offset 9 (is this a binary file?)"),
        ("UTF-16 surrogate encoded in UTF-8", [0x61, 0xED, 0xA0, 0x80],
         "junk.bin:1:2: error: not UTF-8 text: invalid byte 0xED at offset 1 (is this a binary file?)"),
    ]

    @Test(arguments: 0..<binaryCases.count)
    func binaryJunkIsRefusedWithItsPosition(_ index: Int) {
        let (_, bytes, expected) = Self.binaryCases[index]
        switch SourceReader.decode(Data(bytes), displayPath: "junk.bin") {
        case .success(let source): Issue.record("decoded binary input as text: \(source.text.prefix(40))")
        case .failure(let diagnostic): #expect(diagnostic.description == expected)
        }
    }

    @Test(arguments: [1, 2, 3, 42, 1_000])
    func randomBytesNeverCrashAndYieldAnError(_ seed: UInt64) {
        var bytes = Self.junk(count: 4_096, seed: seed)
        bytes[100] = 0  // at least one NUL
        switch SourceReader.decode(Data(bytes), displayPath: "junk.bin") {
        case .success(let source):
            // Valid UTF-8 by chance: the YAML layer must still refuse it without crashing.
            #expect(Self.parse(source.text, path: "junk.bin").diagnostics.hasErrors)
        case .failure(let diagnostic):
            #expect(diagnostic.severity == .error)
            #expect(diagnostic.location?.file == "junk.bin")
            #expect(diagnostic.message.hasSuffix("(is this a binary file?)"))
        }
        // Whatever survives as text (invalid bytes dropped) must not crash the parser either.
        let printable = String(decoding: bytes.filter { $0 != 0 }, as: UTF8.self)
        _ = Self.parse(printable, path: "junk.bin")
    }

    @Test func byteOrderMarkIsDropped() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: a}\nspec: {failureDomain: rack}\n".utf8)
        let source = try SourceReader.decode(Data(bytes), displayPath: "bom.yaml").get()
        let (state, _, diagnostics) = ManifestParser().parse([source])
        #expect(diagnostics.isEmpty)
        #expect(state.redundancyPolicies["a"] != nil)
    }

    /// "Billion laughs": 9 levels of 10 aliases. The composer counts what aliases expand to and
    /// refuses the document at the alias that crosses the budget, whatever the schema says about
    /// that place; the next document is still checked.
    @Test func aliasBombInAValueIsRefusedWhileComposing() {
        var text = "apiVersion: dcapply/v1\nkind: AccessPolicy\nmetadata: {name: bomb}\nspec:\n  rules:\n    - kinds: [Workload]\n      verbs: [use]\n      names: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        text += "  members:\n"
        for level in 1...9 {
            text += "    - user: u\(level)\n      keys: &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        text += "    - user: everyone\n      keys: *a9\n"
        text += "---\napiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: a}\nspec: {failureDomain: rack, maxPerDomain: 0}\n"
        let (state, _, diagnostics) = Self.parse(text)
        // &a5 stands for 1,111,111 values: the first *a5 (line 21, inside &a6) crosses 2,000,000.
        #expect(diagnostics.map(\.description) == [
            "test.yaml:21:18: error: aliases expand this document past 2000000 values; no input file needs this",
            "test.yaml:34:43: error: spec.maxPerDomain: must be at least 1, got 0",
        ])
        #expect(state.accessPolicies.isEmpty)
    }

    /// Aliases that fan out wide (no deep chain) hit the same budget: each *m stands for 1,505
    /// values, and the 1,328th (line 1334) takes the document past 2,000,000.
    @Test func aliasFanOutReportsTheSizeLimit() {
        var text = "apiVersion: dcapply/v1\nkind: AccessPolicy\nmetadata: {name: wide}\nspec:\n  members:\n"
        text += "    - &m {user: x, keys: [" + Array(repeating: "k", count: 1_500).joined(separator: ", ") + "]}\n"
        text += String(repeating: "    - *m\n", count: 1_500)
        let diagnostics = Self.parse(text).diagnostics
        #expect(diagnostics.map(\.description) == [
            "test.yaml:1334:7: error: aliases expand this document past 2000000 values; no input file needs this",
        ])
    }

    /// An alias bomb used as a mapping KEY: once hung (the old composer hashed keys, expanding
    /// 10^9 scalars). The composer now counts alias expansion and refuses it.
    @Test func aliasBombAsAMappingKeyIsRefused() {
        var text = "apiVersion: dcapply/v1\nkind: AccessPolicy\nmetadata: {name: bomb}\nspec:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            text += "  a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        text += "  ? *a9\n  : 1\n  ? other\n  : 2\n"
        let diagnostics = Self.parse(text).diagnostics
        #expect(diagnostics.map(\.description) == ["test.yaml:11:12: error: aliases expand this document past 2000000 values; no input file needs this"])
    }

    @Test func oneMegabyteScalarIsFine() throws {
        let blob = String(repeating: "x", count: 1 << 20)
        let text = "apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata:\n  name: a\n  annotations:\n    blob: \(blob)\nspec: {failureDomain: rack}\n"
        let (state, _, diagnostics) = Self.parse(text)
        #expect(diagnostics.isEmpty)
        #expect(state.redundancyPolicies["a"]?.metadata.annotations["blob"]?.utf8.count == 1 << 20)
    }

    @Test func oneMegabyteScalarInAFieldIsReportedShortened() {
        let blob = String(repeating: "Z", count: 1 << 20)
        let text = "apiVersion: dcapply/v1\nkind: RedundancyPolicy\nmetadata: {name: a}\nspec: {failureDomain: \(blob)}\n"
        #expect(Self.descriptions(text) == [
            #"test.yaml:4:23: error: spec.failureDomain: expected a label key: letters, digits, '-', '_', '.', '/', at most 253 characters, got "\#(String(repeating: "Z", count: 57))...""#,
        ])
    }
}
