#!/usr/bin/env python3
"""A webhook endpoint for the notification tests (also standing in for ntfy's and Gotify's publish
endpoints): answers 503 to the first FAILS requests, then 200, and appends every accepted request
(path, headers, body as JSON where it is JSON, and as text) as one JSON line to OUT. Prints "ready"
once listening."""
import errno
import http.server
import json
import sys
import time

port, fails, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
seen = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        seen += 1
        if seen <= fails:
            self.send_response(503)
            self.end_headers()
            self.wfile.write(b"not yet")
            return
        text = body.decode("utf-8")
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None  # ntfy publishes the message as plain text
        with open(out, "a") as f:
            f.write(json.dumps({"path": self.path, "headers": dict(self.headers), "body": parsed, "text": text}) + "\n")
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


# The test chose the port before the daemon's first run (the webhook is down then); meanwhile a
# short-lived connection of another test may hold it as its local port. Wait for it, bounded.
deadline = time.monotonic() + 15
while True:
    try:
        server = http.server.HTTPServer(("127.0.0.1", port), Handler)
        break
    except OSError as error:
        if error.errno != errno.EADDRINUSE or time.monotonic() > deadline:
            raise
        time.sleep(0.1)
print("ready", flush=True)
server.serve_forever()
