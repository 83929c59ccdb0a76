"""Slow and greedy clients against the connection limits and deadlines (libcommon/conn.h).

tizza-auth runs with a descriptor limit of 1024 (a common default) and its connection
settings at their defaults, except the two deadlines, shortened so the module stays quick.
The attacks come from 127.0.0.1; the fresh client that must still be served comes from
127.0.0.2 (a second loopback address). SQLite only: nothing here touches the store.
"""
import json
import os
import resource
import socket
import time
import unittest

from cluster import sqlite_only
from harness import Service, wait_for

sqlite_only()

ATTACKER, FRESH = "127.0.0.1", "127.0.0.2"
REQUEST_TIMEOUT_MS = 2000
KEEPALIVE_TIMEOUT_MS = 3000
PER_CLIENT = 256  # MAX_CLIENT_CONNECTIONS' default
# A valid request head, sent one byte at a time, then a header value that never ends.
SLOW_HEAD = b"GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: "


def trickle(s, sent):
    """Sends the next byte of a slow head on `s`; `sent` counts what went before."""
    s.send(SLOW_HEAD[sent:sent + 1] if sent < len(SLOW_HEAD) else b"a")


def raise_own_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < n:
        raise unittest.SkipTest("this test needs %d descriptors (hard limit %d)" % (n, hard))
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, hard))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def connect(port, source=ATTACKER, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def read_answer(s, timeout):
    """Status and parsed body of one answer on `s` (which the server closes after it)."""
    s.settimeout(timeout)
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")]
            if length and len(body) >= length[0]:
                break
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.1 ") else None
    return status, head, body


def fresh_get(port, path="/health", timeout=3.0):
    """GET `path` from the fresh client's address; (status, seconds). The bound is wide
    for sanitizer builds on a busy machine; tests/bench has the figure."""
    t0 = time.monotonic()
    s = connect(port, FRESH, timeout)
    try:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % path.encode())
        status, _, _ = read_answer(s, timeout)
    finally:
        s.close()
    return status, time.monotonic() - t0


def log_lines(svc):
    return len(svc.all_output().splitlines())


class SlowClients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        raise_own_nofile(2600)
        cls.svc = Service("auth", nofile=1024, env={
            "REQUEST_TIMEOUT_MS": str(REQUEST_TIMEOUT_MS),
            "KEEPALIVE_TIMEOUT_MS": str(KEEPALIVE_TIMEOUT_MS)}).start()

    @classmethod
    def tearDownClass(cls):
        cls.svc.stop_and_check()

    def metric(self, name, labels=""):
        s = connect(self.svc.port, FRESH)
        try:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            _, _, body = read_answer(s, 5)
        finally:
            s.close()
        for line in body.decode().splitlines():
            if line.startswith(name + labels + " "):
                return float(line.split()[-1])
        return 0.0

    def test_slow_header_flood_from_one_address(self):
        """2,000 connections each trickling a request head: the address keeps its share,
        the rest get 503 problem+json, a fresh client is answered at once, CPU and log
        volume stay bounded, and the deadline ends the survivors with 408."""
        port, pid = self.svc.port, self.svc.proc.pid
        lines0, cpu0 = log_lines(self.svc), cpu_seconds(pid)
        socks, refused_at_connect = [], 0
        for _ in range(2000):
            try:
                s = connect(port)
                trickle(s, 0)
                socks.append(s)
            except OSError:
                refused_at_connect += 1
        try:
            # answered: served, or told 503 while the flood's excess is being refused
            status, secs = fresh_get(port)
            self.assertIn(status, (200, 503), "the fresh client got no answer")
            print("\n  fresh client answered %d in %.0f ms during the flood" % (status, secs * 1000))
            if status == 503:
                wait_for(lambda: fresh_get(port)[0] == 200, 3, what="the fresh client served")

            # every connection past the address's share is answered 503 and closed
            answered, alive, timed_out = 0, [], 0
            deadline = time.monotonic() + 5
            for s in socks:
                s.setblocking(False)
            pending = list(socks)
            while pending and time.monotonic() < deadline:
                still = []
                for s in pending:
                    try:
                        b = s.recv(65536)
                    except BlockingIOError:
                        still.append(s)
                        continue
                    except OSError:
                        continue
                    if b.startswith(b"HTTP/1.1 503 "):
                        body = b.partition(b"\r\n\r\n")[2]
                        self.assertEqual(json.loads(body)["status"], 503)
                        self.assertIn(b"application/problem+json", b)
                        answered += 1
                    elif b.startswith(b"HTTP/1.1 408 "):  # a survivor's deadline, already
                        timed_out += 1
                if len(still) <= PER_CLIENT:
                    alive = still
                    break
                pending = still
                time.sleep(0.05)
            self.assertLessEqual(len(alive), PER_CLIENT, "more connections than the share")
            self.assertGreater(answered + timed_out, 2000 - PER_CLIENT - refused_at_connect - 100)

            # the survivors trickle a byte every half second: the whole-request deadline ends
            # them
            sent = {s: 1 for s in alive}
            t0 = time.monotonic()
            t_end = t0 + REQUEST_TIMEOUT_MS / 1000 + 3
            t_quiet = t0 + REQUEST_TIMEOUT_MS / 1000 - 0.5  # then only read: no reset
            while alive and time.monotonic() < t_end:
                still = []
                for s in alive:
                    try:
                        b = s.recv(65536)
                        if b.startswith(b"HTTP/1.1 408 "):
                            timed_out += 1
                        continue
                    except BlockingIOError:
                        pass
                    except OSError:
                        continue
                    try:
                        if time.monotonic() < t_quiet:
                            trickle(s, sent[s])
                            sent[s] += 1
                        still.append(s)
                    except OSError:
                        pass
                alive = still
                time.sleep(0.5)
            self.assertEqual(alive, [], "slow requests outlived REQUEST_TIMEOUT_MS")
            self.assertGreater(timed_out, 0, "no 408 answer to a request that took too long")
        finally:
            for s in socks:
                s.close()
        wait_for(lambda: self.metric("tizza_http_connections") <= 1, 5,
                 what="connections closed")
        cpu = cpu_seconds(pid) - cpu0
        lines = log_lines(self.svc) - lines0
        print("  %d connections: %.2f s of CPU, %d log lines" % (len(socks), cpu, lines))
        self.assertLess(cpu, 5.0, "the flood costs the service too much CPU")
        self.assertLess(lines, 40, "the flood floods the log")
        self.assertGreater(self.metric("tizza_http_connections_refused_total",
                                       '{reason="client_limit"}'), 0)

    def test_idle_keepalive_connection_closed(self):
        s = connect(self.svc.port)
        try:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
            s.settimeout(5)
            self.assertTrue(s.recv(65536).startswith(b"HTTP/1.1 200 "))
            t0 = time.monotonic()
            s.settimeout(KEEPALIVE_TIMEOUT_MS / 1000 + 3)
            self.assertEqual(s.recv(65536), b"", "the idle connection got data")
            self.assertGreater(time.monotonic() - t0, KEEPALIVE_TIMEOUT_MS / 1000 - 0.5)
        finally:
            s.close()


