"""cluster -- a real RabbitMQ node plus the real tizza-auth and tizza-tweets binaries, for the
integration tests of the events (test_events, test_tweets, test_asyncapi).

Design. One private RabbitMQ node (tests/broker.py) is shared by the whole test process
(started on first use, ~5 s, removed at exit). Every `Cluster` gets a vhost of its own on it
(rabbitmqctl add_vhost, ~0.3 s), so clusters never see each other's queues or messages
even though they share the node, and two fresh SQLite files (auth's, tweets'). Tests that
stop, kill or restart the node do it through `cluster.broker` and `ensure_broker()` puts it
back for the next test.

A `Proc` is one service process, a harness.Proc (env built from scratch: nothing leaks in
from the caller's configuration; stdout/stderr in files under the run's artifacts directory,
TIZZA_TEST_ARTIFACTS, else a temp dir removed at exit; readiness = GET /ready 200; `stop()`
sends SIGTERM and then asserts what makes this a sanitizer run: exit status 0 and no
"AddressSanitizer", "LeakSanitizer" or "runtime error:" on stderr; `kill()` is SIGKILL, the
crash the outbox must survive) whose port is kept across restarts when still free and whose
HTTP goes through this module's `request()`. `Cluster` is a harness.Group: stop, teardown,
the admin and its vhost come from there. The broker here is this module's own, not
harness.broker(): the events tests stop, kill and restart it.

`Amqp` wraps tests/integration/amqp_publish.c (compiled once per process with gcc against
librabbitmq): publish raw messages with chosen properties, declare/bind an observation
queue, basic.get messages as dicts, read queue depths without rabbitmqctl.

Only the Python standard library is used.
"""
import atexit
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.parse

import harness
from harness import (ADMIN_PASSWORD, NO_SUCH_ID, REPO, User, free_port,  # noqa: F401
                     port_free, read_text, unique, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(REPO, "tests"))
from broker import Broker  # noqa: E402  (tests/broker.py)

_lock = threading.RLock()


def sqlite_only():
    """The events suite runs its services on SQLite files (its fault injection is an SQLite
    trigger). Under tests/integration/run.sh, which discovers every test_*.py once per store
    backend, the modules run in the sqlite pass and are reported skipped in the others."""
    backend = os.environ.get("TIZZA_TEST_BACKEND", "sqlite")
    if backend != "sqlite":
        import unittest
        raise unittest.SkipTest("the events suite runs on SQLite only (backend %s)" % backend)


# ---------------------------------------------------------------- HTTP

class Response:
    def __init__(self, method, path, status, headers, raw):
        self.method, self.path, self.status, self.headers, self.raw = (
            method, path, status, headers, raw)
        self.json = None
        if "json" in (headers.get("Content-Type") or "") and raw:
            try:
                self.json = json.loads(raw.decode("utf-8"))
            except ValueError:
                pass

    @property
    def text(self):
        return self.raw.decode("utf-8", "replace")

    @property
    def content_type(self):
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def cookie(self, name):
        for h in self.headers.get_all("Set-Cookie") or []:
            n, _, rest = h.partition("=")
            if n.strip() == name:
                return rest.split(";", 1)[0]
        return None

    def __repr__(self):
        return "<%s %s -> %s %s>" % (self.method, self.path, self.status, self.raw[:400])


def request(port, method, path, body=None, token=None, headers=None, raw=None, timeout=30):
    """One HTTP/1.1 request on its own connection. body: a JSON value; raw: bytes as is."""
    hdrs = {}
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        hdrs["Content-Type"] = "application/json"
    elif raw is not None:
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
    if token:
        hdrs["Authorization"] = "Bearer " + token
    hdrs.update(headers or {})
    hdrs = {k: v for k, v in hdrs.items() if v is not None}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        return Response(method, path, r.status, r.headers, r.read())
    finally:
        conn.close()


# ---------------------------------------------------------------- processes

