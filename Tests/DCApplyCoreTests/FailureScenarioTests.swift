@testable import DCApplyCore
import Foundation
import Logging
import Testing

/// `what-if`: failures read from `key=value`, applied to a copy of the observed state, and the
/// promises judged on the plan after the loss.
struct FailureScenarioTests {
    /// Two racks of two nodes: g-r01-n01, g-r01-n02 (leaf1), g-r02-n01, g-r02-n02 (leaf2).
    static let observed = TestSite(manifests: TestSite.manifests(""), inventory: TestSite.gpuInventory(racks: 2, perRack: 2)).observed

    @Test(arguments: [
        ("rack=r07", FailureScenario.Target.label(key: "rack", value: "r07")),
        ("node=gpu-r01-n01", .node("gpu-r01-n01")),
        ("leafSwitch=leaf-a1", .label(key: "leafSwitch", value: "leaf-a1")),
        ("topology.example.com/row=2", .label(key: "topology.example.com/row", value: "2")),
        (" room = A ", .label(key: "room", value: "A")),
    ])
    func parsesNodeOrAnyLabelKey(text: String, target: FailureScenario.Target) throws {
        let scenario = try FailureScenario(parsing: text)
        #expect(scenario.target == target)
        #expect(scenario.description == text.replacingOccurrences(of: " ", with: ""))
    }

    @Test(arguments: [
        ("r07", #"cannot read the failure "r07": expected key=value, such as rack=r07 or node=gpu-r01-n01"#),
        ("=r07", #"cannot read the failure "=r07": the key before '=' is empty; use node=NAME or a label key such as rack=r07"#),
        ("rack=", #"cannot read the failure "rack=": the value after '=' is empty, as in rack=VALUE"#),
        ("my rack=r07", #"cannot read the failure "my rack=r07": "my rack" is not a label key (letters, digits and -_./, starting and ending with a letter or digit)"#),
    ])
    func refusesTextThatIsNotKeyEqualsValue(text: String, message: String) {
        #expect { try FailureScenario(parsing: text) } throws: { error in
            (error as? DCApplyError)?.message == message && (error as? DCApplyError)?.code == .usage
        }
    }

    @Test func anUnknownRackNamesTheRacksThatExistAndTheClosest() throws {
        let scenario = try FailureScenario(parsing: "rack=r03")
        #expect { try scenario.nodes(in: Self.observed) } throws: { error in
            (error as? DCApplyError)?.message == #"no node has rack=r03 (rack values: r01, r02); did you mean "rack=r01"?"#
        }
    }

    @Test func anUnknownLabelKeyNamesTheKeysThatExist() throws {
        let scenario = try FailureScenario(parsing: "rak=r01")
        #expect { try scenario.nodes(in: Self.observed) } throws: { error in
            (error as? DCApplyError)?.message == #"no node has the label "rak" (labels on nodes: leaf, rack); did you mean "rack"?"#
        }
    }

    @Test func anUnknownNodeSuggestsTheClosestName() throws {
        let scenario = try FailureScenario(parsing: "node=g-r01-n1")
        #expect { try scenario.nodes(in: Self.observed) } throws: { error in
            (error as? DCApplyError)?.message == #"no node "g-r01-n1" in the inventory; did you mean "g-r01-n01"?"#
        }
    }

    @Test func nodeFailsExactlyThatNode() throws {
        let scenario = try FailureScenario(parsing: "node=g-r02-n01")
        #expect(try scenario.nodes(in: Self.observed) == ["g-r02-n01"])
        let after = scenario.apply(to: Self.observed)
        #expect(after.sortedNodes.filter { $0.health == .failed }.map(\.name) == ["g-r02-n01"])
    }

    @Test func aLabelFailsEveryNodeCarryingItAndLeavesTheInputAlone() throws {
        let scenario = try FailureScenario(parsing: "leaf=leaf1")
        #expect(try scenario.nodes(in: Self.observed) == ["g-r01-n01", "g-r01-n02"])
        let after = scenario.apply(to: Self.observed)
        #expect(after.sortedNodes.filter { $0.health == .failed }.map(\.name) == ["g-r01-n01", "g-r01-n02"])
        #expect(Self.observed.nodes.values.allSatisfy { $0.health == .healthy }, "apply works on a copy")
    }

    @Test func severalScenariosFailTheUnionOfTheirNodes() throws {
        let scenarios = try ["rack=r01", "node=g-r02-n02", "node=g-r01-n01"].map(FailureScenario.init(parsing:))
        let after = FailureScenario.apply(scenarios, to: Self.observed)
        #expect(after.sortedNodes.filter { $0.health == .failed }.map(\.name) == ["g-r01-n01", "g-r01-n02", "g-r02-n02"])
    }

    // MARK: Reconciler.whatIf

