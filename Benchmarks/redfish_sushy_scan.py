"""The peer of dcapply's Redfish scan: a sequential scan with DMTF-style Python client
python3-sushy (Debian), collecting the same fields dcapply reads for every System (power state,
health, processors, memory, drives with media/protocol/capacity/encryption, chassis location).

Usage: /usr/bin/python3 redfish_sushy_scan.py URL USER PASSWORD CAFILE  -> prints "N systems, D drives"
"""
import sys
import warnings

import sushy
from sushy import exceptions

warnings.filterwarnings("ignore")
url, user, password, ca = sys.argv[1:5]
root = sushy.Sushy(url + "/redfish/v1", verify=ca, auth=sushy.auth.BasicAuth(username=user, password=password))
systems = drives = 0
for system in root.get_system_collection().get_members():
    systems += 1
    _ = (system.uuid, system.name, system.power_state, system.status)
    for getter in (lambda: system.processors.get_members(), lambda: system.memory.get_members()):
        try:
            [(p.processor_type, p.model, p.total_cores) for p in getter()] if getter else None
        except (exceptions.SushyError, AttributeError):
            pass  # 501 / 404 on the emulator, as for dcapply
    try:
        for storage in system.storage.get_members():
            for drive in storage.drives:
                drives += 1
                _ = (drive.identity, drive.media_type, drive.protocol, drive.capacity_bytes, drive.json.get("EncryptionAbility"))
    except exceptions.SushyError:
        pass
    try:
        for chassis_link in system.json.get("Links", {}).get("Chassis", [])[:1]:
            _ = root.get_chassis(chassis_link["@odata.id"]).json.get("Location")
    except exceptions.SushyError:
        pass
print(f"{systems} systems, {drives} drives")
