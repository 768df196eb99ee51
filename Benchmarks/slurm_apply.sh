#!/usr/bin/env bash
# First apply of a synthetic N-node site (Benchmarks/sitegen.py) with a Slurm actuator against a
# throw-away slurmctld whose slurm.conf defines the same N nodes: wall time of `dcapply apply`
# and the number of scontrol calls it makes (counted by a logging shim on PATH).
#   Benchmarks/slurm_apply.sh [N=1000]      (DCAPPLY=path picks the binary; default .build/debug/dcapply)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-1000}
DCAPPLY=${DCAPPLY:-$root/.build/debug/dcapply}
W=$(mktemp -d /tmp/dcapply-slurm-bench.XXXXXX)
export SLURM_FIXTURE_DIR=$W/slurm
cleanup() { "$root/Examples/slurm/controller.sh" stop >/dev/null 2>&1 || true; rm -rf "$W"; }
trap cleanup EXIT

python3 "$root/Benchmarks/sitegen.py" --nodes "$N" --out "$W/site" --seed 1 --pools 2 >/dev/null
site=$(grep -l "kind: Site" "$W"/site/*.yaml | head -1)
python3 - "$site" "$SLURM_FIXTURE_DIR/slurm.conf" <<'PY'
import sys
path, conf = sys.argv[1], sys.argv[2]
text = open(path).read()
anchor = "    local: {inventory: inventory.yaml}\n"
assert anchor in text, "sitegen's Site changed: update Benchmarks/slurm_apply.sh"
text = text.replace(anchor, anchor + "  actuators:\n    - slurm: {conf: %s, features: [rack]}\n" % conf, 1)
open(path, "w").write(text)
PY
nodes=$(grep -hoE '^  - name: [^ ]+' "$W"/site/inventory.yaml | awk '{print $3}' | paste -sd, -)
"$root/Examples/slurm/controller.sh" start "$nodes" >/dev/null

mkdir -p "$W/shim"
real=$(command -v scontrol)
printf '#!/bin/sh\necho "$*" >> %s/scontrol.log\nexec %s "$@"\n' "$W" "$real" > "$W/shim/scontrol"
chmod +x "$W/shim/scontrol"
cd "$W/site"
start=$(date +%s.%N)
# Exit 1 is expected: sitegen's sites ask for more than fits (part of the demand stays unplaced).
rc=0; PATH=$W/shim:$PATH "$DCAPPLY" apply . --yes >"$W/apply.out" 2>"$W/apply.err" || rc=$?
grep -q '^Applied ' "$W/apply.err" || { echo "apply failed (exit $rc):" >&2; tail -5 "$W/apply.err" >&2; exit 1; }
end=$(date +%s.%N)
export SLURM_CONF=$SLURM_FIXTURE_DIR/slurm.conf
calls=$(wc -l < "$W/scontrol.log")
writes=$(grep -cE '^(create|update|delete) ' "$W/scontrol.log" || true)
partitions=$(scontrol -o show partition | grep -vc '^PartitionName=batch ' || true)
reservations=$(scontrol -o show reservation | grep -c '^ReservationName=' || true)
replan=$(PATH=$W/shim:$PATH "$DCAPPLY" plan . 2>/dev/null | tail -1 || true)
printf 'slurm: %s nodes, %s; first apply %.1f s wall, %s scontrol calls (%s writes), %s partitions and %s reservations made; plan again: %s\n' \
  "$N" "$(grep '^Applied ' "$W/apply.err")" "$(echo "$end - $start" | bc)" "$calls" "$writes" "$partitions" "$reservations" "$replan"
echo "scontrol calls by kind:"
awk '{ key = $1 " " $2; sub(/=.*/, "", key); if ($1 == "-o") key = "show " $3; print key }' "$W/scontrol.log" | sort | uniq -c | sort -rn
