"""A Redfish service with storage shapes real BMCs produce (stdlib only), for dcapply's tests.

One System, "odd-1", whose Storage collection lists:
  - Storage/1: a Drives array with one good NVMe drive, one drive without CapacityBytes and one
    drive that says neither its Protocol nor its MediaType;
  - Storage/2: "Drives" that is an object, not an array;
  - Storage/3: a member link that answers 404.
Usage: python3 odd_redfish.py PORT
"""
import json
import sys

from json_service import JSONHandler, serve

SYSTEM = "/redfish/v1/Systems/odd-1"
STORAGE = SYSTEM + "/Storage"


def link(path):
    return {"@odata.id": path}


DOCS = {
    "/redfish/v1": {"Id": "RootService", "Systems": link("/redfish/v1/Systems")},
    "/redfish/v1/Systems": {"Members": [link(SYSTEM)]},
    SYSTEM: {
        "Id": "odd-1", "Name": "Odd", "UUID": "00000000-0000-0000-0000-0000000000dd",
        "PowerState": "On", "Status": {"State": "Enabled", "Health": "OK"},
        "ProcessorSummary": {"CoreCount": 32}, "MemorySummary": {"TotalSystemMemoryGiB": 256},
        "Storage": link(STORAGE),
    },
    STORAGE: {"Members": [link(STORAGE + "/1"), link(STORAGE + "/2"), link(STORAGE + "/3")]},
    STORAGE + "/1": {"Id": "1", "Drives": [link(STORAGE + "/1/Drives/good"), link(STORAGE + "/1/Drives/nosize"),
                                           link(STORAGE + "/1/Drives/nomedia")]},
    STORAGE + "/1/Drives/good": {"Id": "good", "Protocol": "NVMe", "CapacityBytes": 3840755982336},
    STORAGE + "/1/Drives/nosize": {"Id": "nosize", "Protocol": "NVMe"},
    STORAGE + "/1/Drives/nomedia": {"Id": "nomedia", "CapacityBytes": 960197124096},
    STORAGE + "/2": {"Id": "2", "Drives": link(STORAGE + "/2/Drives")},
}


class Handler(JSONHandler):
    def do_GET(self):
        path = self.path.rstrip("/")
        if path in DOCS:
            return self.answer(200, json.dumps(DOCS[path]).encode())
        return self.answer(404, b'{"error": {"code": "Base.1.0.ResourceMissingAtURI"}}')


serve(Handler)