class Proc(harness.Proc):
    """One tizza-<name> process, restartable on the same store and (when free) port."""

    def start(self, timeout=30.0, wait_ready=True):
        for _ in range(3):
            if self.port is None or not port_free(self.port):
                self.port = free_port()
            self.spawn()
            if not wait_ready:
                return self
            try:
                return self.wait_ready(timeout)
            except RuntimeError:
                exited = self.proc.poll() is not None
                self.kill(check=False)
                logs = read_text(self.err_path) + read_text(self.out_path)
                if not (exited and "bind" in logs):
                    raise
                self.port = None  # someone took the port: try another one
        raise RuntimeError("%s: could not bind a port" % self.tag)

    # -- HTTP
    def req(self, method, path, body=None, token=None, **kw):
        return request(self.port, method, path, body=body, token=token, **kw)

    def get(self, path, token=None, **kw):
        return self.req("GET", path, token=token, **kw)


# ---------------------------------------------------------------- broker

_broker = [None]


def _cleanup_all():
    harness.kill_leftovers()  # the services first, then the node
    if _broker[0] is not None:
        _broker[0].cleanup()


def _exit_on_sigterm():
    """SIGTERM (e.g. from `timeout`) exits through atexit, so the node is stopped too."""
    if threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def shared_broker():
    """The process's RabbitMQ node, started (or restarted) when it is not running."""
    with _lock:
        if _broker[0] is None:
            _broker[0] = Broker()
            atexit.register(_cleanup_all)
            _exit_on_sigterm()
        b = _broker[0]
    if not b.running():
        b.start()
    return b


