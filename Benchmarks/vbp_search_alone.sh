#!/bin/bash
# The packing search alone on Panigrahy instances, outside the pipeline (issue 18): a loop of
# seconds for trying a change to the search, instead of a release build of dcapply and a plan
# per instance.
#
# usage: Benchmarks/vbp_search_alone.sh INSTANCE.vbp ...
#   env: SUMMARY=path of Panigrahy_summary_known.csv (default ../shared/bench/vbp/...),
#        BUDGET=seconds of --solve-time (default: dcapply's default for the instance's size),
#        JOBS=instances at a time (default 2), OUT=folder (default /tmp/vbp-search-alone)
#
# Compiles Sources/DCApplyCore/Placement/{VectorPackingSearch,MinimumSlackPacking,
# PackingLowerBound}.swift with a small main (swiftc -O, about 10 s) and runs, per instance,
# what the improver runs on a pure pool of identical nodes: the minimum-slack start, the L2
# floor, then the search with seeds 1 and 2 (one after the other), on two thirds of the work
# budget (closing nodes one at a time takes up to a third before it). Prints per instance the
# start, the floor, each seed's bins, the best, and the share of the budget each seed used;
# then the bins above the proven optimum, summed over the instances that have one. The bin
# counts track dcapply's within a bin or so (the pipeline's re-packs come first there), so
# compare runs of this script with each other, and confirm a change through vbp_eval.py.
# Run from the repository root. Every run has a time limit.
set -u
cd "$(dirname "$0")/.."
SUMMARY=${SUMMARY:-../shared/bench/vbp/Panigrahy_summary_known.csv}
BUDGET=${BUDGET:-0}
JOBS=${JOBS:-2}
OUT=${OUT:-/tmp/vbp-search-alone}
mkdir -p "$OUT/src"
cat > "$OUT/src/main.swift" <<'EOF'
import Foundation

enum Tolerance {
    static let capacity = 1e-9
    static let smallestScale = 1e-9
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let text = try? String(contentsOfFile: arguments[1], encoding: .utf8),
      let budget = Double(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: search INSTANCE.vbp BUDGET_SECONDS\n".utf8))
    exit(2)
}
let numbers = text.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
var at = 0
func take() -> Double { defer { at += 1 }; return numbers[at] }
let dims = Int(take())
let capacity = (0..<dims).map { _ in take() }
var demand: [[Double]] = []
for _ in 0..<Int(take()) {
    let size = (0..<dims).map { _ in take() }
    demand.append(contentsOf: repeatElement(size, count: Int(take())))
}
let n = demand.count
let seconds = budget > 0 ? budget : min(3.2, 0.5 + Double(n) / 150)
let work = Int(seconds * 1_000_000 * 2 / 3) * 40
let room = Array(repeating: capacity, count: n)
let clock = Date()
guard let start = MinimumSlackPacking.pack(demand, room: room, order: Array(0..<n), nodeLimit: 2_000) else { exit(1) }
var open = Array(repeating: false, count: n)
for b in start.assignment { open[b] = true }
let floor = PackingLowerBound.l2(demand, capacity: capacity)
let search = VectorPackingSearch(dims: dims, demand: demand, room: room, assignment: start.assignment, open: open,
                                 pinned: Array(repeating: false, count: n), work: work - start.nodes, seed: 0)
var results: [VectorPackingSearch] = []
for seed: UInt64 in [1, 2] {
    var copy = search.reseeded(seed)
    copy.run(floor: floor)
    results.append(copy)
}
let bins = results.map(\.openCount)
let used = results.map { String(format: "%.2f", Double(search.work - $0.work) / Double(max(search.work, 1))) }
print("\((arguments[1] as NSString).lastPathComponent) start \(open.filter { $0 }.count) floor \(floor) bins \(bins) best \(bins.min() ?? 0) used \(used) seconds \(String(format: "%.2f", Date().timeIntervalSince(clock)))")
EOF
P=Sources/DCApplyCore/Placement
swiftc -O -o "$OUT/search" "$OUT/src/main.swift" $P/VectorPackingSearch.swift $P/MinimumSlackPacking.swift $P/PackingLowerBound.swift \
    || { echo "vbp_search_alone: the build failed" >&2; exit 1; }
printf '%s\n' "$@" | xargs -P "$JOBS" -I{} timeout 300 "$OUT/search" {} "$BUDGET" > "$OUT/results.txt"
sort "$OUT/results.txt"
python3 - "$SUMMARY" "$OUT/results.txt" <<'EOF'
import csv, sys
optimum = {r["instance_name"]: int(r["OPT"]) for r in csv.DictReader(open(sys.argv[1]), delimiter="\t")}
above, proven = 0, 0
for line in open(sys.argv[2]):
    f = line.split()
    name, best = f[0].removesuffix(".vbp"), int(f[f.index("best") + 1])
    if optimum.get(name, -1) > 0:
        proven += 1
        above += best - optimum[name]
print(f"vbp_search_alone: {proven} proven instances, {above} bins above the optimum in all")
EOF
