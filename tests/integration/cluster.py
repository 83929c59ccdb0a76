"""cluster -- a real RabbitMQ node plus the real tizza-auth and tizza-tweets binaries, for the
integration tests of the events issue (test_events, test_tweets, test_asyncapi).

Design. One private RabbitMQ node (tests/broker.py) is shared by the whole test process
(started on first use, ~5 s, removed at exit). Every `Cluster` gets a vhost of its own on it
(rabbitmqctl add_vhost, ~0.3 s), so clusters never see each other's queues or messages
even though they share the node, and two fresh SQLite files (auth's, tweets'). Tests that
stop, kill or restart the node do it through `cluster.broker` and `ensure_broker()` puts it
back for the next test.

A `Proc` is one service process: env built from scratch (nothing leaks in from the
caller's configuration), a port kept across restarts when still free, stdout/stderr in
files under the run's artifacts directory (TIZZA_TEST_ARTIFACTS, else a temp dir removed at
exit), readiness = GET /ready 200. `stop()` sends SIGTERM and then asserts what makes this a
sanitizer run: exit status 0 and no "AddressSanitizer", "LeakSanitizer" or "runtime
error:" on stderr. `kill()` is SIGKILL (the crash the outbox must survive).

`Amqp` wraps tests/integration/amqp_publish.c (compiled once per process with gcc against
librabbitmq): publish raw messages with chosen properties, declare/bind an observation
queue, basic.get messages as dicts, read queue depths without rabbitmqctl.

Only the Python standard library is used (run with /usr/bin/python3).
"""
import atexit
import errno
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests"))
from broker import Broker  # noqa: E402  (tests/broker.py)

BIN_DIR = os.environ.get("TIZZA_BIN_DIR", "build/asan/bin")
if not os.path.isabs(BIN_DIR):
    BIN_DIR = os.path.join(REPO, BIN_DIR)
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")
ADMIN_PASSWORD = "admin-pass-" + os.urandom(6).hex()
NO_SUCH_ID = "0123456789abcdef01234567"

# Configuration that must never leak in from the caller's environment.
_SCRUB = {"PORT", "HOST", "STORE_URL", "AMQP_URL", "AUTH_URL", "PIZZA_URL", "LIKES_URL",
          "TWEETS_URL", "LOG_LEVEL", "LOG_FORMAT", "HTTP_THREADS", "WORKERS", "BODY_LIMIT",
          "DRAIN_MS", "CORS_ORIGINS", "TRUSTED_PROXIES", "PAGE_SIZE", "AUTH_SIGNING_KEY",
          "ACCESS_TTL", "REFRESH_TTL", "COOKIE_SECURE", "LOGIN_FAILURES_PER_USER",
          "ERASURE_SERVICES", "AUTH_PUBLIC_KEY", "AUTH_WAIT_MS", "AMQP_PREFETCH"}
_SCRUB_PREFIXES = ("RATE_LIMIT_", "TIZZA_SUPERUSER")

_lock = threading.RLock()
_seq = [0]
_root = [None]


def next_seq():
    with _lock:
        _seq[0] += 1
        return _seq[0]


def artifacts():
    """The run's directory for stores and logs (created on first use)."""
    with _lock:
        if _root[0] is None:
            given = os.environ.get("TIZZA_TEST_ARTIFACTS")
            if given:
                _root[0] = os.path.abspath(given)
                os.makedirs(_root[0], exist_ok=True)
            else:
                _root[0] = tempfile.mkdtemp(prefix="tizza-events-")
                atexit.register(shutil.rmtree, _root[0], True)
        return _root[0]


def unique(prefix="u"):
    """A unique, valid username (3-30 of [A-Za-z0-9_.-])."""
    return "%s_%d_%s" % (prefix[:14], next_seq(), os.urandom(3).hex())


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def tail(text, n=30):
    return "\n".join(text.splitlines()[-n:])