class Amqp:
    """tests/integration/amqp_publish.c, compiled on first use."""
    _exe = None

    @classmethod
    def exe(cls):
        with _lock:
            if cls._exe is None:
                src = os.path.join(HERE, "amqp_publish.c")
                out = os.path.join(harness.tmp_root(), "amqp_publish")
                cflags = subprocess.run(["pkg-config", "--cflags", "--libs", "libcjson",
                                         "librabbitmq"], capture_output=True, text=True,
                                        check=True).stdout.split()
                subprocess.run(["gcc", "-std=c17", "-D_GNU_SOURCE", "-Wall", "-Wextra",
                                "-Werror", "-Wshadow", "-Wno-unused-parameter", "-O1", "-g",
                                "-o", out, src] + cflags, check=True)
                cls._exe = out
            return cls._exe

    def __init__(self, url):
        self.url = url

    def run(self, *args, stdin=b"", check=True):
        p = subprocess.run([self.exe(), self.url] + [str(a) for a in args], input=stdin,
                           capture_output=True, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError("amqp_publish %s: rc=%d %s" % (
                " ".join(map(str, args)), p.returncode, p.stderr.decode(errors="replace")))
        return p

    def publish(self, exchange, key, body, message_id=None, type=None, app_id=None,
                content_type="application/json", persistent=True, headers=None):
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode("utf-8")
        args = ["publish", exchange, key]
        for opt, val in (("--message-id", message_id), ("--type", type), ("--app-id", app_id),
                         ("--content-type", content_type)):
            if val is not None:
                args += [opt, val]
        if persistent:
            args.append("--persistent")
        for k, v in (headers or {}).items():
            args += ["--header-int" if isinstance(v, int) else "--header-str", "%s=%s" % (k, v)]
        self.run(*args, stdin=body)

    def declare(self, queue, exchange=None, binding=None):
        self.run("declare", queue, *([exchange, binding] if exchange else []))

    def get(self, queue, max_messages=1000, wait_ms=0):
        """[{exchange, routing_key, redelivered, body, properties}] (acked, so removed)."""
        out = self.run("get", queue, max_messages, wait_ms).stdout.decode("utf-8")
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def depth(self, queue):
        """Ready messages in queue, None when the queue does not exist."""
        p = self.run("depth", queue, check=False)
        if p.returncode == 3:
            return None
        if p.returncode != 0:
            raise AssertionError("depth %s: %s" % (queue, p.stderr.decode(errors="replace")))
        return int(p.stdout)

    def purge(self, queue):
        self.run("purge", queue)


# ---------------------------------------------------------------- the cluster

class Cluster(harness.Group):
    """A vhost on the shared broker + tizza-auth + tizza-tweets on fresh SQLite files."""

    def __init__(self, auth_env=None, tweets_env=None, with_tweets=True):
        super().__init__(shared_broker(), "c%d-%s" % (harness.next_seq(), os.urandom(2).hex()))
        self.amqp = Amqp(self.amqp_url)
        d = harness.tmp_root()
        auth = {"STORE_URL": "sqlite://" + os.path.join(d, self.name + "-auth.db"),
                "AMQP_URL": self.amqp_url, "ERASURE_SERVICES": "tweets",
                "RATE_LIMIT_SIGNUP": "0", "RATE_LIMIT_LOGIN": "0",
                "LOGIN_FAILURES_PER_USER": "0"}
        auth.update(auth_env or {})
        self.auth = Proc("auth", auth, self.name + "-auth")
        self.tweets = None
        if with_tweets:
            tw = {"STORE_URL": "sqlite://" + os.path.join(d, self.name + "-tweets.db"),
                  "AMQP_URL": self.amqp_url}
            tw.update(tweets_env or {})
            self.tweets = Proc("tweets", tw, self.name + "-tweets")

    @property
    def procs(self):
        return [p for p in (self.tweets, self.auth) if p is not None]

    def in_stop_order(self):
        return self.procs

    def start(self, admin=True):
        if admin:
            self.create_admin()
        self.start_services()
        if admin:
            self.admin = self.login("admin", ADMIN_PASSWORD)
        return self

    def start_services(self):
        """Starts (or restarts, on the same stores) auth, then tweets pointed at it."""
        if self.auth.proc is None:
            self.auth.start()
        if self.tweets is not None and self.tweets.proc is None:
            self.tweets.extra["AUTH_URL"] = "http://127.0.0.1:%d" % self.auth.port
            self.tweets.start()

    # -- auth
    def login(self, username, password):
        r = self.auth.req("POST", "/api/v1/auth/login",
                          {"username": username, "password": password})
        if r.status != 200 or not r.json or "access_token" not in r.json:
            raise AssertionError("login %s: %r" % (username, r))
        u = r.json["user"]
        return User(u["id"], u["username"], r.json["access_token"], password)

    def signup(self, username=None):
        username = username or unique()
        password = "pw-" + os.urandom(8).hex()
        r = self.auth.req("POST", "/api/v1/auth/signup",
                          {"username": username, "email": username + "@example.org",
                           "password": password})
        token = r.cookie("tizza_access")
        if r.status != 201 or not token:
            raise AssertionError("signup %s: %r" % (username, r))
        return User(r.json["id"], r.json["username"], token, password)

    def signup_many(self, n, prefix="m", threads=4):
        """n users, signed up in parallel (argon2 is the slow part)."""
        return harness.in_parallel(n, threads, lambda: self.signup(unique(prefix)))

    def delete_user(self, user, token=None):
        return self.auth.req("DELETE", "/api/v1/users/" + user.id,
                             token=token or self.admin.token)

    # -- tweets
    def tweet(self, user, body="hello"):
        r = self.tweets.req("POST", "/api/v2/tweets", {"body": body}, token=user.token)
        if r.status != 201:
            raise AssertionError("tweet by %s: %r" % (user.username, r))
        return r.json

    def tweets_of(self, username):
        r = self.tweets.get("/api/v2/tweets?limit=100&tweetedby=" + urllib.parse.quote(username))
        if r.status != 200:
            raise AssertionError("list tweets: %r" % r)
        return r.json["count"]

    def tweet_count(self):
        r = self.tweets.get("/api/v2/tweets?limit=1")
        if r.status != 200:
            raise AssertionError("list tweets: %r" % r)
        return r.json["count"]

    # -- broker
    def queues(self):
        """{name: messages} of this cluster's vhost (rabbitmqctl)."""
        out = self.broker.ctl("list_queues", "-p", self.vhost, "-q", "--no-table-headers",
                              "name", "messages")
        result = {}
        for line in out.splitlines():
            parts = line.rsplit("\t", 1)
            if len(parts) == 2:
                result[parts[0]] = int(parts[1])
        return result


def ensure_broker():
    """Puts the shared node back after a test that stopped or killed it."""
    return shared_broker()