class OutOfDescriptors(unittest.TestCase):
    """MAX_CONNECTIONS set above what the descriptor limit allows: accept() fails. The
    service must pause accepting instead of spinning and log the condition a few times only;
    a new client is answered (503 from the descriptor held back for it, or 200 once the
    slow requests' deadline has freed descriptors)."""

    def test_accept_paused_and_answered(self):
        raise_own_nofile(1000)
        svc = Service("auth", nofile=256, env={
            "MAX_CONNECTIONS": "5000", "MAX_CLIENT_CONNECTIONS": "0",
            "REQUEST_TIMEOUT_MS": str(REQUEST_TIMEOUT_MS)}).start()
        socks = []
        try:
            pid, lines0 = svc.proc.pid, log_lines(svc)
            for _ in range(400):
                try:
                    s = connect(svc.port, timeout=2)
                    trickle(s, 0)
                    socks.append(s)
                except OSError:
                    pass
            cpu0 = cpu_seconds(pid)
            limit = REQUEST_TIMEOUT_MS / 1000 + 3
            s = connect(svc.port, FRESH, limit)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
            status, _, body = read_answer(s, limit)
            s.close()
            self.assertIn(status, (200, 503))
            if status == 503:
                self.assertEqual(json.loads(body)["status"], 503)
            time.sleep(2)
            cpu = cpu_seconds(pid) - cpu0
            print("\n  out of descriptors: %.2f s of CPU in 2 s, fresh client %s" % (cpu, status))
            self.assertLess(cpu, 1.0, "the accept loop spins")
            self.assertLess(log_lines(svc) - lines0, 20, "accept failures flood the log")
        finally:
            for s in socks:
                s.close()
            svc.stop_and_check(self)


class TrustedProxy(unittest.TestCase):
    """A gateway's connections carry many clients: no per-address limit for TRUSTED_PROXIES."""

    def test_proxy_exempt_from_client_limit(self):
        svc = Service("auth", env={"MAX_CLIENT_CONNECTIONS": "4",
                                   "TRUSTED_PROXIES": ATTACKER}).start()
        socks = []
        try:
            socks = [connect(svc.port) for _ in range(10)]
            for s in socks:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
                status, _, _ = read_answer(s, 5)
                self.assertEqual(status, 200)
            # from an address that is not a proxy, one of five connections is refused
            others = [connect(svc.port, FRESH) for _ in range(5)]
            socks += others
            refused = []
            for s in others:
                s.setblocking(False)

            def answered():
                for s in others:
                    try:
                        b = s.recv(65536)
                    except BlockingIOError:
                        continue
                    if b.startswith(b"HTTP/1.1 "):
                        refused.append(b)
                return refused
            wait_for(answered, 5, what="a 503 for the fifth connection")
            time.sleep(0.3)
            answered()
            self.assertEqual(len(refused), 1)
            self.assertTrue(refused[0].startswith(b"HTTP/1.1 503 "))
            self.assertIn("too many connections",
                          json.loads(refused[0].partition(b"\r\n\r\n")[2])["detail"])
        finally:
            for s in socks:
                s.close()
            svc.stop_and_check(self)


class ResetClients(unittest.TestCase):
    """A client that resets its connection before reading its answer: the answer can never
    be written, so it is not in flight, and a stop does not wait DRAIN_MS for it."""

    def test_stop_does_not_wait_for_reset_connections(self):
        svc = Service("auth", env={"DRAIN_MS": "10000"}).start()
        try:
            body = json.dumps({"username": "nobody", "password": "not-the-password"}).encode()
            req = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\n"
                   b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                   % (len(body), body))
            for _ in range(20):  # each login hashes for a while on a worker: reset meanwhile
                s = connect(svc.port)
                s.sendall(req)
                time.sleep(0.02)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                s.close()
            time.sleep(2)  # every login finished; its answer found the connection gone
            t0 = time.monotonic()
            svc.stop_and_check(self)
            secs = time.monotonic() - t0
            print("\n  stopped in %.2f s after 20 reset connections" % secs)
            self.assertLess(secs, 5, "the stop waited for answers nobody could read")
        finally:
            svc.stop()


if __name__ == "__main__":
    unittest.main()
