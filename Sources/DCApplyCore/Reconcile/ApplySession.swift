/// One apply as a person or a pipeline runs it, from reading the manifests to the recorded
/// outcome: under the state store's lock, finish or close an apply a dead process left
/// unfinished, read and observe again, plan, check a saved plan against the fresh one, let the
/// shell review the plan, then carry it out. `Reconciler.applySession(_:)` runs it; the shell
/// (the CLI) supplies only what it shows and asks through these hooks.
public struct ApplySession {
    /// How the plan is carried out (parallelism, retries, clock).
    public var options: ApplyOptions
    /// Reads a plan saved by `plan --out` to apply instead of the fresh one, when it still fits;
    /// nil applies the fresh plan. Called after planning, under the lock.
    public var savedPlan: (() throws -> Plan)?
    /// Reads the manifests and observes the hardware; throws to stop (invalid manifests).
    public var load: () async throws -> LoadedSite
    /// Plans the loaded site (the reconciler's `plan`, with whatever progress the shell shows).
    public var plan: (LoadedSite) throws -> Plan
    /// Events of the actions an unfinished apply runs when it is resumed.
    public var recoveryEvents: (@Sendable (ApplyEvent) -> Void)?
    /// Told what the recovery of an unfinished apply did, before the site is read again.
    public var recovered: (Reconciler.Recovery) -> Void
    /// Shown the plan about to be applied (empty or not); true goes on, false stops without
    /// changing anything. May throw to refuse (a blast-radius guard, a confirmation declined).
    public var review: (Plan, LoadedSite) async throws -> Bool
    /// Events of the plan's actions as they run, given the plan that runs.
    public var events: (Plan) -> (@Sendable (ApplyEvent) -> Void)?

    /// How a session ended.
    public enum Result: Sendable {
        /// Nothing was carried out: the plan was empty or the review said no.
        case notApplied(Plan, LoadedSite)
        /// The plan was carried out, in full or in part (see the outcome).
        case applied(Plan, LoadedSite, ApplyOutcome)
    }

    public init(options: ApplyOptions = ApplyOptions(), savedPlan: (() throws -> Plan)? = nil,
                load: @escaping () async throws -> LoadedSite,
                plan: @escaping (LoadedSite) throws -> Plan,
                recoveryEvents: (@Sendable (ApplyEvent) -> Void)? = nil,
                recovered: @escaping (Reconciler.Recovery) -> Void = { _ in },
                review: @escaping (Plan, LoadedSite) async throws -> Bool = { _, _ in true },
                events: @escaping (Plan) -> (@Sendable (ApplyEvent) -> Void)? = { _ in nil }) {
        self.options = options
        self.savedPlan = savedPlan
        self.load = load
        self.plan = plan
        self.recoveryEvents = recoveryEvents
        self.recovered = recovered
        self.review = review
        self.events = events
    }
}

extension Reconciler {
    /// Runs `session` holding the apply lock from before reading the manifests to the end:
    /// recover → read again → plan → saved-plan check → review → execute. Throws
    /// `StaleSavedPlan` when the saved plan no longer fits, `DCApplyError(.locked)` when
    /// another apply holds the lock; an apply with failed actions returns normally (the
    /// outcome says what failed, and what was done is recorded).
    public func applySession(_ session: ApplySession) async throws -> ApplySession.Result {
        try await withLock(command: "apply") {
            var site = try await session.load()
            // An apply a dead process left unfinished comes first; then look at the hardware again.
            if let recovery = try await recover(site: site, options: session.options, onEvent: session.recoveryEvents) {
                session.recovered(recovery)
                site = try await session.load()
            }
            var plan = try session.plan(site)
            if let readSavedPlan = session.savedPlan {
                let saved = try readSavedPlan()
                if let why = SavedPlanCheck.staleness(saved, fresh: plan, stored: try store.load()) {
                    throw StaleSavedPlan(reasons: why)
                }
                plan = saved
            }
            guard try await session.review(plan, site), !plan.isEmpty else { return .notApplied(plan, site) }
            let outcome = try await execute(plan, site: site, options: session.options, onEvent: session.events(plan))
            return .applied(plan, site, outcome)
        }
    }
}
