import DCApplyCore
import DCApplyPostgres
import Foundation

// Round trips of a state store, as an apply makes them: the apply lock taken and released, and
// one journal step recorded. Usage: DCApplyStoreBench URL [ROUNDS]. Prints one line per
// operation: its median and p99 in milliseconds over ROUNDS (default 1,000), after 50 rounds of
// warm-up. Benchmarks/store_bench.sh runs it on PostgreSQL and SQLite; never part of the tests.

/// The median and the 99th percentile of `samples`, in milliseconds.
func summary(_ name: String, _ samples: [Double]) -> String {
    let sorted = samples.sorted()
    let median = sorted[sorted.count / 2]
    let p99 = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
    return "\(name): median \(String(format: "%.3f", median * 1000)) ms, p99 \(String(format: "%.3f", p99 * 1000)) ms over \(sorted.count)"
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: DCApplyStoreBench URL [ROUNDS]\n".utf8))
    exit(2)
}
let url = arguments[1]
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 1000 : 1000
do {
    let store: any StateStore = PostgresStateURL.matches(url)
        ? try PostgresStateStore.open(url, passwordFile: nil, environment: ProcessInfo.processInfo.environment)
        : try StateStores.open(url)
    let holder = LockHolder(host: "bench", pid: getpid(), processStart: nil, since: Date(), command: "bench")
    var lock: [Double] = []
    for round in 0..<(rounds + 50) {
        let took = try seconds {
            _ = try store.acquireLock(holder, isStale: { _ in false })
            try store.releaseLock(holder)
        }
        if round >= 50 { lock.append(took) }
    }
    let serial = try store.load().serial
    let id = try store.beginApply(planJSON: "{}", baseSerial: serial, user: "bench", host: "bench", startedAt: Date())
    var steps: [Double] = []
    for round in 0..<(rounds + 50) {
        let change = Change(.assign, .node("n\(round)"), to: "HardwarePool/p", reason: "bench")
        let took = try seconds { try store.recordStep(apply: id, JournalStep(index: round, state: .done, attempts: 1), change: change) }
        if round >= 50 { steps.append(took) }
    }
    print(summary("lock acquire+release", lock))
    print(summary("journal step", steps))
} catch {
    FileHandle.standardError.write(Data("DCApplyStoreBench: \(error)\n".utf8))
    exit(1)
}
