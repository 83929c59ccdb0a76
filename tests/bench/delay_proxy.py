"""delay_proxy.py -- a small HTTP/1.1 proxy on loopback that adds a fixed delay to every
response, for tests/bench/pizza_likes.py (step e: a slow dependency must not slow the event
loop of the service calling it).

    delay_proxy.py --target http://127.0.0.1:8002 --delay-ms 200 [--port 0]

prints `PORT <n>` (flushed) once it listens on 127.0.0.1:<n>, then serves until SIGTERM or
SIGINT (or until its parent dies: PR_SET_PDEATHSIG), and exits 0.

Design. One thread per client connection (ThreadingHTTPServer), keep-alive on both sides:
each handler thread keeps its own http.client connection to the target, so a client that
reuses its connection (libcurl in the remote model) costs one upstream connection too. A
request is read whole (Content-Length bodies only: the Tizza services never send chunked
requests), forwarded with its headers minus the hop-by-hop ones, the answer read whole,
then the thread sleeps --delay-ms and sends it back with a Content-Length. Answers from the
target pass through unchanged (status, headers, body); a target that cannot be reached
gives 502. Only the standard library is used. """
import argparse
import ctypes
import http.client
import http.server
import signal
import sys
import threading
import time
import urllib.parse

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
              "trailer", "upgrade", "content-length", "host"}
PR_SET_PDEATHSIG = 1


class Proxy(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port, target, delay):
        self.target = urllib.parse.urlsplit(target)
        self.delay = delay
        super().__init__(("127.0.0.1", port), Handler)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: thousands of requests per run
        pass

    def upstream(self):
        if getattr(self, "_conn", None) is None:
            t = self.server.target
            self._conn = http.client.HTTPConnection(t.hostname, t.port or 80, timeout=30)
        return self._conn

    def forward(self, body):
        """(status, headers, body) from the target; one retry on a stale kept-alive
        connection."""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        t = self.server.target
        headers["Host"] = "%s:%d" % (t.hostname, t.port or 80)
        for attempt in (1, 2):
            conn = self.upstream()
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                r = conn.getresponse()
                return r.status, r.getheaders(), r.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                self._conn = None
                if attempt == 2:
                    raise

    def relay(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else None
        try:
            status, headers, data = self.forward(body)
        except (OSError, http.client.HTTPException):
            status, headers, data = 502, [("Content-Type", "text/plain")], b"bad gateway\n"
        time.sleep(self.server.delay)
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in HOP_BY_HOP and k.lower() not in ("date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = relay


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", required=True, help="http://host:port of the real service")
    ap.add_argument("--delay-ms", type=float, default=200.0)
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    proxy = Proxy(a.port, a.target, a.delay_ms / 1000.0)

    def stop(*_):
        threading.Thread(target=proxy.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("PORT %d" % proxy.server_address[1], flush=True)
    proxy.serve_forever(poll_interval=0.1)
    proxy.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
