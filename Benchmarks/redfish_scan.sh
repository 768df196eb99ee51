#!/usr/bin/env bash
# Scans N emulated Redfish systems (sushy-emulator, fake driver, HTTPS + basic auth) with
# `dcapply inventory show` and, in the same run, with a sequential python3-sushy scan of the
# same fields; prints both times and their ratio. Usage: Benchmarks/redfish_scan.sh [N=120]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-120}"
scripts/install-deps
dpkg -s python3-sushy >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-sushy >&2
swift build -c release --product dcapply >&2
dcapply="$(swift build -c release --show-bin-path)/dcapply"
work="$(mktemp -d)"
port="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
password="bench-$RANDOM$RANDOM"
fixtures="$PWD/Tests/DCApplyRedfishTests/Fixtures"
hash="$(.venv-redfish/bin/python3 -c 'import bcrypt,sys; print(bcrypt.hashpw(sys.argv[1].encode(), bcrypt.gensalt(4)).decode())' "$password")"
echo "admin:$hash" > "$work/htpasswd"
cat > "$work/emulator.py" <<PY
N = $n
SUSHY_EMULATOR_FAKE_DRIVER = True
SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'
SUSHY_EMULATOR_LISTEN_PORT = $port
SUSHY_EMULATOR_STATE_DIR = '$work/state'
SUSHY_EMULATOR_AUTH_FILE = '$work/htpasswd'
SUSHY_EMULATOR_SSL_CERT = '$fixtures/tls/server.pem'
SUSHY_EMULATOR_SSL_KEY = '$fixtures/tls/server.key'
def _uuid(i): return '27946b59-9e44-4fa7-8e91-%012d' % i
SUSHY_EMULATOR_FAKE_SYSTEMS = [{'uuid': _uuid(i), 'name': 'node-%03d' % i, 'power_state': 'On',
    'nics': [{'mac': '00:5c:52:31:%02x:%02x' % (i // 256, i % 256), 'ip': '172.22.%d.%d' % (i // 200, i % 200 + 1)}],
    'external_notifier': False} for i in range(N)]
SUSHY_EMULATOR_STORAGE = {_uuid(i): [{'Id': '1', 'Name': 'Local Storage Controller',
    'StorageControllers': [{'MemberId': '0', 'Name': 'RAID', 'SpeedGbps': 12}], 'Drives': ['nvme0', 'sata0']}] for i in range(N)}
SUSHY_EMULATOR_DRIVES = {(_uuid(i), '1'): [
    {'Id': 'nvme0', 'Name': 'nvme0', 'CapacityBytes': 7681501126656, 'Protocol': 'NVMe'},
    {'Id': 'sata0', 'Name': 'sata0', 'CapacityBytes': 1099511627776, 'Protocol': 'SATA'}] for i in range(N)}
PY
.venv-redfish/bin/sushy-emulator --config "$work/emulator.py" >"$work/emulator.log" 2>&1 &
emulator=$!
trap 'kill $emulator 2>/dev/null; wait $emulator 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sk "https://127.0.0.1:$port/redfish/v1" >/dev/null && break; sleep 0.1; done
mkdir -p "$work/site"
cat > "$work/site/site.yaml" <<YAML
apiVersion: dcapply/v1
kind: Site
metadata: {name: bench}
spec:
  failureDomains: [rack]
  provider:
    redfish:
      endpoints: ["https://127.0.0.1:$port"]
      usernameFrom: env:BMC_USER
      passwordFrom: env:BMC_PASSWORD
      caFile: $fixtures/tls/ca.pem
YAML
export BMC_USER=admin BMC_PASSWORD="$password"
now() { date +%s.%N; }
start=$(now)
nodes=$("$dcapply" inventory show "$work/site" --state memory: --output json -q | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin)["nodes"]; print(len(d), "nodes,", sum(len(n["drives"]) for n in d), "drives")')
dc=$(echo "$(now) - $start" | bc)
start=$(now)
peer=$(/usr/bin/python3 Benchmarks/redfish_sushy_scan.py "https://127.0.0.1:$port" admin "$password" "$fixtures/tls/ca.pem")
py=$(echo "$(now) - $start" | bc)
printf 'dcapply inventory show: %s in %.2f s\npython3-sushy sequential: %s in %.2f s\nratio (sushy / dcapply): %.1fx\n' \
  "$nodes" "$dc" "$peer" "$py" "$(echo "$py / $dc" | bc -l)"
