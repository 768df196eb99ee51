"""A minimal Redfish service with a SessionService, for dcapply's session-auth test (stdlib only).

POST /redfish/v1/SessionService/Sessions with {"UserName", "Password"} answers 201 with an
X-Auth-Token and a Location; every other path but the service root needs that token (401
otherwise; basic auth is refused). DELETE on the Location ends the session. GET /stats tells
how many sessions were opened and are still open.
Usage: python3 session_redfish.py PORT USER PASSWORD
"""
import json
import secrets
import sys

from json_service import JSONHandler, serve

PORT, USER, PASSWORD = int(sys.argv[1]), sys.argv[2], sys.argv[3]
SESSIONS = {}
OPENED = [0]
SYSTEM = "/redfish/v1/Systems/1"
DOCS = {
    "/redfish/v1": {"Id": "RootService", "Systems": {"@odata.id": "/redfish/v1/Systems"},
                    "SessionService": {"@odata.id": "/redfish/v1/SessionService"},
                    "Links": {"Sessions": {"@odata.id": "/redfish/v1/SessionService/Sessions"}}},
    "/redfish/v1/Systems": {"Members": [{"@odata.id": SYSTEM}]},
    SYSTEM: {"Id": "1", "Name": "Session", "HostName": "sess-node", "PowerState": "Off",
             "Status": {"State": "Enabled", "Health": "OK"},
             "MemorySummary": {"TotalSystemMemoryGiB": 512}, "ProcessorSummary": {"CoreCount": 32}},
}


class Handler(JSONHandler):
    def authorized(self):
        return self.headers.get("X-Auth-Token") in SESSIONS.values()

    def do_GET(self):
        path = self.path.rstrip("/")
        if path == "/stats":
            return self.reply(200, {"opened": OPENED[0], "open": len(SESSIONS)})
        if path != "/redfish/v1" and not self.authorized():
            return self.reply(401, {"error": {"code": "Base.1.0.NoValidSession"}})
        if path in DOCS:
            return self.reply(200, DOCS[path])
        return self.reply(404, {"error": {"code": "Base.1.0.ResourceMissingAtURI"}})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if self.path.rstrip("/") != "/redfish/v1/SessionService/Sessions":
            return self.reply(404, {})
        if body.get("UserName") != USER or body.get("Password") != PASSWORD:
            return self.reply(401, {"error": {"code": "Base.1.0.InsufficientPrivilege"}})
        OPENED[0] += 1
        session_id = str(OPENED[0])
        SESSIONS[session_id] = secrets.token_hex(16)
        self.reply(201, {"Id": session_id}, {"X-Auth-Token": SESSIONS[session_id],
                                              "Location": "/redfish/v1/SessionService/Sessions/" + session_id})

    def do_DELETE(self):
        session_id = self.path.rstrip("/").rsplit("/", 1)[-1]
        if not self.authorized() or session_id not in SESSIONS:
            return self.reply(401, {})
        del SESSIONS[session_id]
        self.reply(204, None)

    def reply(self, status, document, headers=None):
        self.answer(status, b"" if document is None else json.dumps(document).encode(), headers)


serve(Handler)
