/// Whether a plan saved earlier (`plan --out`) may still be applied: it is bound to the
/// manifests, the observed hardware and the state serial it was made from. Pure.
public enum SavedPlanCheck {
    /// Why `saved` may no longer be applied, given the plan made now (`fresh`) and what the
    /// store holds; nil when it still fits.
    public static func staleness(_ saved: Plan, fresh: Plan, stored: StoredState) -> String? {
        var reasons: [String] = []
        if saved.manifestDigest != fresh.manifestDigest {
            reasons.append("the manifests changed (digest \(saved.manifestDigest.prefix(12)) when planned, \(fresh.manifestDigest.prefix(12)) now)")
        }
        if saved.observedDigest.isEmpty || saved.observedDigest != fresh.observedDigest {
            reasons.append("the observed hardware changed (inventory, health or power)")
        }
        if saved.stateSerial != stored.serial {
            reasons.append("the state changed (serial \(saved.stateSerial) when planned, \(stored.serial) now: another apply ran)")
        }
        return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
    }
}

/// An apply session refused the saved plan it was given: the manifests, the hardware or the
/// state changed since it was made. The shell words the remedy (make a new plan).
public struct StaleSavedPlan: Error, Sendable, CustomStringConvertible {
    /// What changed, as `SavedPlanCheck.staleness` says it.
    public var reasons: String

    public var description: String { "the saved plan no longer fits: \(reasons)" }
}
