import Logging

/// Carries the plan into a system that runs work (a scheduler, a CMDB, node labels): the
/// second I/O seam of an apply, beside ``HardwareProvider``. A Site lists any number
/// (`Site.spec.actuators`); ``ActuatorFactory`` makes them.
///
/// Contract:
/// - `describe` says which actions the actuator claims and whether it observes. The executor
///   and the reconciler call it once per run (implementations may cache it).
/// - `apply` receives one wave of the actions it claims: every change of the apply graph that
///   is ready at that moment (its dependencies done), in plan order, each with an id that is
///   stable for this plan (`"<journal id>.<change index>"`, the same after a crash and
///   resume). It returns one ``ActuatorResult`` per action it was given; a missing result is
///   a terminal failure of that action. Throwing ``ProviderError`` fails the whole call
///   (`transient`: retried with backoff with the other transient failures; `terminal`: every
///   action of the call fails). The executor journals an action done only after every
///   claimant reported it done; after a crash it may send an action again that was done but
///   not journalled, so `apply` must be idempotent. Actions journalled done are never sent
///   again.
/// - Ordering within one change: a power change goes to the hardware provider first, then to
///   the actuators that claim it (their "after power" part: tell the scheduler). The drain
///   before a power-off is its own change (`drain`, cause `powerOff`), and the apply graph
///   runs it before the `powerOff`; an actuator that must wait for work to leave does so in
///   `drain` and fails it as transient when it gives up, so the power-off waits.
/// - A change whose ``Change/actuator`` is set (a repair of drift) goes to that actuator only.
/// - `observe` (called only when `describe` says it observes) reports what differs from what
///   dcapply applied: repairs to plan (each a ``Change`` with reason "changed outside
///   dcapply"; the reconciler sets their `actuator`), nodes to treat as degraded (taken out of
///   service by someone else), and problems (objects in the way that dcapply does not own).
/// - What an actuator created is recorded through ``ActuatorContext/records``; it owns only
///   what is recorded there and never changes or deletes anything else.
public protocol Actuator: Sendable {
    /// Unique within its Site and stable across runs: names the actuator in messages, repairs
    /// and the state store's records ("slurm", "exec:netbox-sync").
    var name: String { get }
    /// The actions it claims and whether it observes.
    func describe() async throws -> ActuatorDescription
    /// What differs from `context.applied` in the system it drives (`context.target` is nil).
    func observe(_ context: ActuatorContext) async throws -> ActuatorObservation
    /// Carries out one wave; one result per action. Waves are sent one at a time, so a call
    /// that waits (a drain before a power-off) holds back the actuator's next wave.
    func apply(_ actions: [ActuatorAction], context: ActuatorContext) async throws -> [ActuatorResult]
}

/// Which actions an actuator claims and whether it observes.
public struct ActuatorDescription: Hashable, Sendable {
    public var actions: Set<Action>
    public var observes: Bool

    public init(actions: Set<Action>, observes: Bool) {
        self.actions = actions
        self.observes = observes
    }

    /// Whether the actuator carries this change (its claims, and repairs addressed to it).
    public func claims(_ change: Change, actuator name: String) -> Bool {
        if let only = change.actuator { return only == name }
        return actions.contains(change.action)
    }
}

/// One claimed action of a wave, with its stable id.
public struct ActuatorAction: Hashable, Sendable {
    public var id: String
    public var change: Change

    public init(id: String, change: Change) {
        self.id = id
        self.change = change
    }
}

/// What became of one action.
public struct ActuatorResult: Hashable, Sendable {
    public enum Status: Hashable, Sendable {
        case done
        case failed(transient: Bool, message: String)
    }

    public var id: String
    public var status: Status

    public init(id: String, _ status: Status) {
        self.id = id
        self.status = status
    }
}

/// What an actuator call may read: the Site, the manifests, the hardware as observed, what
/// dcapply applied before, the plan's target (nil when observing), and its own records.
public struct ActuatorContext: Sendable {
    public var site: Site
    public var desired: DesiredState
    public var observed: ObservedState
    /// What the state store says was applied (for observe: what should be in effect).
    public var applied: TargetState
    /// The target of the plan being applied; nil when observing.
    public var target: TargetState?
    public var records: ActuatorRecords
    public var logger: Logger

    public init(site: Site, desired: DesiredState, observed: ObservedState, applied: TargetState, target: TargetState?,
                records: ActuatorRecords, logger: Logger) {
        self.site = site
        self.desired = desired
        self.observed = observed
        self.applied = applied
        self.target = target
        self.records = records
        self.logger = logger
    }
}

/// Makes the actuator one item of `Site.spec.actuators` names; nil for a kind it does not
/// handle. The executable passes one to the ``Reconciler`` (exec and Slurm live outside the core).
public typealias ActuatorFactory = @Sendable (_ configuration: ActuatorConfiguration, _ site: Site, _ store: any StateStore,
                                              _ logger: Logger) throws -> (any Actuator)?
