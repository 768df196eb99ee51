"""A deliberately broken Redfish service for dcapply's fault tests (stdlib only).

One System whose Processors answer 500, whose Memory answers malformed JSON, whose Storage
answers after a delay longer than the client's timeout, and whose Chassis is fine.
Usage: python3 faulty_redfish.py PORT
"""
import json
import sys
import time

from json_service import JSONHandler, serve

SYSTEM = "/redfish/v1/Systems/sys1"
DOCS = {
    "/redfish/v1": {"Id": "RootService", "Systems": {"@odata.id": "/redfish/v1/Systems"}},
    "/redfish/v1/Systems": {"Members": [{"@odata.id": SYSTEM}]},
    SYSTEM: {
        "Id": "sys1", "Name": "Faulty", "UUID": "00000000-0000-0000-0000-00000000fa17",
        "PowerState": "On", "Status": {"State": "Enabled", "Health": "Warning"},
        "ProcessorSummary": {"CoreCount": 64}, "MemorySummary": {},
        "Processors": {"@odata.id": SYSTEM + "/Processors"},
        "Memory": {"@odata.id": SYSTEM + "/Memory"},
        "Storage": {"@odata.id": SYSTEM + "/Storage"},
        "Links": {"Chassis": [{"@odata.id": "/redfish/v1/Chassis/c1"}]},
    },
    "/redfish/v1/Chassis/c1": {"Id": "c1", "Location": {"Placement": {"Rack": "r09", "Row": "3"}}},
}


class Handler(JSONHandler):
    def do_GET(self):
        path = self.path.rstrip("/")
        if path == SYSTEM + "/Processors":
            return self.answer(500, b'{"error": {"code": "Base.1.0.GeneralError"}}')
        if path == SYSTEM + "/Memory":
            return self.answer(200, b'{"Members": [')
        if path == SYSTEM + "/Storage":
            time.sleep(3)
            return self.answer(200, b'{"Members": []}')
        if path in DOCS:
            return self.answer(200, json.dumps(DOCS[path]).encode())
        return self.answer(404, b'{"error": {"code": "Base.1.0.ResourceMissingAtURI"}}')


serve(Handler)
