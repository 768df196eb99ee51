import Foundation
import DCApplyServer
import Testing

/// The loop's decisions as a table: observations in, one decision out (docs/gitops.md).
@Suite("ReconcilePolicy: observation → decision")
struct ReconcilePolicyTests {
    static func seen(_ change: (inout ReconcileObservations) -> Void) -> ReconcileObservations {
        var seen = ReconcileObservations(interval: 30, selfHeal: true)
        seen.head = "b"
        seen.applied = "a"
        seen.planIsEmpty = false
        change(&seen)
        return seen
    }

    @Test func aNewRevisionWithAPlanIsApplied() {
        #expect(ReconcilePolicy.decide(Self.seen { _ in }) == .apply(revision: "b", isNew: true))
    }

    @Test func stoppingWinsOverEverything() {
        #expect(ReconcilePolicy.decide(Self.seen { $0.stopping = true; $0.failure = ("Locked", "locked") }) == .stop)
    }

    @Test func aControllerThatDoesNotLeadStandsByWhateverItWouldHaveDone() {
        let leader = SiteLeader(host: "alpha", pid: 7, since: Date(timeIntervalSince1970: 0))
        #expect(ReconcilePolicy.decide(Self.seen { $0.isLeader = false; $0.leader = leader }) == .standby(leader: leader))
        #expect(ReconcilePolicy.decide(Self.seen { $0.isLeader = false; $0.destroyRefusal = "too much" }) == .standby(leader: nil))
        #expect(ReconcilePolicy.decide(Self.seen { $0.isLeader = false; $0.stopping = true }) == .stop)
        #expect(ReconcilePolicy.decide(Self.seen { $0.isLeader = false; $0.failure = ("LeadershipUnavailable", "down") })
                == .stall(backoff: .seconds(1), reason: "LeadershipUnavailable", message: "down"))
        #expect(ReconcileDecision.standby(leader: nil).result == "standby")
        #expect(ReconcileDecision.standby(leader: leader).conditionReason == "Standby")
    }

    @Test func aFailureStallsWithABackoffThatDoublesAndIsCappedAtTheInterval() {
        #expect(ReconcilePolicy.decide(Self.seen { $0.failure = ("GitOperationFailed", "fetch failed: gone") })
                == .stall(backoff: .seconds(1), reason: "GitOperationFailed", message: "fetch failed: gone"))
        #expect(ReconcilePolicy.decide(Self.seen { $0.failure = ("Locked", "locked"); $0.failures = 3 })
                == .stall(backoff: .seconds(8), reason: "Locked", message: "locked"))
        #expect(ReconcilePolicy.backoff(afterFailures: 6, interval: 30) == .seconds(30))
        #expect(ReconcilePolicy.backoff(afterFailures: 1000, interval: 30) == .seconds(30))
        #expect(ReconcilePolicy.backoff(afterFailures: 1, interval: 0.5) == .milliseconds(500))
    }

    @Test func untrustedInvalidAndUnsatisfiableRevisionsAreRefused() {
        #expect(ReconcilePolicy.decide(Self.seen { $0.trustRefusal = "1 commit is not allowed" })
                == .refuse(revision: "b", reason: "Unauthorized", message: "1 commit is not allowed"))
        #expect(ReconcilePolicy.decide(Self.seen { $0.manifestErrors = ["s.yaml:1:1: a", "s.yaml:2:1: b", "s.yaml:3:1: c", "s.yaml:4:1: d"] })
                == .refuse(revision: "b", reason: "ValidationFailed", message: "4 errors in the manifests: s.yaml:1:1: a; s.yaml:2:1: b; s.yaml:3:1: c"))
        #expect(ReconcilePolicy.decide(Self.seen { $0.planErrors = ["HardwarePool/train: 10 nodes asked, 6 fit"] })
                == .refuse(revision: "b", reason: "Unsatisfiable", message: "unsatisfiable: HardwarePool/train: 10 nodes asked, 6 fit"))
        #expect(ReconcilePolicy.decide(Self.seen { $0.destroyRefusal = "refused: too much" })
                == .refuse(revision: "b", reason: "DestroyRefused", message: "refused: too much"))
    }

    @Test func aRefusedHeadIsNotRetriedButTheAppliedRevisionIsStillChecked() {
        // The head was refused: the applied revision is re-checked for drift.
        let drifted = Self.seen { $0.refused = "b" }
        #expect(drifted.isDrift)
        #expect(ReconcilePolicy.decide(drifted) == .apply(revision: "a", isNew: false))
        // Nothing applied yet and the head refused: nothing to do until the branch moves.
        #expect(ReconcilePolicy.decide(Self.seen { $0.refused = "b"; $0.applied = nil }) == .nothing(revision: nil))
        #expect(ReconcileDecision.nothing(revision: nil).result == "refused")
    }

    @Test func driftIsCorrectedWithSelfHealAndReportedWithout() {
        #expect(ReconcilePolicy.decide(Self.seen { $0.head = "a" }) == .apply(revision: "a", isNew: false))
        #expect(ReconcilePolicy.decide(Self.seen { $0.head = "a"; $0.selfHeal = false }) == .reportDrift(revision: "a"))
        // Reported, not corrected: the blast-radius guard has nothing to guard.
        #expect(ReconcilePolicy.decide(Self.seen { $0.head = "a"; $0.selfHeal = false; $0.destroyRefusal = "refused" }) == .reportDrift(revision: "a"))
        #expect(ReconcilePolicy.decide(Self.seen { $0.head = "a"; $0.planIsEmpty = true }) == .nothing(revision: "a"))
    }

    @Test func trustIsAskedOnlyOfNewRevisions() {
        #expect(ReconcilePolicy.decide(Self.seen { $0.head = "a"; $0.trustRefusal = "not allowed" }) == .apply(revision: "a", isNew: false))
    }

    @Test func eachDecisionHasAMetricsResult() {
        #expect(ReconcileDecision.apply(revision: "a", isNew: true).result == "success")
        #expect(ReconcileDecision.reportDrift(revision: "a").result == "success")
        #expect(ReconcileDecision.nothing(revision: "a").result == "success")
        #expect(ReconcileDecision.refuse(revision: "a", reason: "Unsatisfiable", message: "").result == "refused")
        #expect(ReconcileDecision.stall(backoff: .seconds(1), reason: "Locked", message: "").result == "failure")
        #expect(ReconcileDecision.stop.result == "stopped")
    }
}
