# sushy-emulator settings for this example: three fake systems, HTTPS with the test CA's
# certificate, basic auth from ./htpasswd. Run from the repository root:
#   .venv-redfish/bin/sushy-emulator --config Examples/redfish/emulator.py
import os
_here = os.path.dirname(os.path.abspath(__file__))
_tls = os.path.join(_here, '..', '..', 'Tests', 'DCApplyRedfishTests', 'Fixtures', 'tls')
N = 3
SUSHY_EMULATOR_FAKE_DRIVER = True
SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'
SUSHY_EMULATOR_LISTEN_PORT = 8443
SUSHY_EMULATOR_STATE_DIR = os.environ.get('EMULATOR_STATE', '/tmp/dcapply-redfish-example')
SUSHY_EMULATOR_SSL_CERT = os.path.join(_tls, 'server.pem')
SUSHY_EMULATOR_SSL_KEY = os.path.join(_tls, 'server.key')
SUSHY_EMULATOR_AUTH_FILE = os.path.join(_here, 'htpasswd')
def _uuid(i): return '27946b59-9e44-4fa7-8e91-%012d' % i
SUSHY_EMULATOR_FAKE_SYSTEMS = [{'uuid': _uuid(i), 'name': 'node-%02d' % i, 'power_state': 'Off',
    'nics': [{'mac': '00:5c:52:31:3a:%02x' % i, 'ip': '172.22.0.%d' % (i + 1)}], 'external_notifier': False}
    for i in range(N)]
SUSHY_EMULATOR_STORAGE = {_uuid(i): [{'Id': '1', 'Name': 'Local Storage Controller',
    'StorageControllers': [{'MemberId': '0', 'Name': 'RAID', 'SpeedGbps': 12}], 'Drives': ['nvme0', 'sata0']}]
    for i in range(N)}
SUSHY_EMULATOR_DRIVES = {(_uuid(i), '1'): [
    {'Id': 'nvme0', 'Name': 'nvme0', 'CapacityBytes': 7681501126656, 'Protocol': 'NVMe'},
    {'Id': 'sata0', 'Name': 'sata0', 'CapacityBytes': 1099511627776, 'Protocol': 'SATA'}] for i in range(N)}
