"""Stand-in model server for the ecommerce example's AI services.

Not a model: a small HTTP server with the surface a model-serving process in python:3.12-slim
has (FastAPI/uvicorn or similar), answering as one does:

  GET  /health/live   200 {"status": "ok"} while the process runs (the catalogue's probe)
  GET  /health/ready  503 until the "model" is loaded (MODEL_LOAD_SECONDS, default 2), then 200
  POST /predict       200 {"model": NAME, "score": ...} for a JSON body; 400 for another body
  anything else       404 {"detail": "Not Found"}

A build context cannot reach its parent, so the real-engine tests copy this one file into each
service's folder as server.py when they lay out the stack (tests/engine/harness.rs); each
Dockerfile sets SERVICE_NAME and PORT, the port the catalogue gives the service.
"""
import hashlib
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME = os.environ.get("SERVICE_NAME", "model")
PORT = int(os.environ.get("PORT", "8000"))
LOAD_SECONDS = float(os.environ.get("MODEL_LOAD_SECONDS", "2"))
STARTED = time.monotonic()


def loaded():
    return time.monotonic() - STARTED >= LOAD_SECONDS


class Handler(BaseHTTPRequestHandler):
    server_version = "uvicorn"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def send_json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/health/live":
            self.send_json(200, {"status": "ok"})
        elif path == "/health/ready":
            if loaded():
                self.send_json(200, {"status": "ready", "model": NAME})
            else:
                self.send_json(503, {"status": "loading", "model": NAME})
        else:
            self.send_json(404, {"detail": "Not Found"})

    do_HEAD = do_GET

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if path != "/predict":
            self.send_json(404, {"detail": "Not Found"})
            return
        if not loaded():
            self.send_json(503, {"detail": "model is loading"})
            return
        try:
            features = json.loads(raw or b"{}")
        except ValueError:
            self.send_json(400, {"detail": "body is not JSON"})
            return
        digest = hashlib.sha256(json.dumps(features, sort_keys=True).encode()).digest()
        self.send_json(200, {"model": NAME, "score": round(digest[0] / 255, 4)})

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s - %s\n" % (NAME, self.address_string(), fmt % args))


def main():
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    server.daemon_threads = True

    # PID 1 ignores SIGTERM unless it handles it: without this, `docker stop` waits 10 s.
    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"{NAME}: listening on 0.0.0.0:{PORT}", flush=True)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
