#!/usr/bin/env bash
# Scans N emulated Redfish systems (sushy-emulator, fake driver, HTTPS + basic auth) with
# `dcapply inventory show` and, in the same run, with a sequential python3-sushy scan of the
# same fields; prints both times and their ratio. Usage: Benchmarks/redfish_scan.sh [N=120] [BMCS=1]
# (N systems spread over BMCS emulator processes).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-120}"
scripts/install-deps
dpkg -s python3-sushy >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-sushy >&2
# DCAPPLY=path/to/dcapply skips the build; SCRATCH picks the build folder (default .build).
dcapply="${DCAPPLY:-}"
if [ -z "$dcapply" ]; then
  swift build -c release --product dcapply --scratch-path "${SCRATCH:-.build}" >&2
  dcapply="$(swift build -c release --scratch-path "${SCRATCH:-.build}" --show-bin-path)/dcapply"
fi
work="$(mktemp -d)"
port="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
password="bench-$RANDOM$RANDOM"
fixtures="$PWD/Tests/DCApplyRedfishTests/Fixtures"
hash="$(.venv-redfish/bin/python3 -c 'import bcrypt,sys; print(bcrypt.hashpw(sys.argv[1].encode(), bcrypt.gensalt(4)).decode())' "$password")"
echo "admin:$hash" > "$work/htpasswd"
# N systems spread over B emulator processes (B BMCs, or aggregators), each on its own port.
b="${2:-1}"
pids=()
endpoints=()
trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; rm -rf "$work"' EXIT
for k in $(seq 0 $((b - 1))); do
  port="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  first=$((k * n / b)); last=$(((k + 1) * n / b))
  cat > "$work/emulator-$k.py" <<PY
SUSHY_EMULATOR_FAKE_DRIVER = True
SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'
SUSHY_EMULATOR_LISTEN_PORT = $port
SUSHY_EMULATOR_STATE_DIR = '$work/state-$k'
SUSHY_EMULATOR_AUTH_FILE = '$work/htpasswd'
SUSHY_EMULATOR_SSL_CERT = '$fixtures/tls/server.pem'
SUSHY_EMULATOR_SSL_KEY = '$fixtures/tls/server.key'
_range = range($first, $last)
def _uuid(i): return '27946b59-9e44-4fa7-8e91-%012d' % i
SUSHY_EMULATOR_FAKE_SYSTEMS = [{'uuid': _uuid(i), 'name': 'node-%03d' % i, 'power_state': 'On',
    'nics': [{'mac': '00:5c:52:31:%02x:%02x' % (i // 256, i % 256), 'ip': '172.22.%d.%d' % (i // 200, i % 200 + 1)}],
    'external_notifier': False} for i in _range]
SUSHY_EMULATOR_STORAGE = {_uuid(i): [{'Id': '1', 'Name': 'Local Storage Controller',
    'StorageControllers': [{'MemberId': '0', 'Name': 'RAID', 'SpeedGbps': 12}], 'Drives': ['nvme0', 'sata0']}] for i in _range}
SUSHY_EMULATOR_DRIVES = {(_uuid(i), '1'): [
    {'Id': 'nvme0', 'Name': 'nvme0', 'CapacityBytes': 7681501126656, 'Protocol': 'NVMe'},
    {'Id': 'sata0', 'Name': 'sata0', 'CapacityBytes': 1099511627776, 'Protocol': 'SATA'}] for i in _range}
PY
  .venv-redfish/bin/sushy-emulator --config "$work/emulator-$k.py" >"$work/emulator-$k.log" 2>&1 &
  pids+=($!)
  endpoints+=("https://127.0.0.1:$port")
done
for endpoint in "${endpoints[@]}"; do
  for _ in $(seq 150); do curl -sk "$endpoint/redfish/v1" >/dev/null && break; sleep 0.1; done
done
list="$(printf '"%s", ' "${endpoints[@]}")"
mkdir -p "$work/site"
cat > "$work/site/site.yaml" <<YAML
apiVersion: dcapply/v1
kind: Site
metadata: {name: bench}
spec:
  failureDomains: [rack]
  provider:
    redfish:
      endpoints: [${list%, }]
      usernameFrom: env:BMC_USER
      passwordFrom: env:BMC_PASSWORD
      caFile: $fixtures/tls/ca.pem
YAML
export BMC_USER=admin BMC_PASSWORD="$password"
now() { date +%s.%N; }
start=$(now)
nodes=$("$dcapply" inventory show "$work/site" --state memory: --output json -q | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin)["nodes"]; print(len(d), "nodes,", sum(len(n["drives"]) for n in d), "drives")')
dc=$(/usr/bin/python3 -c "print($(now) - $start)")
start=$(now)
# requests prefers these variables over an explicit CA file; unset them for the peer.
peer=$(for endpoint in "${endpoints[@]}"; do env -u REQUESTS_CA_BUNDLE -u CURL_CA_BUNDLE /usr/bin/python3 Benchmarks/redfish_sushy_scan.py "$endpoint" admin "$password" "$fixtures/tls/ca.pem"; done | /usr/bin/python3 -c 'import sys; rows=[l.split() for l in sys.stdin]; print(sum(int(r[0]) for r in rows), "systems,", sum(int(r[2]) for r in rows), "drives")')
py=$(/usr/bin/python3 -c "print($(now) - $start)")
printf 'dcapply inventory show: %s in %.2f s\npython3-sushy sequential: %s in %.2f s\nratio (sushy / dcapply): %.1fx\n' \
  "$nodes" "$dc" "$peer" "$py" "$(/usr/bin/python3 -c "print($py / $dc)")"
