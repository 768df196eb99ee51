#!/bin/bash
# Where a whole `dcapply plan --output json` spends its time on large synthetic sites (issue 18).
#
# usage: Benchmarks/profile.sh [SIZE ...]        (default: 10000 20000 40000 50000)
#   env: DCAPPLY=path (default .build/release/dcapply; copied first, so a rebuild cannot mix
#        in), OUT=folder (default /tmp/dcapply-profile), PERF_SIZES="20000 50000",
#        CALLGRIND_SIZE=5000 (empty: no callgrind), SEED=1
#
# One process at a time, in this order: for every size, `/usr/bin/time -v` of the plan (wall,
# user CPU, peak RSS) with `uptime` before and after; `perf record -e cpu-clock -F 499 -g`
# for PERF_SIZES (this machine's virtual CPU has no hardware counters); callgrind on
# CALLGRIND_SIZE (instruction counts do not depend on the machine's load). Then a summary:
# times, the growth exponent fitted on log(user CPU) against log(nodes), and the top
# inclusive symbols of each profile, demangled by `swift demangle --simplified`.
# Run from the repository root. Every step has a time limit.
set -u
cd "$(dirname "$0")/.."
SIZES=${*:-10000 20000 40000 50000}
OUT=${OUT:-/tmp/dcapply-profile}
PERF_SIZES=${PERF_SIZES-20000 50000}
CALLGRIND_SIZE=${CALLGRIND_SIZE-5000}
SEED=${SEED:-1}
mkdir -p "$OUT/bin"
cp "${DCAPPLY:-.build/release/dcapply}" "$OUT/bin/dcapply" || exit 1
B="$OUT/bin/dcapply"
LOG="$OUT/log"
site() {
  [ -f "$OUT/s$1/sitegen.json" ] || python3 Benchmarks/sitegen.py --nodes "$1" --seed "$SEED" --out "$OUT/s$1" >/dev/null
}
echo "dcapply $(sha256sum "$B" | cut -c1-12), repo $(git rev-parse --short HEAD), $(nproc) CPUs" >> "$LOG"
for n in $SIZES; do
  site "$n"
  echo "time $n start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$LOG"
  /usr/bin/time -v -o "$OUT/time-$n.txt" timeout 1800 "$B" plan "$OUT/s$n" --output json --state memory: \
    > "$OUT/plan-$n.json" 2> "$OUT/plan-$n.err"
  echo "time $n end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$LOG"
done
for n in $PERF_SIZES; do
  site "$n"
  echo "perf $n start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$LOG"
  timeout 1800 perf record -q -e cpu-clock -F 499 -g -o "$OUT/perf-$n.data" \
    "$B" plan "$OUT/s$n" --output json --state memory: > /dev/null 2> "$OUT/perf-$n.err"
  echo "perf $n end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$LOG"
  perf report -i "$OUT/perf-$n.data" --children --sort symbol --stdio -g none --percent-limit 1.5 2>/dev/null \
    | swift demangle --simplified > "$OUT/perf-$n.txt"
done
if [ -n "$CALLGRIND_SIZE" ]; then
  n=$CALLGRIND_SIZE
  site "$n"
  echo "callgrind $n start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$LOG"
  # valgrind 3.19 gives up on the Swift release build's DWARF ("possibly corrupted
  # debuginfo"): profile a copy without debug info; the symbol table still names functions.
  [ -x "$OUT/bin/dcapply-nodebug" ] || objcopy --strip-debug "$B" "$OUT/bin/dcapply-nodebug"
  timeout 3600 valgrind --tool=callgrind --callgrind-out-file="$OUT/cg-$n.out" \
    "$OUT/bin/dcapply-nodebug" plan "$OUT/s$n" --output json --state memory: > /dev/null 2> "$OUT/cg-$n.err"
  echo "callgrind $n end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$LOG"
  callgrind_annotate --inclusive=yes "$OUT/cg-$n.out" 2>/dev/null | head -60 \
    | swift demangle --simplified > "$OUT/cg-$n.txt"
fi
python3 - "$OUT" $SIZES <<'PY'
import math, re, sys
out, sizes = sys.argv[1], [int(x) for x in sys.argv[2:]]
rows = []
for n in sizes:
    t = open("%s/time-%d.txt" % (out, n)).read()
    g = lambda k: re.search(re.escape(k) + r": (.*)", t).group(1).strip()
    wall = g("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")
    wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
    rows.append((n, wall, float(g("User time (seconds)")), int(g("Maximum resident set size (kbytes)")) / 1024,
                 g("Percent of CPU this job got")))
print("nodes  wall s  user s  RSS MiB  CPU")
for r in rows:
    print("%6d %7.1f %7.1f %8.0f  %s" % r)
if len(rows) > 1:
    xs = [math.log(r[0]) for r in rows]
    ys = [math.log(r[2]) for r in rows]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    a = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    print("growth: user CPU ~ n^%.2f (least squares on log-log over %s)" % (a, ",".join(str(r[0]) for r in rows)))
PY
