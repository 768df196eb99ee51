import DCApplySlurm
import DCApplyTestSupport
import Foundation
import Subprocess
import Testing

/// A throw-away Slurm 22.05 controller for one test: `slurmctld -D` in foreground as root with
/// `auth/none`, in a fresh temp folder, on a free port, with `nodes` defined in its generated
/// slurm.conf and no slurmd ("fake" mode of docs/providers/slurm.md: the nodes are
/// IDLE+NOT_RESPONDING). Started by the test, stopped by pid (SIGTERM, then SIGKILL after 10 s).
struct SlurmController: Sendable {
    var folder: URL
    var conf: String
    var port: Int

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `body` against a fresh controller, then stops it and removes its folder.
    static func with<T: Sendable>(nodes: [String], features: String = "gpu", extraConf: String = "", folder given: URL? = nil,
                                  _ body: @Sendable (SlurmController) async throws -> T) async throws -> T {
        guard let slurmctld = ["/usr/sbin/slurmctld", "/usr/bin/slurmctld"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw Failure(description: "slurmctld is not installed: run scripts/install-deps (Debian packages slurmctld, slurm-client)")
        }
        let folder = given ?? FileManager.default.temporaryDirectory.appendingPathComponent("dcapply-slurm-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("state"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = freePort()
        let conf = folder.appendingPathComponent("slurm.conf").path
        try configuration(folder: folder.path, port: port, nodes: nodes, features: features, extra: extraConf)
            .write(toFile: conf, atomically: true, encoding: .utf8)
        let controller = SlurmController(folder: folder, conf: conf, port: port)
        let result = try await Subprocess.run(.path(.init(slurmctld)), arguments: ["-D", "-f", conf],
                                              environment: .inherit.updating(["SLURM_CONF": conf]),
                                              platformOptions: detached(), input: .none, output: .discarded, error: .discarded) { execution in
            OrphanGuard.stopWhenTestsDie(pid: execution.processIdentifier.value)
            let stopper = Task {
                // Time limit of the whole controller: a test that hangs does not keep it forever.
                try await Task.sleep(for: .seconds(600))
                try? execution.send(signal: .kill)
            }
            defer { stopper.cancel() }
            let outcome: Result<T, any Error>
            do {
                try await controller.waitUntilUp()
                try await controller.prepareNodes()
                outcome = .success(try await body(controller))
            } catch {
                outcome = .failure(error)
            }
            try? execution.send(signal: .terminate)
            return Stopped(outcome: outcome, killer: killLater(execution.processIdentifier.value))
        }
        // The process has exited: its pid may be reused, so the SIGKILL must not come.
        result.closureResult.killer.cancel()
        return try result.closureResult.outcome.get()
    }

    /// What a fixture's closure returns: the body's outcome and the pending SIGKILL.
    struct Stopped<T: Sendable>: Sendable {
        var outcome: Result<T, any Error>
        var killer: Task<Void, Never>
    }

    /// SIGKILL if SIGTERM did not stop it within 10 s; cancelled once it has exited.
    static func killLater(_ pid: pid_t) -> Task<Void, Never> {
        Task.detached {
            try? await Task.sleep(for: .seconds(10))
            guard !Task.isCancelled else { return }
            kill(pid, SIGKILL)
        }
    }

    private static func detached() -> PlatformOptions {
        var options = PlatformOptions()
        options.createSession = true
        return options
    }

    /// Polls `scontrol ping` until the controller is UP (20 s at most).
    func waitUntilUp() async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            let ping = try await scontrol(["ping"])
            if ping.output.contains("is UP") { return }
            guard ContinuousClock.now < deadline else {
                let log = (try? String(contentsOf: folder.appendingPathComponent("slurmctld.log"), encoding: .utf8)) ?? ""
                throw Failure(description: "slurmctld did not answer scontrol ping within 20 s: \(ping.message)\n\(log.suffix(2_000))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Without slurmd nodes start UNKNOWN, where RESUME and POWER_DOWN misbehave: DOWN then
    /// RESUME gives IDLE+NOT_RESPONDING.
    private func prepareNodes() async throws {
        for arguments in [["update", "NodeName=ALL", "State=DOWN", "Reason=fixture: no slurmd"], ["update", "NodeName=ALL", "State=RESUME"]] {
            let result = try await scontrol(arguments)
            guard result.exitCode == 0 else { throw Failure(description: "scontrol \(arguments.joined(separator: " ")): \(result.message)") }
        }
    }

    /// The slurmd that `scripts/install-deps` extracts (not installs) into `.slurmd/`, or `SLURMD_BIN`.
    static func slurmd() throws -> (slurmd: String, slurmstepd: String) {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let environment = ProcessInfo.processInfo.environment
        let slurmd = environment["SLURMD_BIN"] ?? root.appendingPathComponent(".slurmd/usr/sbin/slurmd-wlm").path
        let slurmstepd = environment["SLURMSTEPD_BIN"] ?? root.appendingPathComponent(".slurmd/usr/sbin/slurmstepd-wlm").path
        guard FileManager.default.isExecutableFile(atPath: slurmd), FileManager.default.isExecutableFile(atPath: slurmstepd) else {
            throw Failure(description: "\(slurmd) is missing: run scripts/install-deps (it extracts Debian's slurmd into .slurmd/)")
        }
        return (slurmd, slurmstepd)
    }

    /// Runs one real slurmd for `node` during `body` (the node then runs jobs), stopped by pid after.
    func withSlurmd<T: Sendable>(node: String, _ body: @Sendable () async throws -> T) async throws -> T {
        let (slurmd, slurmstepd) = try Self.slurmd()
        var options = PlatformOptions()
        options.createSession = true
        let result = try await Subprocess.run(.path(.init(slurmd)), arguments: ["-D", "-N", node, "-f", conf, "-d", slurmstepd],
                                              environment: .inherit.updating(["SLURM_CONF": conf]), platformOptions: options,
                                              input: .none, output: .discarded, error: .discarded) { execution in
            OrphanGuard.stopWhenTestsDie(pid: execution.processIdentifier.value)
            let outcome: Result<T, any Error>
            do {
                try await waitFor(node: node, timeout: .seconds(60)) { $0.state == "idle" && !$0.flags.contains("NOT_RESPONDING") }
                outcome = .success(try await body())
            } catch {
                outcome = .failure(error)
            }
            try? execution.send(signal: .terminate)
            return Stopped(outcome: outcome, killer: Self.killLater(execution.processIdentifier.value))
        }
        result.closureResult.killer.cancel()
        return try result.closureResult.outcome.get()
    }

    /// Polls `sinfo --json` until `node` satisfies `condition`.
    func waitFor(node: String, timeout: Duration, _ condition: (SlurmNode) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            let sinfo = try await SlurmCommandLine(conf: conf).sinfo(["--json"])
            if let seen = try? SlurmObservation.nodes(sinfoJSON: Data(sinfo.output.utf8))[node], condition(seen) { return }
            guard ContinuousClock.now < deadline else { throw Failure(description: "node \(node) did not reach the awaited state within \(timeout)") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Runs a Slurm client program (`sbatch`, `scancel`) against this controller.
    func client(_ program: String, _ arguments: [String]) async throws -> SlurmCallResult {
        let result = try await Subprocess.run(.name(program), arguments: Arguments(arguments), environment: .inherit.updating(["SLURM_CONF": conf]),
                                              output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
        let code: Int32
        switch result.terminationStatus {
        case .exited(let status): code = Int32(status)
        case .signaled(let signal): code = 128 + Int32(signal)
        }
        return SlurmCallResult(exitCode: code, output: result.standardOutput, error: result.standardError)
    }

    /// `scontrol` against this controller (not counted by any actuator).
    func scontrol(_ arguments: [String]) async throws -> SlurmCallResult {
        try await SlurmCommandLine(conf: conf).scontrol(arguments)
    }

    /// The controller's record of one object, `nil` when it does not exist.
    func show(_ kind: String, _ name: String) async throws -> SlurmRecord? {
        let result = try await scontrol(["-o", "show", kind, name])
        guard result.exitCode == 0 else { return nil }
        return SlurmRecord.records(result.output).first
    }

    /// The nodes of a partition or reservation, expanded.
    func nodes(_ kind: String, _ name: String) async throws -> Set<String>? {
        guard let record = try await show(kind, name) else { return nil }
        return Set(try Hostlist.expand(record["Nodes"] ?? ""))
    }

    static func configuration(folder: String, port: Int, nodes: [String], features: String, extra: String) -> String {
        """
        ClusterName=fixture
        SlurmctldHost=localhost
        SlurmctldPort=\(port)
        SlurmdPort=\(port + 1)
        SlurmUser=\(NSUserName())
        SlurmdUser=\(NSUserName())
        AuthType=auth/none
        CredType=cred/none
        StateSaveLocation=\(folder)/state
        SlurmctldPidFile=\(folder)/slurmctld.pid
        SlurmctldLogFile=\(folder)/slurmctld.log
        SlurmctldDebug=info
        SlurmdSpoolDir=\(folder)/spool-%n
        SlurmdPidFile=\(folder)/slurmd-%n.pid
        SlurmdLogFile=\(folder)/slurmd-%n.log
        SlurmdTimeout=0
        SlurmdParameters=config_overrides
        ReturnToService=1
        MailProg=/bin/true
        ProctrackType=proctrack/linuxproc
        TaskPlugin=task/none
        SelectType=select/cons_tres
        SchedulerType=sched/builtin
        MpiDefault=none
        JobCompType=jobcomp/none
        JobAcctGatherType=jobacct_gather/none
        AccountingStorageType=accounting_storage/none
        \(extra)
        NodeName=\(Hostlist.compress(nodes)) NodeAddr=127.0.0.1 CPUs=8 RealMemory=64000 Features=\(features) State=UNKNOWN
        PartitionName=batch Nodes=ALL Default=YES MaxTime=INFINITE State=UP

        """
    }

    /// A port nobody listens on now.
    static func freePort() -> Int { LoopbackPort.free() }
}
