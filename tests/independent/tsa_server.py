#!/usr/bin/env python3
"""A tiny RFC 3161 time-stamping authority over HTTP, for tests.

Each POST of an ``application/timestamp-query`` body is handed to the real
``openssl ts -reply -config CONFIG -queryfile … -out …`` and its answer is sent back as
``application/timestamp-reply`` (RFC 3161 §3.4). OpenSSL makes every decision a TSA
makes (granting, rejecting, signing); this wrapper only carries bytes, so what Consentry
is tested against is OpenSSL's TSA, not a mock.

If ``openssl`` fails (e.g. a broken configuration) the answer is HTTP 500 with its error
text, as a TSA whose back end is down would answer. ``GET /`` answers 200 ``ok``.

Usage: tsa_server.py PORT CONFIG
PORT 0 picks a free port. The server listens on 127.0.0.1 only and prints
``listening on 127.0.0.1:PORT`` once it accepts connections. Standard library only.
"""

import http.server
import os
import subprocess
import sys
import tempfile
import threading

MAX_QUERY_BYTES = 64 * 1024

# `openssl ts -reply` updates the serial file: one signing at a time.
SIGN_LOCK = threading.Lock()


def make_handler(config):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def send(self, status, content_type, body):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self.send(200, "text/plain", b"ok\n")

        def do_POST(self):
            content_type = self.headers.get("Content-Type", "").split(";")[0].strip()
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_QUERY_BYTES:
                self.send(400, "text/plain", b"a time-stamp query body is required\n")
                return
            query = self.rfile.read(length)
            if content_type != "application/timestamp-query":
                self.send(415, "text/plain", b"expected application/timestamp-query\n")
                return
            with tempfile.TemporaryDirectory() as work:
                query_path = os.path.join(work, "query.tsq")
                reply_path = os.path.join(work, "reply.tsr")
                with open(query_path, "wb") as f:
                    f.write(query)
                with SIGN_LOCK:
                    done = subprocess.run(
                        ["openssl", "ts", "-reply", "-config", config,
                         "-queryfile", query_path, "-out", reply_path],
                        capture_output=True,
                    )
                if done.returncode != 0 or not os.path.exists(reply_path):
                    self.send(500, "text/plain", b"openssl ts -reply failed:\n" + done.stderr)
                    return
                with open(reply_path, "rb") as f:
                    reply = f.read()
            self.send(200, "application/timestamp-reply", reply)

        def log_message(self, format, *args):
            sys.stderr.write("tsa_server: " + (format % args) + "\n")

    return Handler


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: tsa_server.py PORT CONFIG\n")
        return 2
    port, config = int(sys.argv[1]), sys.argv[2]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), make_handler(config))
    print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
