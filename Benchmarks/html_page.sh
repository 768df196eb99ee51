#!/usr/bin/env bash
# The HTML pages of a large synthetic site (issue 17): their size, the time to render them in
# dcapply, and the time headless Chromium takes to load and lay them out.
#
# usage: Benchmarks/html_page.sh [NODES]     (default 10000; run from the repository root)
#
# 1. sitegen.py writes the site; `dcapply plan --out` saves its plan (planning is not measured).
# 2. DCAPPLY_HTML_BENCH=DIR swift test --filter PageBenchmark renders the plan page and serve's
#    status page (what GET / renders per request) three times each, in the test build (debug).
# 3. chromedriver + headless Chromium (Debian's) load each page from a file; the page's own
#    Navigation Timing gives DOMContentLoaded, load and first contentful paint, and a forced
#    layout after load gives the time until the whole map is laid out.
# 4. With SERVE=1: `dcapply serve` (DCAPPLY_BINARY, best a release build) follows a local git
#    repository holding a site of the same size at 30% load (SERVE_LOAD; at the default 60% some
#    replicas cannot be placed and serve rightly refuses the revision); once it has applied it,
#    GET / is timed with curl 5 times.
# Needs: swift build --build-tests done, chromium and chromium-driver installed.
set -euo pipefail
nodes="${1:-10000}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dcapply="${DCAPPLY_BINARY:-$root/.build/debug/dcapply}"
dir="$root/.build/html-bench-$nodes"
mkdir -p "$dir"
python3 "$root/Benchmarks/sitegen.py" --nodes "$nodes" --out "$dir" >/dev/null
rm -f "$dir/sitegen.json"
if [ ! -s "$dir/plan.json" ]; then
  echo "html_page: planning $nodes nodes (not measured)…" >&2
  "$dcapply" plan "$dir" --state memory: --out "$dir/plan.json" -o json >/dev/null 2>&1 || true
fi
echo "== render (dcapply, debug build unless DCAPPLY_BINARY's tests were built in release)"
DCAPPLY_HTML_BENCH="$dir" swift test --skip-build --filter PageBenchmark 2>&1 | grep "html-bench:" || {
  echo "html_page: the benchmark did not run; build the tests first (swift build --build-tests)" >&2; exit 1; }

echo "== browser (headless Chromium, file:// load, 3 runs each)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
chromedriver --port="$port" --allowed-ips=127.0.0.1 >"$dir/chromedriver.log" 2>&1 &
driver=$!
trap 'curl -s -m 5 "http://127.0.0.1:$port/shutdown" >/dev/null 2>&1 || true; sleep 1; kill "$driver" 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -s -m 2 "http://127.0.0.1:$port/status" | grep -q '"ready":true' && break; sleep 0.2; done
wd() { curl -s -m 120 -X "$1" -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "http://127.0.0.1:$port$2"; }
session=$(wd POST /session '{"capabilities":{"alwaysMatch":{"browserName":"chrome","goog:chromeOptions":{"binary":"/usr/bin/chromium","args":["--headless=new","--no-sandbox","--disable-gpu","--disable-dev-shm-usage","--window-size=1400,1000"]}}}}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["value"]["sessionId"])')
measure='var n = performance.getEntriesByType("navigation")[0]; var p = performance.getEntriesByType("paint").filter(function (e) { return e.name === "first-contentful-paint"; })[0];
document.body.offsetHeight; var laidOut = performance.now();
return [Math.round(n.domContentLoadedEventEnd), Math.round(n.loadEventEnd), p ? Math.round(p.startTime) : -1, Math.round(laidOut), document.querySelectorAll("#map .node").length];'
for page in plan status; do
  size=$(stat -c %s "$dir/$page.html")
  for run in 1 2 3; do
    wd POST "/session/$session/url" "{\"url\":\"file://$dir/$page.html\"}" >/dev/null
    wd POST "/session/$session/execute/sync" "$(python3 -c 'import json,sys; print(json.dumps({"script": sys.argv[1], "args": []}))' "$measure")" \
      | python3 -c 'import json,sys; v=json.load(sys.stdin)["value"]; print("html-bench: %s page in chromium, run %s: %d bytes, %d cells; DOMContentLoaded %d ms, load %d ms, first contentful paint %d ms, laid out %d ms" % (sys.argv[1], sys.argv[2], int(sys.argv[3]), v[4], v[0], v[1], v[2], v[3]))' "$page" "$run" "$size"
  done
done
wd DELETE "/session/$session" >/dev/null

if [ "${SERVE:-0}" = "1" ]; then
  echo "== served (dcapply serve, $dcapply)"
  sdir="$root/.build/html-serve-$nodes"
  mkdir -p "$sdir"
  python3 "$root/Benchmarks/sitegen.py" --nodes "$nodes" --load "${SERVE_LOAD:-0.3}" --out "$sdir" >/dev/null
  rm -f "$sdir/sitegen.json"
  dir="$sdir"
  git init -q --bare -b main "$dir/remote.git" 2>/dev/null || true
  rm -rf "$dir/work" "$dir/serve-cache" "$dir/serve.db"
  git init -q -b main "$dir/work" && mkdir -p "$dir/work/site"
  cp "$dir"/*.yaml "$dir/work/site/"
  git -C "$dir/work" add -A && git -C "$dir/work" commit -q -m "site" && git -C "$dir/work" push -q -f "$dir/remote.git" main
  head=$(git -C "$dir/work" rev-parse HEAD)
  "$dcapply" serve --repo "file://$dir/remote.git" --branch main --path site --interval 10m --listen 127.0.0.1:0 \
    --state "sqlite:$dir/serve.db" --cache "$dir/serve-cache" --allow-destroy >"$dir/serve.log" 2>&1 &
  serve=$!
  trap 'kill $serve 2>/dev/null || true; curl -s -m 5 "http://127.0.0.1:$port/shutdown" >/dev/null 2>&1 || true; sleep 1; kill "$driver" 2>/dev/null || true' EXIT
  sport=""
  for _ in $(seq 600); do
    sport=$(sed -n 's/^dcapply serve: listening on 127.0.0.1:\([0-9]*\),.*/\1/p' "$dir/serve.log"); [ -n "$sport" ] && break; sleep 0.5
  done
  start=$(date +%s)
  for _ in $(seq 1200); do  # the first pass plans and applies the whole site
    curl -s --noproxy '*' "http://127.0.0.1:$sport/status" | grep -Eq "\"(lastAttemptedRevision|refusedRevision)\" : \"$head\"" \
      && curl -s --noproxy '*' "http://127.0.0.1:$sport/status" | grep -q '"reconcileCount" : [1-9]' && break
    sleep 1
  done
  echo "html-bench: serve's first pass took about $(( $(date +%s) - start )) s; lastApplied: $(curl -s --noproxy '*' "http://127.0.0.1:$sport/status" | grep -o '"lastAppliedRevision" : "[0-9a-f]*"')"
  for run in 1 2 3 4 5; do
    curl -s --noproxy '*' -o "$dir/served.html" -w "html-bench: GET / run $run: %{size_download} bytes in %{time_total} s (first byte %{time_starttransfer} s)\n" "http://127.0.0.1:$sport/"
  done
  kill "$serve"; wait "$serve" 2>/dev/null || true
fi
