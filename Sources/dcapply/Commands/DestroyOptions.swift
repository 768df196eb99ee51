import ArgumentParser
import DCApplyCore
import Foundation

/// The blast-radius guard of apply and serve: a plan that takes away more than a share of what
/// is applied is refused unless allowed (see `BlastRadius`).
struct DestroyOptions: ParsableArguments {
    @Flag(help: "Apply a plan even when it takes away more than --destroy-threshold of what is applied.")
    var allowDestroy = false

    @Option(help: ArgumentHelp(
        "The share of any one kind of thing applied (pool members, replicas, drives, powered nodes) a plan may take away before it is refused, such as 50% or 0.5.",
        valueName: "share"))
    var destroyThreshold = "50%"

    /// The threshold as a fraction, 0.5 for 50%.
    var threshold: Double? {
        let text = destroyThreshold.trimmingCharacters(in: .whitespaces)
        if text.hasSuffix("%") { return Double(text.dropLast()).map { $0 / 100 }.flatMap { (0...1).contains($0) ? $0 : nil } }
        return Double(text).flatMap { (0...1).contains($0) ? $0 : nil }
    }

    func validate() throws {
        if threshold == nil {
            throw ValidationError("--destroy-threshold takes a share from 0% to 100% (or 0 to 1), got \"\(destroyThreshold)\".")
        }
    }

    /// Throws the refusal when `plan` takes away too much of `applied` and destroying is not allowed.
    func check(_ plan: Plan, applied: TargetState, desired: DesiredState, flag: String) throws {
        guard !allowDestroy, let threshold else { return }
        let radius = BlastRadius(applied: applied, target: plan.target)
        guard radius.exceeds(threshold) else { return }
        throw DCApplyError(.invalidInput, BlastRadius.refusal(radius, threshold: threshold,
                                                              missing: BlastRadius.missingManifests(applied: applied, desired: desired), flag: flag))
    }
}
