#!/usr/bin/env bash
# Plans must not change when the code is only restructured (issue 14). This writes every plan of a
# fixed set of inputs with one binary, and compares them byte for byte with a set written before.
#
#   Benchmarks/compare-plans.sh record DIR [BINARY]   write the plans into DIR
#   Benchmarks/compare-plans.sh check DIR [BINARY]    write them again and diff with DIR
#
# BINARY defaults to .build/release/dcapply. The inputs: every local example under Examples/
# (text and JSON), the sample site Manifests/ (text, JSON, markdown), and Benchmarks/sitegen.py
# sites of 1,000 and 10,000 nodes (seed 1, JSON). Runs from the repository root; needs PyYAML
# only for sitegen (as the benchmarks do). Exit status 1 when a plan differs.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?record or check}; dir=${2:?a folder for the plans}; bin=${3:-.build/release/dcapply}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
[ -x "$bin" ] || { echo "compare-plans: no binary at $bin (swift build -c release)" >&2; exit 2; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
out=$work/plans; mkdir -p "$out"

plan() {  # NAME DIR FORMAT [ARGS...]: one plan, stdout and exit status kept
    local name=$1 src=$2 format=$3; shift 3
    local status=0
    (cd "$src" && "$bin" plan . --output "$format" "$@") >"$out/$name.$format" 2>"$out/$name.$format.stderr" || status=$?
    echo "$status" >"$out/$name.$format.status"
    # The markdown footer says when the hardware was observed: the one part that must change.
    [ "$format" != markdown ] || sed -i -E 's/hardware observed [0-9TZ:-]+/hardware observed (time)/' "$out/$name.$format"
}
for ex in Examples/*/; do
    name=$(basename "$ex")
    [ -f "$ex/inventory.yaml" ] || continue   # the Redfish example needs an emulator
    for f in text json; do plan "example-$name" "$ex" "$f"; done
done
for f in text json markdown; do plan manifests Manifests "$f"; done
for n in 1000 10000; do
    python3 Benchmarks/sitegen.py --nodes "$n" --out "$work/site$n" --seed 1 >/dev/null
    start=$(date +%s.%N)
    plan "sitegen-$n" "$work/site$n" json
    echo "compare-plans: sitegen $n nodes planned in $(echo "$(date +%s.%N) - $start" | bc) s" >&2
done
count=$(ls "$out" | grep -vc '\.stderr$\|\.status$')
case $mode in
record)
    rm -rf "$dir"; mkdir -p "$dir"; cp "$out"/* "$dir"/
    echo "compare-plans: recorded $count plans in $dir" >&2 ;;
check)
    if diff -r -q "$dir" "$out" >"$work/diff.txt"; then
        echo "compare-plans: $count plans byte-identical to $dir" >&2
    else
        cat "$work/diff.txt" >&2
        for f in $(awk '/differ$/ {print $2}' "$work/diff.txt"); do diff -u "$f" "$out/$(basename "$f")" | head -40 >&2; done
        echo "compare-plans: plans differ from $dir" >&2; exit 1
    fi ;;
*) echo "compare-plans: record or check, not $mode" >&2; exit 2 ;;
esac
