#!/bin/bash
# Where a whole `dcapply plan --output json` spends its time on large synthetic sites (issue 18).
#
# usage: Benchmarks/profile.sh [SIZE ...]        (default: 10000 20000 40000 50000)
#   env: DCAPPLY=path (default .build/release/dcapply; copied first, so a rebuild cannot mix
#        in), OUT=folder (default /tmp/dcapply-profile), PERF_SIZES="20000 50000",
#        COUNT_SIZES="5000 10000 20000" (exact call counts by uprobes; empty: none),
#        CALLGRIND_SIZE= (empty, the default: no callgrind; valgrind 3.19 crashes on the Swift 6
#        binary), SEED=1
#
# One process at a time, in this order: for every size, `/usr/bin/time -v` of the plan (wall,
# user CPU, peak RSS) with `uptime` before and after; `perf record -e cpu-clock -F 499 -g`
# for PERF_SIZES (this machine's virtual CPU has no hardware counters); exact calls of the
# placement functions for COUNT_SIZES (uprobes: `perf probe -x`, then `perf stat`; they do
# not depend on the machine's load, but each call traps, so large sizes are slow); callgrind
# on CALLGRIND_SIZE where valgrind can run the binary. Then a summary:
# times, the growth exponent fitted on log(user CPU) against log(nodes), and the top
# inclusive symbols of each profile, demangled by `swift demangle --simplified`.
# Run from the repository root. Every step has a time limit.
set -u
cd "$(dirname "$0")/.."
SIZES=${*:-10000 20000 40000 50000}
OUT=${OUT:-/tmp/dcapply-profile}
PERF_SIZES=${PERF_SIZES-20000 50000}
CALLGRIND_SIZE=${CALLGRIND_SIZE-}
COUNT_SIZES=${COUNT_SIZES-5000 10000 20000}
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
if [ -n "$COUNT_SIZES" ]; then
  # Demangled function -> uprobe name. Probes are added on the private copy and removed after.
  PROBES="wprun:t WorkloadPlacer.run(problems:)
fill:t WorkloadPlacer.fill(_:)
cgang:t specialized WorkloadPlacer.chooseGang(_:size:members:spread:)
gfits:t WorkloadPlacer.gangFits(_:_:)
sdoms:t WorkloadPlacer.Spread.domains(_:)
cnode:t WorkloadPlacer.chooseNode(_:demand:spread:)
mfits:t PlacementModel.fits(_:demand:reserved:)
expl:t WorkloadPlacer.explain(_:members:spread:gangSize:gpusPerNode:)"
  SYMS=$(nm "$B" | swift demangle --simplified)
  EVENTS=""
  while IFS=: read -r name fn; do
    addr=$(printf '%s\n' "$SYMS" | grep -F -m1 " $fn" | cut -d' ' -f1)
    [ -n "$addr" ] || { echo "no symbol for $fn" >> "$LOG"; continue; }
    perf probe -q -x "$B" -a "$name=0x$addr" 2>/dev/null && EVENTS="$EVENTS -e probe_dcapply:$name"
  done <<< "$PROBES"
  for n in $COUNT_SIZES; do
    site "$n"
    echo "counts $n start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$LOG"
    timeout 3600 perf stat $EVENTS -x, -o "$OUT/counts-$n.txt" \
      "$B" plan "$OUT/s$n" --output json --state memory: > /dev/null 2>&1
    echo "counts $n end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$LOG"
  done
  perf probe -q -d 'probe_dcapply:*' 2>/dev/null
fi
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
import glob, os
counts = {}
for f in sorted(glob.glob(out + "/counts-*.txt")):
    n = int(os.path.basename(f)[7:-4])
    for line in open(f):
        p = line.strip().split(",")
        if len(p) > 2 and p[2].startswith("probe_dcapply:"):
            counts.setdefault(p[2].split(":")[1], {})[n] = p[0]
if counts:
    ns = sorted({n for c in counts.values() for n in c})
    print("calls " + " ".join("%12d" % n for n in ns))
    for name, c in counts.items():
        print("%-5s " % name + " ".join("%12s" % c.get(n, "-") for n in ns))
PY