def wait_for(pred, timeout, interval=0.1, what="condition"):
    """Polls pred() until it returns a truthy value (returned) or timeout (AssertionError)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = pred()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s (last: %r)" %
                                 (timeout, what, last))
        time.sleep(interval)


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

def base_env(extra):
    env = {k: v for k, v in os.environ.items()
           if k not in _SCRUB and not k.startswith(_SCRUB_PREFIXES)}
    env.update({"HOST": "127.0.0.1", "LOG_LEVEL": "info", "DRAIN_MS": "3000",
                "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
                "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"})
    env.update({k: str(v) for k, v in extra.items() if v is not None})
    return env


def binary(name):
    return os.path.join(BIN_DIR, "tizza-" + name)


def popen(args, timeout=15.0, **kw):
    """subprocess.Popen, waiting out a binary that is being rebuilt right now (the linker
    makes it executable only once written: EACCES/ETXTBSY meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return subprocess.Popen(args, **kw)
        except OSError as e:
            if e.errno not in (errno.EACCES, errno.ETXTBSY) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class Proc:
    """One tizza-<name> process, restartable on the same store and (when free) port."""

    def __init__(self, name, env, tag):
        self.name, self.extra, self.tag = name, dict(env), tag
        self.dir = os.path.join(artifacts(), tag)
        os.makedirs(self.dir, exist_ok=True)
        self.proc = None
        self.port = None
        self.starts = 0
        self.err_path = self.out_path = None

    @property
    def store_url(self):
        return self.extra["STORE_URL"]

    def cli(self, args, env=None, timeout=120):
        """Runs a subcommand of the binary against this service's store."""
        e = dict(self.extra)
        e.update(env or {})
        p = popen([binary(self.name)] + list(args), cwd=REPO, env=base_env(e),
                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                  text=True)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise
        return subprocess.CompletedProcess(p.args, p.returncode, out, err)

    def start(self, timeout=30.0, wait_ready=True):
        if self.proc is not None:
            raise RuntimeError("%s is already running" % self.tag)
        for _ in range(3):
            if self.port is None or not port_free(self.port):
                self.port = free_port()
            self.starts += 1
            self.out_path = os.path.join(self.dir, "stdout-%d.log" % self.starts)
            self.err_path = os.path.join(self.dir, "stderr-%d.log" % self.starts)
            env = dict(self.extra, PORT=self.port)
            with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
                self.proc = popen([binary(self.name)], cwd=REPO, env=base_env(env),
                                  stdout=out, stderr=err, stdin=subprocess.DEVNULL)
            _live.add(self)
            if not wait_ready:
                return self
            try:
                self.wait_ready(timeout)
                return self
            except RuntimeError:
                exited = self.proc.poll() is not None
                if not exited:
                    self.proc.kill()
                self.proc.wait()
                self.proc = None
                logs = read_text(self.err_path) + read_text(self.out_path)
                if not (exited and "bind" in logs):
                    raise
                self.port = None  # someone took the port: try another one
        raise RuntimeError("%s: could not bind a port" % self.tag)

    def wait_ready(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s before ready:\n%s" % (
                    self.tag, self.proc.returncode, tail(self.stderr() + self.stdout())))
            try:
                if request(self.port, "GET", "/ready", timeout=3).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("%s not ready (GET /ready != 200) within %.0f s:\n%s" % (
            self.tag, timeout, tail(self.stderr() + self.stdout())))

    def ready_status(self):
        return request(self.port, "GET", "/ready").status

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=30.0):
        """SIGTERM; asserts exit status 0 and no sanitizer report. Idempotent."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise AssertionError("%s did not exit within %.0f s of SIGTERM:\n%s" % (
                    self.tag, timeout, tail(self.stderr())))
        self.check_clean(proc.returncode)

    def kill(self):
        """SIGKILL (no clean exit expected; stderr must still hold no sanitizer report)."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.check_clean(None)

    def check_clean(self, rc):
        err = self.stderr()
        problems = []
        if rc is not None and rc != 0:
            problems.append("exit status %r (want 0)" % rc)
        found = [m for m in SANITIZER_MARKERS if m in err]
        if found:
            problems.append("sanitizer report on stderr (%s)" % ", ".join(found))
        if problems:
            raise AssertionError("%s: %s\n--- stderr (%s):\n%s" % (
                self.tag, "; ".join(problems), self.err_path, tail(err, 60)))

    def stdout(self):
        return read_text(self.out_path) if self.out_path else ""

    def stderr(self):
        return read_text(self.err_path) if self.err_path else ""

    def all_logs(self):
        return "\n".join(read_text(os.path.join(self.dir, "%s-%d.log" % (k, i)))
                         for i in range(1, self.starts + 1) for k in ("stdout", "stderr"))

    # -- HTTP
    def req(self, method, path, body=None, token=None, **kw):
        return request(self.port, method, path, body=body, token=token, **kw)

    def get(self, path, token=None, **kw):
        return self.req("GET", path, token=token, **kw)

    def metrics(self):
        r = self.get("/metrics")
        if r.status != 200:
            raise AssertionError("GET /metrics: %r" % r)
        return r.text

    def metric(self, name, labels=None):
        """Sum of the samples of `name` whose labels include `labels` (None if absent)."""
        total, seen = 0.0, False
        for line in self.metrics().splitlines():
            m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
            if not m or m.group(1) != name:
                continue
            have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
            if all(have.get(k) == v for k, v in (labels or {}).items()):
                total += float(m.group(3))
                seen = True
        return total if seen else None


