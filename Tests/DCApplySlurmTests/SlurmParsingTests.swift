import DCApplySlurm
import Foundation
import Testing

struct SlurmParsingTests {
    @Test func readsAReasonWithSpacesAndDropsItsUserSuffix() {
        let record = SlurmRecord(line: "NodeName=gpu-r01-n02 Arch=x86_64 State=IDLE+DRAIN+NOT_RESPONDING Comment=(null) Reason=xid 79: gpu fell off bus [root@2026-12-04T17:44:14]")
        #expect(record["NodeName"] == "gpu-r01-n02")
        #expect(record["State"] == "IDLE+DRAIN+NOT_RESPONDING")
        #expect(record["Comment"] == "")
        #expect(record["Reason"] == "xid 79: gpu fell off bus")
    }

    @Test func keepsKeyLikeWordsInsideTheReason() {
        let record = SlurmRecord(line: "NodeName=n1 Reason=dcapply: failed State=x by=me [slurm@2026-12-04T17:44:14]")
        #expect(record["Reason"] == "dcapply: failed State=x by=me")
        #expect(record["State"] == nil)
    }

    @Test func readsPartitionsOfScontrol() throws {
        let output = """
            PartitionName=batch AllowGroups=ALL Default=YES Nodes=gpu-r01-n[01-08] State=UP TotalNodes=8 JobDefaults=(null)
            PartitionName=pool-a AllowGroups=ALL Default=NO Nodes=(null) State=UP TotalNodes=0 JobDefaults=(null)

            """
        let partitions = try SlurmObservation.partitions(scontrolOutput: output)
        #expect(partitions["batch"]?.nodes.count == 8)
        #expect(partitions["pool-a"] == SlurmPartition(name: "pool-a", nodes: [], state: "UP"))
    }

    @Test func readsReservationsOfScontrol() throws {
        let output = "ReservationName=wl-1 StartTime=2026-12-04T17:44:14 EndTime=2027-12-04T17:44:14 Duration=365-00:00:00 Nodes=gpu-r01-n[01-02] NodeCnt=2 CoreCnt=16 Features=(null) PartitionName=(null) Flags=OVERLAP,SPEC_NODES TRES=cpu=16 Users=(null) Groups=(null) Accounts=tenant-a Licenses=(null) State=ACTIVE BurstBuffer=(null) Watts=n/a MaxStartDelay=(null)\n"
        let reservation = try #require(try SlurmObservation.reservations(scontrolOutput: output)["wl-1"])
        #expect(reservation.nodes == ["gpu-r01-n01", "gpu-r01-n02"])
        #expect(reservation.accounts == ["tenant-a"])
        #expect(reservation.users == [])
        #expect(reservation.endTime != nil)
    }

    @Test func readsNodesOfSinfoJSON() throws {
        let json = """
            {"meta": {"Slurm": {"release": "22.05.8"}}, "errors": [], "nodes": [
             {"name": "gpu-r01-n07", "state": "idle", "state_flags": ["DRAIN", "NOT_RESPONDING"], "reason": "broken",
              "reason_set_by_user": "root", "features": "gpu,rack01", "active_features": "gpu,rack01", "partitions": ["batch"]},
             {"name": "gpu-r01-n08", "state": "down", "state_flags": [], "reason": "dcapply: failed", "features": "", "active_features": ""}]}
            """
        let nodes = try SlurmObservation.nodes(sinfoJSON: Data(json.utf8))
        let drained = try #require(nodes["gpu-r01-n07"])
        #expect(drained.isDrained && !drained.heldByDcapply && drained.availableFeatures == ["gpu", "rack01"])
        #expect(nodes["gpu-r01-n08"]?.heldByDcapply == true)
    }

    @Test func refusesSomethingElseThanSinfoJSON() {
        #expect(throws: SlurmObservation.ParseError.self) { try SlurmObservation.nodes(sinfoJSON: Data("sinfo: error".utf8)) }
    }
}
