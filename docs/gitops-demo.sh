#!/usr/bin/env bash
# GitOps demo: `dcapply serve` follows a local bare repository; each pushed commit is applied
# within one interval, and within 2 s of a signed webhook. Prints the measured latencies.
#
#   swift build && DCAPPLY=$PWD/.build/debug/dcapply docs/gitops-demo.sh
#
# Everything lives in a temporary folder that is removed at the end; nothing else is touched.
set -euo pipefail
dcapply=${DCAPPLY:-dcapply}
examples=$(cd "$(dirname "$0")/../Examples/quickstart" && pwd)
interval=${INTERVAL:-2s}
demo=$(mktemp -d)
daemon=""
cleanup() { [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null; rm -rf "$demo"; }
trap cleanup EXIT
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME="$demo"
export GIT_AUTHOR_NAME=Demo GIT_AUTHOR_EMAIL=demo@example.com GIT_COMMITTER_NAME=Demo GIT_COMMITTER_EMAIL=demo@example.com
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.2f}')"; }

# 1. A bare "remote" and a clone holding the quickstart site.
git init -q --bare -b main "$demo/remote.git"
git clone -q "$demo/remote.git" "$demo/work" 2>/dev/null
mkdir -p "$demo/work/manifests" && cp "$examples/site.yaml" "$examples/inventory.yaml" "$demo/work/manifests/"
git -C "$demo/work" add -A && git -C "$demo/work" commit -qm "Quickstart site" && git -C "$demo/work" push -q origin main
printf 's3cret' > "$demo/secret"

# 2. The daemon, on a free port.
(cd "$demo" && exec "$dcapply" serve --repo "$demo/remote.git" --branch main --path manifests --interval "$interval" \
    --listen 127.0.0.1:0 --webhook-secret-file "$demo/secret" --state "sqlite:$demo/state.db" 2>"$demo/serve.log") &
daemon=$!
for _ in $(seq 200); do grep -q "listening on" "$demo/serve.log" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$demo/serve.log" | head -1)
url="http://127.0.0.1:$port"
echo "serve: $url (interval $interval)"

applied() { curl -s --noproxy "*" "$url/status" | grep -q "\"lastAppliedRevision\" : \"$1\""; }
wait_applied() { for _ in $(seq 1500); do applied "$1" && return 0; sleep 0.02; done; echo "not applied: $1" >&2; return 1; }
commit() {  # commit "message" N M: the workload's replicas N -> M in site.yaml, commit, push; prints the sha
  sed -i "s/^  replicas: $2\$/  replicas: $3/" "$demo/work/manifests/site.yaml"
  git -C "$demo/work" commit -qam "$1" && git -C "$demo/work" push -q origin main
  git -C "$demo/work" rev-parse HEAD
}

wait_applied "$(git -C "$demo/work" rev-parse HEAD)"
echo "first revision applied"

# 3. A push, picked up by the interval.
start=$(now); sha=$(commit "Two replicas" 4 2); wait_applied "$sha"
echo "push → applied by the interval: $(elapsed "$start" "$(now)") s"

# 4. A push announced by a signed webhook.
start=$(now); sha=$(commit "Three replicas" 2 3)
body='{"ref":"refs/heads/main"}'
signature=$(python3 -c 'import hashlib, hmac, sys; print(hmac.new(b"s3cret", sys.argv[1].encode(), hashlib.sha256).hexdigest())' "$body")
curl -s --noproxy "*" -o /dev/null -w "webhook: HTTP %{http_code}\n" -H "X-Hub-Signature-256: sha256=$signature" --data-binary "$body" "$url/hooks/git"
wait_applied "$sha"
echo "push + webhook → applied: $(elapsed "$start" "$(now)") s"

# 5. An invalid commit is refused; the site stays on the last good revision.
bad=$(commit "Broken" 3 lots)
for _ in $(seq 500); do curl -s --noproxy "*" "$url/status" | grep -q "\"refusedRevision\" : \"$bad\"" && break; sleep 0.02; done
curl -s --noproxy "*" "$url/status" | grep -E '"(lastAppliedRevision|lastAttemptedRevision|lastError)"'
git -C "$demo/work" revert --no-edit HEAD >/dev/null && git -C "$demo/work" push -q origin main
wait_applied "$(git -C "$demo/work" rev-parse HEAD)"
echo "revert applied; metrics:"
curl -s --noproxy "*" "$url/metrics" | grep -E '^dcapply_(reconcile_total|revisions_refused_total|changes_applied_total|reconcile_duration_seconds_(sum|count))'
kill -TERM "$daemon"; wait "$daemon"; echo "serve exited $?"; daemon=""
