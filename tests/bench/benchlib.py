"""benchlib.py -- what the Python benchmarks (events.py, pizza_likes.py) share: the repo root
and the release binaries' directory (BENCH_BIN_DIR, default build/bin), tests/ on sys.path
for tests/broker.py (Broker, free_port), progress lines on stderr, one JSON request per
connection, readiness polling, nearest-rank percentiles and wrk's output parsed. Every
failure here is SystemExit("[bench] FAILED: ..."): a benchmark exits non-zero only when a
step cannot run.

Only the Python standard library is used.
"""
import http.client
import json
import math
import os
import re
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))  # for `from broker import Broker, free_port`
BIN = os.path.join(ROOT, os.environ.get("BENCH_BIN_DIR", "build/bin"))
DURATION = os.environ.get("BENCH_DURATION", "10s")


def say(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def fail(msg):
    raise SystemExit("[bench] FAILED: " + msg)


def request(port, method, path, body=None, token=None):
    """One request on its own connection: (status, JSON body or None)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {}
    if body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(body)
    if token:
        headers["Authorization"] = "Bearer " + token
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, (json.loads(data) if data else None)


def expect(want, port, method, path, body=None, token=None):
    """request() that must answer `want`; returns the body."""
    try:
        st, data = request(port, method, path, body, token)
    except OSError as e:
        fail("%s %s on :%d: %s" % (method, path, port, e))
    if st != want:
        fail("%s %s answered %d (expected %d): %s" % (method, path, st, want, data))
    return data


def wait_ready(port, proc=None, secs=30):
    """Until GET /ready on `port` answers 200; fails after `secs` or when `proc` exits."""
    deadline = time.time() + secs
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            fail("service for :%d exited with status %d" % (port, proc.returncode))
        try:
            if request(port, "GET", "/ready")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    fail("service on :%d not ready after %d s" % (port, secs))


def percentile(values, p):
    """Nearest-rank percentile p (0-100) of values."""
    v = sorted(values)
    i = max(0, math.ceil(p * len(v) / 100) - 1)
    return v[i]


def wrk_parse(out, name, tmp=None):
    """The figures of a `wrk --latency` output: {"rps", "p99" (ms), "errors" (non-2xx answers
    + connect/read/write/timeout socket errors)}; fails when a figure is missing. With `tmp`,
    the output is also written to tmp/<name>.wrk.txt."""
    if tmp is not None:
        with open(os.path.join(tmp, name + ".wrk.txt"), "w") as f:
            f.write(out)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m|h)[ \t]*$", out, re.M)
    if not rps or not m:
        fail("cannot read wrk's output for %s:\n%s" % (name, out))
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0,
                               "h": 3600000.0}[m.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (
        sum(int(g) for g in sock.groups()) if sock else 0)
    return {"rps": float(rps.group(1)), "p99": p99, "errors": errors}