# ---------------------------------------------------------------- broker

_broker = [None]


_live = set()  # Procs that may be running, killed at exit whatever happened


def _cleanup_all():
    for p in list(_live):
        if p.proc is not None and p.proc.poll() is None:
            p.proc.kill()
            p.proc.wait()
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
                out = os.path.join(artifacts(), "amqp_publish")
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

class User:
    def __init__(self, id, username, token, password):
        self.id, self.username, self.token, self.password = id, username, token, password

    def __repr__(self):
        return "<User %s %s>" % (self.username, self.id)


class Cluster:
    """A vhost on the shared broker + tizza-auth + tizza-tweets on fresh SQLite files."""

    def __init__(self, auth_env=None, tweets_env=None, with_tweets=True):
        self.broker = shared_broker()
        n = next_seq()
        self.name = "c%d-%s" % (n, os.urandom(2).hex())
        self.vhost = "tizza-" + self.name
        self.broker.ctl("add_vhost", self.vhost)
        self.broker.ctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        self.amqp_url = "amqp://guest:guest@127.0.0.1:%d/%s" % (
            self.broker.port, urllib.parse.quote(self.vhost, safe=""))
        self.amqp = Amqp(self.amqp_url)
        d = artifacts()
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
        self.admin = None

    @property
    def procs(self):
        return [p for p in (self.tweets, self.auth) if p is not None]

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

    def stop(self):
        """Stops every running service (asserting clean exits); the first failure wins."""
        first = None
        for p in self.procs:
            try:
                p.stop()
            except AssertionError as e:
                first = first or e
        if first:
            raise first

    def teardown(self):
        """stop() plus a best-effort removal of the vhost; never leaves a process behind."""
        try:
            self.stop()
        finally:
            for p in self.procs:
                if p.proc is not None:
                    p.proc.kill()
                    p.proc.wait()
                    p.proc = None
            if self.broker.running():
                try:
                    self.broker.ctl("delete_vhost", self.vhost, check=False)
                except Exception:  # noqa: BLE001 -- cleanup only
                    pass

    # -- auth
    def create_admin(self, username="admin", email="a@x.io"):
        r = self.auth.cli(["create-superuser", "--username", username, "--email", email],
                          env={"TIZZA_SUPERUSER_PASSWORD": ADMIN_PASSWORD})
        if r.returncode != 0:
            raise AssertionError("create-superuser: rc=%d\n%s%s" % (r.returncode, r.stdout,
                                                                     r.stderr))

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
        users = [None] * n
        errors = []

        def work(k):
            for i in range(k, n, threads):
                try:
                    users[i] = self.signup(unique(prefix))
                except Exception as e:  # noqa: BLE001 -- re-raised below
                    errors.append(e)
                    return

        ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if errors:
            raise errors[0]
        return users

    def delete_user(self, user, token=None):
        return self.auth.req("DELETE", "/api/v1/users/" + user.id,
                             token=token or self.admin.token)

    def erasure(self, user_id, token=None):
        return self.auth.get("/api/v1/users/%s/erasure" % user_id,
                             token=token or self.admin.token)

    def erasure_complete(self, user_id):
        r = self.erasure(user_id)
        return r.json if r.status == 200 and r.json and r.json.get("complete") is True else None

    def wait_erased(self, ids, timeout=20.0):
        """{id: erasure record} once every id's erasure is complete (AssertionError if not)."""
        done = {}
        deadline = time.monotonic() + timeout
        while True:
            for i in ids:
                if i not in done:
                    rec = self.erasure_complete(i)
                    if rec:
                        done[i] = rec
            if len(done) == len(ids):
                return done
            if time.monotonic() > deadline:
                missing = [i for i in ids if i not in done]
                raise AssertionError("%d of %d erasures not complete after %.0f s; e.g. %s: %r"
                                     % (len(missing), len(ids), timeout, missing[0],
                                        self.erasure(missing[0])))
            time.sleep(0.2)

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
