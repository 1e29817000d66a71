#!/usr/bin/env python3
"""A remote-write receiver that accepts and discards, for `make bench`.

The sinks benchmark's remote-write row against VictoriaMetrics measures our sender and a receiver
sharing two cores: when the receiver cannot keep up, the sender spools, and the row measures the
spool. This receiver costs almost nothing per request (reads the body, answers 204), so the
"null receiver" row measures the sender's direct path alone, as a receiver on another machine
would let it run. It checks only what is cheap: the headers remote write requires and that the
body is non-empty. Usage: null_receiver.py PORT_FILE STATS_FILE (writes the port it bound, then
rewrites STATS_FILE every second with requests, bytes and refused requests).
"""
import json, os, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

stats = {"requests": 0, "bytes": 0, "refused": 0}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        ok = (self.headers.get("Content-Encoding") == "snappy"
              and self.headers.get("Content-Type") == "application/x-protobuf"
              and self.headers.get("X-Prometheus-Remote-Write-Version", "").startswith("0.1")
              and len(body) == length > 0)
        with lock:
            stats["requests" if ok else "refused"] += 1
            stats["bytes"] += length
        self.send_response(204 if ok else 400)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    port_file, stats_file = sys.argv[1], sys.argv[2]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(port_file + ".tmp", port_file)

    def dump():
        while True:
            time.sleep(1)
            with lock:
                text = json.dumps(stats)
            with open(stats_file + ".tmp", "w") as f:
                f.write(text)
            os.replace(stats_file + ".tmp", stats_file)

    threading.Thread(target=dump, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
