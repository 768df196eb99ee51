"""What the stdlib Redfish fixtures share: a quiet handler that answers JSON, and the server."""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JSONHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=None):
        """Sends `body` (bytes) as application/json; a client that hung up is not an error."""
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


def serve(handler):
    """Serves on 127.0.0.1 at the port given as the first argument, until killed."""
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), handler).serve_forever()
