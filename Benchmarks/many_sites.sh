#!/usr/bin/env bash
# One `dcapply serve` over many sites (issue 16 item 4): the quickstart copied into sites/s1..sN
# of a local git repository, `--path 'sites/*'`, `--state memory:`. Prints the wall time from
# start until /readyz answers 200 (every site's first apply done), then the process's user CPU
# and peak RSS (/usr/bin/time -v) after IDLE more seconds of folder matching (default 0).
#
# usage: Benchmarks/many_sites.sh [SITES]    (default 20; run from the repository root)
#        DCAPPLY=path (default .build/release/dcapply), IDLE=seconds
set -euo pipefail
n=${1:-20}
dcapply=${DCAPPLY:-.build/release/dcapply}
examples=$(pwd)/Examples/quickstart
dcapply=$(cd "$(dirname "$dcapply")" && pwd)/$(basename "$dcapply")
root=$(mktemp -d /tmp/dcapply-many-sites.XXXX)
trap 'rm -rf "$root"' EXIT
git init -q --bare -b main "$root/remote.git"
git init -q -b main "$root/work"
for i in $(seq -w 1 "$n"); do
  d="$root/work/sites/s$i"; mkdir -p "$d"
  cp "$examples/inventory.yaml" "$d/"
  sed -e "s/  name: lab$/  name: s$i/" -e "s/  site: lab$/  site: s$i/" "$examples/site.yaml" > "$d/site.yaml"
done
(cd "$root/work" && git add . && git -c user.name=b -c user.email=b@example.com -c commit.gpgsign=false commit -qm sites \
  && git push -q "$root/remote.git" main)
cd "$root"
start=$(date +%s.%N)
/usr/bin/time -v -o "$root/time.txt" "$dcapply" serve --repo "file://$root/remote.git" --branch main --path 'sites/*' \
  --state memory: --interval 60s --listen 127.0.0.1:0 --solve-time 0.2 --cache "$root/cache" > "$root/serve.log" 2>&1 &
timer=$!
port=""
for _ in $(seq 1 3000); do
  port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$root/serve.log" | head -1 | sed 's/.*://') || true
  [ -n "$port" ] && break
  sleep 0.05
done
ready=no
for _ in $(seq 1 6000); do
  if curl -s --noproxy '*' -m 5 -o "$root/ready.txt" -w '%{http_code}' "http://127.0.0.1:$port/readyz" | grep -q 200; then ready=yes; break; fi
  sleep 0.05
done
end=$(date +%s.%N)
sleep "${IDLE:-0}"
serve=$(pgrep -P "$timer" || true)
kill -TERM "${serve:-$timer}"
wait "$timer" || true
echo "sites=$n ready=$ready wall_to_ready=$(echo "$end - $start" | bc) s idle=${IDLE:-0} s load=$(cut -d' ' -f1-3 /proc/loadavg)"
grep -E "User time|System time|Maximum resident" "$root/time.txt"