    /// Three racks of two nodes; a pool of 2 and a workload of 2 replicas, one per rack.
    static func spreadSite() -> TestSite {
        TestSite(manifests: TestSite.manifests("""
            apiVersion: dcapply/v1
            kind: RedundancyPolicy
            metadata: {name: one-per-rack}
            spec: {failureDomain: rack, maxPerDomain: 1, minDomains: 2}
            ---
            apiVersion: dcapply/v1
            kind: HardwarePool
            metadata: {name: p}
            spec: {site: s1, size: {nodes: 2}, redundancy: one-per-rack}
            ---
            apiVersion: dcapply/v1
            kind: Workload
            metadata: {name: w}
            spec: {pool: p, replicas: 2, resources: {gpus: 8, cpuCores: 8}, redundancy: one-per-rack}
            """), inventory: TestSite.gpuInventory(racks: 3, perRack: 2))
    }

    /// A reconciler over an in-memory store holding the site's first plan as applied.
    static func appliedReconciler(_ site: TestSite) throws -> (Reconciler, LoadedSite) {
        let store = InMemoryStateStore()
        let reconciler = Reconciler(store: store, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let loaded = LoadedSite(desired: site.desired, observed: site.observed, diagnostics: [])
        let plan = try reconciler.plan(loaded)
        let record = ApplyRecord(startedAt: Date(timeIntervalSince1970: 0), finishedAt: Date(timeIntervalSince1970: 0), user: "t", host: "h",
                                 revision: nil, manifestDigest: plan.manifestDigest, planDigest: "", summary: plan.summary, changeCount: plan.changes.count)
        _ = try store.commitApply(target: plan.target, estimatedW: plan.targetDrawW, powerStates: [:], record: record, expectedSerial: 0)
        return (reconciler, loaded)
    }

    @Test func aRackLossWithRoomElsewhereKeepsEveryPromiseAndWritesNothing() throws {
        let (reconciler, site) = try Self.appliedReconciler(Self.spreadSite())
        let before = try reconciler.store.load()
        let member = before.target.nodes.filter { $0.value.pool == "p" }.keys.sorted()[0]
        let rack = site.observed.nodes[member]?.labels["rack"] ?? ""

        let report = try reconciler.whatIf(site, failing: [FailureScenario(.label(key: "rack", value: rack))])

        #expect(report.lostNodes == site.observed.sortedNodes.filter { $0.labels["rack"] == rack }.map(\.name))
        #expect(report.promises.map(\.resource) == [ResourceAddress(.hardwarePool, "p"), ResourceAddress(.workload, "w")])
        #expect(report.promises.map(\.message) == ["still meets RedundancyPolicy/one-per-rack", "still meets RedundancyPolicy/one-per-rack"])
        #expect(report.holds)
        #expect(report.plan.changes.contains { $0.action == .unassign && $0.resource == .node(member) })
        #expect(try reconciler.store.load() == before, "what-if writes nothing")
        #expect(try reconciler.store.overrides().isEmpty)
        #expect(try reconciler.store.history().count == 1)
    }

    @Test func losingTwoOfThreeRacksBreaksTheSpreadPromises() throws {
        let (reconciler, site) = try Self.appliedReconciler(Self.spreadSite())
        let report = try reconciler.whatIf(site, failing: [FailureScenario(.label(key: "rack", value: "r01")),
                                                           FailureScenario(.label(key: "rack", value: "r02"))])
        #expect(report.lostNodes == ["g-r01-n01", "g-r01-n02", "g-r02-n01", "g-r02-n02"])
        #expect(!report.holds)
        #expect(report.broken.map(\.resource) == [ResourceAddress(.hardwarePool, "p"), ResourceAddress(.workload, "w")])
        for promise in report.broken {
            let errors = report.plan.problems.filter { $0.resource == promise.resource && $0.severity == .error }.sorted().map(\.message)
            #expect(promise.reasons == errors, "a broken promise quotes the plan's problems on it")
        }
    }

    @Test func aStorageTierIsAPromiseEvenWithoutAPolicy() throws {
        let site = TestSite(manifests: TestSite.manifests("""
            apiVersion: dcapply/v1
            kind: StorageTier
            metadata: {name: t}
            spec: {site: s1, media: nvme, usableTiB: 1, protection: {replicas: 2}}
            """), inventory: TestSite.gpuInventory(racks: 3, perRack: 1, drives: "[{id: nvme0, media: nvme, capacityTiB: 2, selfEncrypting: false}]"))
        let (reconciler, loaded) = try Self.appliedReconciler(site)
        let one = try reconciler.whatIf(loaded, failing: [FailureScenario(.node("g-r01-n01"))])
        #expect(one.promises.map(\.resource) == [ResourceAddress(.storageTier, "t")])
        #expect(one.promises.map(\.message) == ["still meets its protection (2 replicas)"], "a third rack takes the lost copy")
        let two = try reconciler.whatIf(loaded, failing: [FailureScenario(.label(key: "rack", value: "r01")), FailureScenario(.label(key: "rack", value: "r02"))])
        #expect(!two.holds, "one rack cannot hold two copies")
        #expect(two.plan.target.storageTiers["t"]?.satisfied == false)
    }

    @Test func whatIfWithoutAFailureIsAUsageError() throws {
        let (reconciler, site) = try Self.appliedReconciler(Self.spreadSite())
        #expect { try reconciler.whatIf(site, failing: []) } throws: { ($0 as? DCApplyError)?.code == .usage }
    }
}
