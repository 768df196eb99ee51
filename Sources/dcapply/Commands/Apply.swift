import ArgumentParser
import DCApplyCore
import Foundation
import Synchronization

struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Plan and apply (the default: `dcapply PATH` is `dcapply apply PATH`).",
        discussion: """
            Shows the plan first. On a terminal it asks before changing anything; --yes skips the
            question; without a terminal and without --yes it changes nothing and exits 1.
            --plan FILE applies a plan saved by `dcapply plan --out FILE` without asking, and is
            refused (exit 1) when the manifests, the observed hardware or the state changed since.

            Apply runs the plan as a graph (power on before placing, free a node before it leaves
            its pool or powers off, a moved replica starts on its new node before it stops on the
            old), at most --parallelism actions at once, and in waves where a RedundancyPolicy's
            maxUnavailable bounds how many members of a target are disrupted at once. Transient
            provider errors are retried with backoff; a failed action skips only what depends on it.
            Every action is journalled in the state store before and after it runs: if dcapply dies
            mid-apply, the next `dcapply apply` finishes the same plan without repeating what was
            done (or, if the manifests changed meanwhile, records what was done and plans afresh).

            Exit 0 when everything was applied; 1 when an action failed or part of the demand
            cannot be placed (what was done is recorded); 3 when another apply holds the state lock.
            """)

    @OptionGroup var manifests: ManifestPaths
    @OptionGroup var options: CommonOptions
    @OptionGroup var solver: SolverOptions
    @OptionGroup var destroy: DestroyOptions

    @Flag(name: [.short, .long], help: "Apply without asking.")
    var yes = false

    @Option(name: .customLong("plan"), help: ArgumentHelp("Apply this saved plan (from `dcapply plan --out FILE`) instead of planning again.", valueName: "FILE"))
    var savedPlan: String?

    @Option(help: "Actions carried out at once, at most.")
    var parallelism = 8

    func validate() throws {
        guard parallelism >= 1 else { throw ValidationError("--parallelism must be at least 1") }
    }

    func run() async throws {
        try await runReportingErrors(options) {
            let pipeline = try Pipeline(options: options, solver: solver)
            let applyOptions = ApplyOptions(parallelism: parallelism, failpoints: try Failpoints.fromEnvironment())
            let session = ApplySession(
                options: applyOptions, savedPlan: savedPlan.map { path in { try SavedPlan.read(path) } },
                load: { try await pipeline.load(manifests.paths) },
                plan: { try pipeline.plan($0) },
                recoveryEvents: progressReporter(total: nil),
                recovered: { recovery in
                    options.console.endProgress()
                    let o = recovery.outcome
                    let when = ISO8601DateFormatter().string(from: recovery.startedAt)
                    if recovery.resumed {
                        options.console.info("Resumed the apply interrupted on \(recovery.host) (started \(when)): \(o.done) actions done in all, \(o.failed.count) failed, \(o.skipped.count) skipped; state serial \(o.stored.serial).")
                    } else {
                        options.console.info("Closed the apply interrupted on \(recovery.host) (started \(when)): the manifests or nodes changed since, so what it did (\(o.done) actions) is recorded and a new plan follows.")
                    }
                    report(o.failed)
                },
                review: { plan, site in try review(plan, site: site, pipeline: pipeline) },
                events: { progressReporter(total: $0.changes.count) })
            let result: ApplySession.Result
            do {
                // One apply at a time per state store, from before planning to the end.
                result = try await pipeline.reconciler.applySession(session)
            } catch let stale as StaleSavedPlan {
                throw DCApplyError(.invalidInput, "refused to apply the saved plan \(savedPlan ?? ""): \(stale.reasons). Make a new plan with `dcapply plan --out`.")
            }
            guard case .applied(let plan, _, let outcome) = result else { return }
            options.console.endProgress()
            report(outcome.failed)
            let waves = plan.waves > 1 ? " in \(plan.waves) waves" : ""
            let changes = "\(outcome.done) change\(outcome.done == 1 ? "" : "s")"
            if outcome.succeeded && plan.hasErrors {
                // One final error line: what was applied, and what is not and why.
                options.console.error("applied \(changes)\(waves) (state serial \(outcome.stored.serial)), but not all of the manifests: \(Pipeline.problemSentence(plan))")
                throw ExitCode(1)
            } else if outcome.succeeded {
                options.console.info("Applied \(changes)\(waves); state serial \(outcome.stored.serial).")
            } else {
                options.console.error("apply incomplete: \(outcome.done) done, \(outcome.failed.count) failed, \(outcome.skipped.count) skipped (they depend on a failed action). What was done is recorded (state serial \(outcome.stored.serial)); run apply again to retry the rest.")
                throw ExitCode(1)
            }
        }
    }

    /// Shows the plan and decides whether it is applied: nothing to do, refused for its blast
    /// radius, or confirmed (asked on a terminal unless --yes or a saved plan).
    private func review(_ plan: Plan, site: LoadedSite, pipeline: Pipeline) throws -> Bool {
        let store = pipeline.reconciler.store
        Output.print(pipeline.render(plan, site: site, command: applyCommand))
        guard !plan.isEmpty else {
            if options.output == .text { options.console.info("Nothing to apply.") }
            if plan.hasErrors {
                options.console.error("nothing applied: \(Pipeline.problemSentence(plan))")
                throw ExitCode(1)
            }
            return false
        }
        try destroy.check(plan, applied: try store.load().target, desired: site.desired,
                          flag: "Nothing was changed; check the path, or pass --allow-destroy to apply it anyway.")
        if !yes && savedPlan == nil {
            guard isatty(STDIN_FILENO) == 1 else {
                options.console.error("not applied: there is no terminal to confirm on. Pass --yes to apply without asking.")
                throw ExitCode(1)
            }
            try confirm(plan, store: store)
        }
        return true
    }

    /// The command that applies the plan shown, for the markdown footer.
    private var applyCommand: String {
        let paths = manifests.paths.joined(separator: " ")
        return savedPlan.map { "dcapply apply --plan \($0) \(paths)" } ?? "dcapply apply \(paths)"
    }

    /// Asks on the terminal; only `yes` goes on. Ctrl-C while asking releases the apply lock
    /// (held since before planning) and exits 130, so the next apply does not find it taken.
    private func confirm(_ plan: Plan, store: any StateStore) throws {
        signal(SIGINT, SIG_IGN)
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let console = options.console
        interrupt.setEventHandler {
            try? store.releaseLock(LockHolder.current(command: "apply"))
            FileHandle.standardError.write(Data("\n".utf8))
            console.error("not applied: interrupted at the confirmation prompt; the apply lock is released.")
            Foundation.exit(130)
        }
        interrupt.resume()
        defer {
            interrupt.cancel()
            signal(SIGINT, SIG_DFL)
        }
        FileHandle.standardError.write(Data("\nApply these \(plan.changes.count) changes? Only 'yes' will be accepted: ".utf8))
        guard readLine()?.trimmingCharacters(in: .whitespaces) == "yes" else {
            options.console.error("not applied: the answer was not 'yes'.")
            throw ExitCode(1)
        }
    }

    private func report(_ failures: [(change: Change, error: String)]) {
        for failure in failures {
            options.console.error("\(failure.change.action.rawValue) \(failure.change.resource): \(failure.error)")
        }
    }

    /// Progress on a terminal, retries as warnings.
    private func progressReporter(total: Int?) -> @Sendable (ApplyEvent) -> Void {
        let console = options.console
        let finished = Mutex(0)
        return { event in
            switch event.kind {
            case .done, .failed, .skipped, .alreadyDone:
                let count = finished.withLock { $0 += 1; return $0 }
                console.progress("Applying: \(count)\(total.map { "/\($0)" } ?? "") actions finished…")
            case .retrying(let attempt, let error):
                console.write("warning: \(event.change.action.rawValue) \(event.change.resource): attempt \(attempt) failed (\(error)); retrying")
            case .started:
                break
            }
        }
    }
}
