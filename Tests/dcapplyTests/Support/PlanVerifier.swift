import Foundation
import Yams

/// An independent oracle for `dcapply plan --output json`.
///
/// It never uses the solver's code: it reads the manifests and the local inventory itself, reads
/// the JSON plan, and recomputes every hard constraint of the manifest contract from scratch.
/// Everything it needs is nested in this type so that nothing here shadows a name that
/// DCApplyCore exports to the other tests of this target.
struct PlanVerifier {
    /// The manifests or the plan could not be read at all (not a constraint violation).
    struct ReadError: Error, CustomStringConvertible {
        let description: String
    }

    /// Returns one human-readable sentence per violated hard constraint; empty when all hold.
    ///
    /// - Parameters:
    ///   - healthOverrides: node name -> `healthy`, `degraded` or `failed`, as set with
    ///     `dcapply inventory set`; they win over the inventory file.
    ///   - assumeNothingApplied: the plan was made on an empty state store, so a degraded node
    ///     has nothing to keep and must take nothing (no pool, replica or drive).
    static func violations(
        manifestsDirectory: URL,
        planJSON: Data,
        healthOverrides: [String: String] = [:],
        assumeNothingApplied: Bool = false
    ) throws -> [String] {
        let site = try Manifests.load(from: manifestsDirectory, healthOverrides: healthOverrides)
        let plan = try Plan(json: planJSON)
        var checker = Checker(manifests: site, plan: plan, assumeNothingApplied: assumeNothingApplied)
        checker.run()
        return checker.violations
    }

    // MARK: - Desired state, parsed minimally

    /// A Kubernetes-style label selector.
    struct LabelSelector {
        struct Requirement {
            let key: String
            let operator_: String
            let values: [String]
        }

        var matchLabels: [String: String] = [:]
        var requirements: [Requirement] = []

        func matches(_ labels: [String: String]) -> Bool {
            for (key, value) in matchLabels where labels[key] != value {
                return false
            }
            for requirement in requirements {
                let value = labels[requirement.key]
                switch requirement.operator_ {
                case "In":
                    guard let value, requirement.values.contains(value) else { return false }
                case "NotIn":
                    if let value, requirement.values.contains(value) { return false }
                case "Exists":
                    if value == nil { return false }
                case "DoesNotExist":
                    if value != nil { return false }
                case "Gt", "Lt":
                    guard let value, let have = Int(value),
                          let boundText = requirement.values.first, let bound = Int(boundText)
                    else { return false }
                    if requirement.operator_ == "Gt" ? !(have > bound) : !(have < bound) { return false }
                default:
                    return false
                }
            }
            return true
        }
    }

    struct Site {
        let name: String
        let failureDomains: [String]
        let inventoryFile: URL
    }

    struct RedundancyPolicy {
        let name: String
        let failureDomain: String
        let maxPerDomain: Int?
        let minDomains: Int?
        let spares: Int
    }

    struct HardwarePool {
        let name: String
        let site: String
        let selector: LabelSelector
        let gpuModel: String?
        let minGpuMemoryGiB: Double?
        let sizeNodes: Int?
        let sizeGpus: Int?
        let redundancy: String?
    }

    struct Workload {
        let name: String
        let pool: String
        let tenant: String?
        let replicas: Int
        let resources: [String: Double]
        let redundancy: String?
        let colocate: String?
    }

    struct StorageTier {
        let name: String
        let site: String
        let media: String
        let usableTiB: Double
        /// `k` and `w` of the protection rule: replicas r -> (1, r); erasure k+m -> (k, k+m).
        let dataChunks: Int
        let stripeWidth: Int
        let redundancy: String?
        let encryptionRequired: Bool
        let selector: LabelSelector
    }

    /// One rule of an AccessPolicy: which verbs on which kinds and names (globs; none = all).
    struct AccessRule {
        let kinds: [String]
        let names: [String]
        let verbs: [String]

        func grants(_ verb: String, kind: String, name: String) -> Bool {
            verbs.contains(verb) && (kinds.isEmpty || kinds.contains(kind))
                && (names.isEmpty || names.contains { Glob.matches($0, name) })
        }
    }

    /// `*` (any run) and `?` (any one character) globs, as in AccessPolicy names.
    enum Glob {
        static func matches(_ pattern: String, _ text: String) -> Bool {
            matches(Array(pattern), 0, Array(text), 0)
        }

        private static func matches(
            _ pattern: [Character], _ patternIndex: Int, _ text: [Character], _ textIndex: Int
        ) -> Bool {
            guard patternIndex < pattern.count else { return textIndex == text.count }
            let next = patternIndex + 1
            switch pattern[patternIndex] {
            case "*":
                return (textIndex...text.count).contains { matches(pattern, next, text, $0) }
            case "?":
                return textIndex < text.count && matches(pattern, next, text, textIndex + 1)
            default:
                return textIndex < text.count && pattern[patternIndex] == text[textIndex]
                    && matches(pattern, next, text, textIndex + 1)
            }
        }
    }

    struct EnergyPolicy {
        let name: String
        let site: String
        let rackPowerCapKW: Double?
        let rackCapsKW: [String: Double]
        let powerOffIdle: Bool
        let keepWarm: Int
    }

    struct Drive {
        let id: String
        let media: String
        let capacityTiB: Double
        let selfEncrypting: Bool
    }

    struct InventoryNode {
        let name: String
        let site: String
        let labels: [String: String]
        let gpuModel: String?
        let gpuMemoryGiB: Double?
        /// Includes `gpus` (from `gpus.count` when the capacity map does not say).
        let capacity: [String: Double]
        let drives: [Drive]
        let idleW: Double
        let maxW: Double
        let health: String

        var gpus: Double { capacity["gpus"] ?? 0 }
    }

    /// Everything the checker needs from the manifests and the inventory.
    struct Manifests {
        var sites: [String: Site] = [:]
        var policies: [String: RedundancyPolicy] = [:]
        var pools: [String: HardwarePool] = [:]
        var workloads: [String: Workload] = [:]
        var tiers: [String: StorageTier] = [:]
        var energyPolicies: [EnergyPolicy] = []
        /// AccessPolicy name -> its rules.
        var accessPolicies: [String: [AccessRule]] = [:]
        var nodes: [String: InventoryNode] = [:]
    }

    // MARK: - The plan, as printed

    struct PlanNode {
        let pool: String?
        let powerState: String
        let estimatedW: Double?
    }

    struct PlanReplica {
        let index: Int
        let nodes: [String]
    }

    struct PlanWorkload {
        let replicas: [PlanReplica]
        let unplaced: Int
    }

    struct PlanTier {
        let drives: [String]
        let rawTiB: Double
        let satisfied: Bool
    }

    struct PlanProblem {
        let severity: String
        let resource: String
        let message: String
    }

    struct Plan {
        var nodes: [String: PlanNode] = [:]
        var workloads: [String: PlanWorkload] = [:]
        var tiers: [String: PlanTier] = [:]
        var problems: [PlanProblem] = []
        var plannedW: Double?
        /// Fields missing or of the wrong type; reported as violations.
        var shapeErrors: [String] = []
    }
}
