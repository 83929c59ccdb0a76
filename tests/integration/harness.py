"""harness -- runs the REAL tizza-auth binary for the integration tests and talks HTTP to it.

Design. Every test module starts its own service process(es) (class `Service`) on a free
loopback port and a store of its own: a fresh SQLite file in the run's temp directory, or a
fresh database on one MongoDB wire-protocol double (tests/mongo_double.py) shared by the whole
test process. The backend comes from TIZZA_TEST_BACKEND (sqlite|mongo), the binaries from
TIZZA_BIN_DIR (default build/asan/bin, the ASan+UBSan build).

A service's stdout/stderr go to files under the run's temp directory (TIZZA_TEST_ARTIFACTS,
else a fresh temp dir removed at exit). Stopping a service sends SIGTERM and then checks what
makes this run a sanitizer run: exit status 0 and no "AddressSanitizer", "LeakSanitizer" or
"runtime error:" on stderr (leaks are reported at exit, so every stop is a leak check).

Services get AMQP_URL of one private RabbitMQ node (tests/broker.py) per test process, started
on first use, unless a test gives its own AMQP_URL.

`Client` does one HTTP/1.1 request per connection with http.client, keeps a small cookie jar
that honours Path and Max-Age=0, and returns a `Response` that unpacks as
(status, headers, json-or-raw).

The multi-service harnesses (cluster.py, constellation.py) build on three pieces from here:
`Proc`, one restartable tizza-<name> process (env built from scratch, one pair of log files
per start, readiness = GET /ready 200, `stop()` = SIGTERM plus the clean-exit check above,
`kill()` = SIGKILL); `Group`, a vhost of its own on a RabbitMQ node plus the services in it
(stop in order, teardown that leaves no process behind, the admin, parallel signups); and
`started()`, a test module's setUpModule in one call (start, fixtures, teardown on failure).
Every process started here, by a Service or a Proc, is SIGKILLed at exit if still running.

Only the Python standard library is used.
"""
import atexit
import base64
import errno
import hashlib
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BACKEND = os.environ.get("TIZZA_TEST_BACKEND", "sqlite")
BIN_DIR = os.environ.get("TIZZA_BIN_DIR", "build/asan/bin")
if not os.path.isabs(BIN_DIR):
    BIN_DIR = os.path.join(REPO, BIN_DIR)
PYTHON = sys.executable  # the interpreter of tools/python.sh, which runs the tests
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")

# Rate limits high enough that ordinary tests never meet them (tests of the limits start
# their own instance with low values).
HIGH_LIMIT = "100000/100000"

ADMIN_PASSWORD = "admin-pass-" + os.urandom(6).hex()  # the admin of every Group
NO_SUCH_ID = "0123456789abcdef01234567"

# Configuration variables that must never leak in from the caller's environment: every
# setting the services read (the rows their --help lists, config.h's tables), plus
# STORE_DB (test_store's). TIZZA_LIB_DIR is kept: it only says where the MongoDB plugin is.
_SCRUB_PREFIXES = ("RATE_LIMIT_", "REMOTE_", "TIZZA_SUPERUSER", "OTEL_")
_SCRUB = {
    "PORT", "HOST", "STORE_URL", "STORE_DB", "AMQP_URL", "AUTH_URL", "PIZZA_URL",
    "LIKES_URL", "TWEETS_URL", "LOG_LEVEL", "LOG_FORMAT", "HTTP_THREADS", "WORKERS",
    "BODY_LIMIT", "DRAIN_MS", "DRAIN_GRACE_MS", "CORS_ORIGINS", "TRUSTED_PROXIES",
    "PUBLIC_URL", "MAX_CONNECTIONS", "MAX_CLIENT_CONNECTIONS", "REQUEST_TIMEOUT_MS",
    "KEEPALIVE_TIMEOUT_MS",
    "PAGE_SIZE", "AUTH_SIGNING_KEY", "AUTH_KEY_ENCRYPTION_KEY", "ACCESS_TTL", "REFRESH_TTL",
    "REFRESH_GRACE_MS", "COOKIE_SECURE", "LOGIN_FAILURES_PER_USER",
    "LOGIN_FAILURES_PER_USER_TOTAL", "HASH_CONCURRENCY", "LOGIN_UNKNOWN_QUEUE",
    "ERASURE_SERVICES", "AUTH_PUBLIC_KEY", "AUTH_WAIT_MS", "AMQP_PREFETCH",
}


# tizza-auth serves only with AUTH_SIGNING_KEY or AUTH_KEY_ENCRYPTION_KEY (the key that
# encrypts the signing key it keeps in its store): every process started here gets this
# key-encryption key, one per test process, unless a test gives its own (None: unset).
TEST_KEY_ENCRYPTION_KEY = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()


def binary(name="auth"):
    return os.path.join(BIN_DIR, "tizza-" + name)


# ---------------------------------------------------------------- temp dir and counters

_tmp_lock = threading.RLock()
_tmp_root = None
_seq = 0


def tmp_root():
    """The run's artifacts directory (created on first use)."""
    global _tmp_root
    with _tmp_lock:
        if _tmp_root is None:
            given = os.environ.get("TIZZA_TEST_ARTIFACTS")
            if given:
                _tmp_root = os.path.abspath(given)
                os.makedirs(_tmp_root, exist_ok=True)
            else:
                _tmp_root = tempfile.mkdtemp(prefix="tizza-it-")
                atexit.register(shutil.rmtree, _tmp_root, True)
        return _tmp_root


def next_seq():
    global _seq
    with _tmp_lock:
        _seq += 1
        return _seq


def unique(prefix="u"):
    """A username-safe unique name (<= 30 chars for prefixes up to 12 chars)."""
    return "%s_%d_%s" % (prefix[:12], next_seq(), os.urandom(3).hex())


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def wait_for(pred, timeout, interval=0.1, what="condition"):
    """Polls pred() until truthy (returned); AssertionError with the last value at timeout."""
    deadline = time.monotonic() + timeout
    while True:
        last = pred()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s (last: %r)" %
                                 (timeout, what, last))
        time.sleep(interval)


def parse_metrics(text):
    """[(name, {label: value}, float)] of a Prometheus text exposition."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out.append((m.group(1), labels, float(m.group(3))))
    return out


def sanitizer_findings(text):
    return [m for m in SANITIZER_MARKERS if m in text]


def exit_report(tag, rc, err, err_path, check_status=True):
    """What makes a stop unclean, as a message (None when clean): exit status other than 0
    (when check_status) or a sanitizer report in `err`, the stderr text of `err_path`."""
    problems = []
    if check_status and rc != 0:
        problems.append("exit status %r (want 0)" % (rc,))
    found = sanitizer_findings(err)
    if found:
        problems.append("sanitizer report on stderr (%s)" % ", ".join(found))
    if not problems:
        return None
    return "%s: %s\n--- stderr tail (%s):\n%s" % (tag, "; ".join(problems), err_path,
                                                    tail(err, 60))


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def tail(text, n=40):
    return "\n".join(text.splitlines()[-n:])


# ---------------------------------------------------------------- MongoDB double

class MongoDouble:
    """tests/mongo_double.py started once per test process: `--port 0`, prints `PORT <n>`."""

    def __init__(self):
        self.dir = os.path.join(tmp_root(), "mongo-double")
        os.makedirs(self.dir, exist_ok=True)
        self.out_path = os.path.join(self.dir, "stdout.log")
        self.err_path = os.path.join(self.dir, "stderr.log")
        script = os.path.join(REPO, "tests", "mongo_double.py")
        if not os.path.exists(script):
            raise RuntimeError("tests/mongo_double.py does not exist")
        self.out = open(self.out_path, "wb")
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen([PYTHON, script, "--port", "0"], cwd=REPO,
                                     stdout=self.out, stderr=self.err,
                                     stdin=subprocess.DEVNULL)
        self.port = self._wait_port(15.0)

    def _wait_port(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = read_text(self.out_path)
            if "\n" in text:
                m = re.match(r"PORT (\d+)\s*$", text.splitlines()[0])
                if not m:
                    raise RuntimeError("mongo double: unexpected first line %r" %
                                       text.splitlines()[0])
                return int(m.group(1))
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("mongo double did not print its port:\n" +
                           tail(read_text(self.err_path)))

    def url(self, dbname):
        # The form documented in tests/mongo_double.py's header,
        #   mongodb://127.0.0.1:<n>/?replicaSet=rs0&serverSelectionTimeoutMS=5000,
        # with a database named in the path so that each service instance gets its own.
        return ("mongodb://127.0.0.1:%d/%s?replicaSet=rs0&serverSelectionTimeoutMS=5000" %
                (self.port, dbname))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        self.err.close()


_mongo = None


def mongo_double():
    global _mongo
    with _tmp_lock:
        if _mongo is None:
            _mongo = MongoDouble()

            def stop():
                kill_leftovers()
                _mongo.stop()
            atexit.register(stop)
        return _mongo


def new_store_url(tag="auth"):
    """A fresh, empty store for one service instance (or several sharing it)."""
    n = next_seq()
    if BACKEND == "sqlite":
        path = os.path.join(tmp_root(), "%s-%d.db" % (tag, n))
        for stale in (path, path + "-wal", path + "-shm"):  # a reused artifacts dir
            if os.path.exists(stale):
                os.remove(stale)
        return "sqlite://" + path
    if BACKEND == "mongo":
        return mongo_double().url("it_%s_%d_%s" % (tag, n, os.urandom(2).hex()))
    raise RuntimeError("TIZZA_TEST_BACKEND must be sqlite or mongo, not %r" % BACKEND)


# ---------------------------------------------------------------- RabbitMQ

_broker = None


def broker():
    """A private RabbitMQ node (tests/broker.py) shared by the test process, started on
    first use: services that use the broker are only ready (GET /ready) with one."""
    global _broker
    with _tmp_lock:
        if _broker is None:
            import sys
            sys.path.insert(0, os.path.join(REPO, "tests"))
            from broker import Broker
            b = Broker()
            try:
                b.start()
            except BaseException:
                b.stop()
                b.cleanup()
                raise
            _broker = b

            def stop():
                kill_leftovers()  # services first (atexit runs last-registered first)
                b.stop()
                b.cleanup()
            atexit.register(stop)
        return _broker


# ---------------------------------------------------------------- processes

def base_env(store_url=None, extra=None):
    env = {k: v for k, v in os.environ.items()
           if k not in _SCRUB and not k.startswith(_SCRUB_PREFIXES)}
    env.update({
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "info",
        "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
        "AUTH_KEY_ENCRYPTION_KEY": TEST_KEY_ENCRYPTION_KEY,
    })
    if store_url:
        env["STORE_URL"] = store_url
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


def run_cli(args, store_url=None, env=None, input=None, timeout=60, name="auth"):
    """Runs the binary with `args` to completion; returns CompletedProcess (text)."""
    return subprocess.run([binary(name)] + list(args), cwd=REPO,
                          env=base_env(store_url, env), input=input,
                          stdin=None if input is not None else subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


_running = set()  # Services and Procs not stopped yet: SIGKILLed at exit, none left behind


@atexit.register
def kill_leftovers():
    for svc in list(_running):
        if svc.proc is not None and svc.proc.poll() is None:
            svc.proc.kill()
            svc.proc.wait()


class Service:
    """One running tizza-<name> process."""

    def __init__(self, name="auth", store_url=None, env=None, args=(), tag=None, nofile=None):
        self.name = name
        self.nofile = nofile  # RLIMIT_NOFILE of the process, when set
        self.store_url = store_url or new_store_url(name)
        self.extra_env = dict(env or {})
        self.args = list(args)
        self.tag = tag or "%s-%d" % (name, next_seq())
        self.dir = os.path.join(tmp_root(), self.tag)
        os.makedirs(self.dir, exist_ok=True)
        self.proc = None
        self.port = None
        self.returncode = None
        self.starts = 0

    # -- lifecycle
    def env(self):
        e = {"RATE_LIMIT_LOGIN": HIGH_LIMIT, "RATE_LIMIT_SIGNUP": HIGH_LIMIT,
             "DRAIN_MS": "3000", "PORT": str(self.port)}
        if "AMQP_URL" not in self.extra_env:
            e["AMQP_URL"] = broker().url
        e.update(self.extra_env)
        return base_env(self.store_url, e)

    def start(self, timeout=10.0, wait="/ready"):
        last = None
        for _attempt in range(3):  # a freed port may be taken again by someone else
            self.port = free_port()
            self.starts += 1
            self.out_path = os.path.join(self.dir, "stdout-%d.log" % self.starts)
            self.err_path = os.path.join(self.dir, "stderr-%d.log" % self.starts)
            with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
                limit = self.nofile
                self.proc = subprocess.Popen(
                    [binary(self.name)] + self.args, cwd=REPO, env=self.env(), stdout=out,
                    stderr=err, stdin=subprocess.DEVNULL,
                    preexec_fn=(lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit)))
                    if limit else None)
            self.returncode = None
            _running.add(self)
            try:
                self.wait_ready(timeout, wait)
                return self
            except RuntimeError as e:
                last = e
                if self.proc.poll() is None:
                    self.proc.kill()
                    self.proc.wait()
                if "bind" not in read_text(self.err_path) + read_text(self.out_path):
                    break
        raise last

    def wait_ready(self, timeout, path="/ready"):
        """Until GET `path` answers 200 (RuntimeError after `timeout` or if it exits)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s before ready:\n%s\n%s" % (
                    self.tag, self.proc.returncode, tail(self.stderr()), tail(self.stdout(), 10)))
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", path)
                r = conn.getresponse()
                r.read()
                conn.close()
                if r.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("%s not ready (GET %s != 200) within %.0f s:\n%s" % (
            self.tag, path, timeout, tail(self.stderr())))

    def stop(self, timeout=20.0):
        """SIGTERM and wait; returns the exit status (idempotent)."""
        _running.discard(self)
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.returncode = "killed after %.0f s without exiting on SIGTERM" % timeout
                self.proc = None
                return self.returncode
        self.returncode = self.proc.returncode
        self.proc = None
        return self.returncode

    def stop_and_check(self, test=None):
        """Stops and asserts a clean exit (status 0, no sanitizer report)."""
        rc = self.stop()
        msg = exit_report(self.tag, rc, self.stderr(), getattr(self, "err_path", None))
        if msg:
            if test is not None:
                test.fail(msg)
            raise AssertionError(msg)

    def stdout(self):
        return read_text(self.out_path) if self.port else ""

    def stderr(self):
        return read_text(self.err_path) if self.port else ""

    def all_output(self):
        """stdout+stderr of every start of this instance."""
        texts = []
        for i in range(1, self.starts + 1):
            texts.append(read_text(os.path.join(self.dir, "stdout-%d.log" % i)))
            texts.append(read_text(os.path.join(self.dir, "stderr-%d.log" % i)))
        return "\n".join(texts)

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def client(self):
        return Client(self)

    def cli(self, args, env=None, input=None, timeout=60):
        """Runs a subcommand of this service's binary against its store."""
        return run_cli(args, store_url=self.store_url, env=env, input=input,
                       timeout=timeout, name=self.name)


# ---------------------------------------------------------------- HTTP client

def parse_set_cookie(header):
    """'n=v; Path=/; HttpOnly' -> (name, value, {lowercase attr: value or True})."""
    parts = [p.strip() for p in header.split(";")]
    name, _, value = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        if not p:
            continue
        k, eq, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip() if eq else True
    return name.strip(), value.strip(), attrs


class Response:
    def __init__(self, method, path, status, headers, raw):
        self.method, self.path = method, path
        self.status, self.headers, self.raw = status, headers, raw
        self.json = None
        ctype = (headers.get("Content-Type") or "").lower()
        if "json" in ctype and raw:
            try:
                self.json = json.loads(raw.decode("utf-8"))
            except ValueError:
                self.json = None

    @property
    def text(self):
        return self.raw.decode("utf-8", "replace")

    @property
    def data(self):
        return self.json if self.json is not None else self.raw

    @property
    def content_type(self):
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def set_cookies(self):
        """{name: (value, attrs)} from every Set-Cookie header."""
        out = {}
        for h in self.headers.get_all("Set-Cookie") or []:
            n, v, a = parse_set_cookie(h)
            out[n] = (v, a)
        return out

    def __iter__(self):
        return iter((self.status, self.headers, self.data))

    def __repr__(self):
        return "<%s %s -> %s %s>" % (self.method, self.path, self.status, self.raw[:300])


_NOBODY = object()


class Client:
    """Requests with a cookie jar against one service (or any base URL)."""

    def __init__(self, svc_or_base):
        self.svc = None
        if isinstance(svc_or_base, Service):
            self.svc = svc_or_base
            self.host, self.port = "127.0.0.1", svc_or_base.port
        else:
            u = urllib.parse.urlsplit(svc_or_base)
            self.host, self.port = u.hostname, u.port
        self.jar = {}  # name -> (value, path)
        self.token = None  # Bearer token sent when set

    def cookie(self, name):
        c = self.jar.get(name)
        return c[0] if c else None

    def _cookie_header(self, path):
        p = path.split("?", 1)[0]
        pairs = []
        for n, (v, cpath) in self.jar.items():
            if cpath in ("", "/") or p == cpath or p.startswith(cpath.rstrip("/") + "/"):
                pairs.append("%s=%s" % (n, v))
        return "; ".join(pairs)

    def _store_cookies(self, resp):
        for n, (v, a) in resp.set_cookies().items():
            if a.get("max-age") == "0" or v == "":
                self.jar.pop(n, None)
            else:
                self.jar[n] = (v, a.get("path", "/") if a.get("path") is not True else "/")

    def request(self, method, path, json_body=_NOBODY, body=None, headers=None, token=None,
                cookies=True, content_type=None):
        """json_body: any JSON value to send; body: raw bytes/str; token: Bearer token
        (False = none even if self.token is set); cookies: send and store the jar."""
        hdrs = {}
        if json_body is not _NOBODY:
            body = json.dumps(json_body).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        elif isinstance(body, str):
            body = body.encode("utf-8")
        if content_type is not None:
            hdrs["Content-Type"] = content_type
        tok = self.token if token is None else token
        if tok:
            hdrs["Authorization"] = "Bearer " + tok
        if cookies:
            ch = self._cookie_header(path)
            if ch:
                hdrs["Cookie"] = ch
        hdrs.update(headers or {})
        hdrs = {k: v for k, v in hdrs.items() if v is not None}
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            raw = r.read()
            resp = Response(method, path, r.status, r.headers, raw)
        except OSError as e:
            self._explain(method, path, e)
            raise
        finally:
            conn.close()
        if cookies:
            self._store_cookies(resp)
        return resp

    def _explain(self, method, path, err):
        """A dead service makes every later request fail: say so once, plainly."""
        proc = self.svc.proc if self.svc is not None else None
        if proc is None:  # not ours to explain (or being stopped on purpose)
            return
        time.sleep(0.2)
        rc = proc.poll()
        svc = self.svc
        if rc is not None and svc.proc is proc:
            raise AssertionError("%s %s: %s -- the service %s has died (exit status %s):\n%s" % (
                method, path, err, svc.tag, rc, tail(svc.stderr(), 30))) from err

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json_body=_NOBODY, **kw):
        return self.request("POST", path, json_body=json_body, **kw)

    def put(self, path, json_body=_NOBODY, **kw):
        return self.request("PUT", path, json_body=json_body, **kw)

    def patch(self, path, json_body=_NOBODY, **kw):
        return self.request("PATCH", path, json_body=json_body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def path_of(url):
    """'http://h:p/a?b' -> '/a?b' (to follow next/previous links)."""
    u = urllib.parse.urlsplit(url)
    return u.path + ("?" + u.query if u.query else "")


def raw_http(port, request_bytes, timeout=10):
    """Sends raw bytes, reads until the server closes; returns (head bytes, body bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(request_bytes)
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    finally:
        s.close()
    data = b"".join(chunks)
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


# ---------------------------------------------------------------- Proc and Group
# What cluster.py (auth + tweets, SQLite) and constellation.py (all four services, either
# backend) have in common; each subclasses Proc for its HTTP calls and Group for its
# services and users.

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


def http_status(port, path, timeout):
    """The status of GET `path` on its own connection (OSError when there is no answer)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()


class Proc:
    """One tizza-<name> process, restartable on the same store. env: its variables over
    base_env() (DRAIN_MS=3000 unless given; PORT is self.port). Subclasses give get()
    (an HTTP GET returning a response with .status and .text) and start()."""

    STOP_TIMEOUT = 30.0  # seconds from SIGTERM to exit before stop() fails
    CLI_TIMEOUT = 120

    def __init__(self, name, env, tag, port=None):
        self.name, self.extra, self.tag, self.port = name, dict(env), tag, port
        self.dir = os.path.join(tmp_root(), tag)
        os.makedirs(self.dir, exist_ok=True)
        self.proc = None
        self.starts = 0
        self.out_path = self.err_path = None

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def store_url(self):
        return self.extra["STORE_URL"]

    def env(self):
        e = {"DRAIN_MS": "3000", "PORT": str(self.port)}
        e.update(self.extra)
        return base_env(None, e)

    def spawn(self):
        """Starts the process on self.port without waiting; logs to a new pair of files."""
        if self.proc is not None:
            raise RuntimeError("%s is already running" % self.tag)
        self.starts += 1
        self.out_path = os.path.join(self.dir, "stdout-%d.log" % self.starts)
        self.err_path = os.path.join(self.dir, "stderr-%d.log" % self.starts)
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = popen([binary(self.name)], cwd=REPO, env=self.env(), stdout=out,
                              stderr=err, stdin=subprocess.DEVNULL)
        _running.add(self)

    def wait_ready(self, timeout=30.0):
        """Until GET /ready answers 200 (RuntimeError after `timeout` or if it exits)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s before ready:\n%s\n%s" % (
                    self.tag, self.proc.returncode, tail(self.stderr()),
                    tail(self.stdout(), 10)))
            try:
                if self.ready_status(timeout=3) == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("%s not ready (GET /ready != 200) within %.0f s:\n%s" % (
            self.tag, timeout, tail(self.stderr() + self.stdout())))

    def ready_status(self, timeout=30):
        return http_status(self.port, "/ready", timeout)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=None):
        """SIGTERM; asserts exit status 0 and no sanitizer report on stderr. Idempotent."""
        timeout = self.STOP_TIMEOUT if timeout is None else timeout
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        _running.discard(self)
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

    def kill(self, check=True):
        """SIGKILL (the crash the outbox must survive). With check, stderr must still hold
        no sanitizer report; teardowns pass check=False. Idempotent."""
        _running.discard(self)
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if check:
            self.check_clean(None)

    def check_clean(self, rc):
        """AssertionError unless stderr is free of sanitizer reports and (rc not None) rc 0."""
        msg = exit_report(self.tag, rc, self.stderr(), self.err_path,
                          check_status=rc is not None)
        if msg:
            raise AssertionError(msg)

    def stdout(self):
        return read_text(self.out_path) if self.out_path else ""

    def stderr(self):
        return read_text(self.err_path) if self.err_path else ""

    def all_logs(self):
        """stdout+stderr of every start."""
        return "\n".join(read_text(os.path.join(self.dir, "%s-%d.log" % (k, i)))
                         for i in range(1, self.starts + 1) for k in ("stdout", "stderr"))

    def cli(self, args, env=None, timeout=None):
        """Runs a subcommand of the binary against this service's store."""
        e = dict(self.extra)
        e.update(env or {})
        p = popen([binary(self.name)] + list(args), cwd=REPO, env=base_env(None, e),
                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                  text=True)
        try:
            out, err = p.communicate(timeout=self.CLI_TIMEOUT if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise
        return subprocess.CompletedProcess(p.args, p.returncode, out, err)

    def metrics(self):
        """GET /metrics as parse_metrics() samples."""
        r = self.get("/metrics")
        if r.status != 200:
            raise AssertionError("%s GET /metrics: %r" % (self.tag, r))
        return parse_metrics(r.text)

    def metric(self, name, labels=None):
        """Sum of the samples of `name` whose labels include `labels`; None when absent."""
        total, seen = 0.0, False
        for n, have, v in self.metrics():
            if n == name and all(have.get(k) == w for k, w in (labels or {}).items()):
                total += v
                seen = True
        return total if seen else None


class User:
    def __init__(self, id, username, token, password):
        self.id, self.username, self.token, self.password = id, username, token, password

    def __repr__(self):
        return "<User %s %s>" % (self.username, self.id)


def in_parallel(n, threads, make):
    """[make() for each of n] on `threads` threads (argon2id hashing makes signups slow);
    the first exception any call raised is raised once all threads are done."""
    results = [None] * n
    errors = []

    def work(k):
        for i in range(k, n, threads):
            try:
                results[i] = make()
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
    return results


class Api:
    """REST shortcuts over the four services, for anything that has them as `auth`, `pizza`,
    `likes` and `tweets` (objects with get/post/put/patch/delete(path, body, token=...): a
    Proc, or a Client on the gateway) and the admin as `admin` (a User): a Group here, the
    container stack in tests/containers. Each asserts the status it expects."""

    # -- users
    def login(self, username, password):
        r = self.auth.post("/api/v1/auth/login", {"username": username, "password": password})
        if r.status != 200 or not isinstance(r.json, dict) or "access_token" not in r.json:
            raise AssertionError("login %s: %r" % (username, r))
        u = r.json["user"]
        return User(u["id"], u["username"], r.json["access_token"], password)

    def signup(self, prefix="u"):
        username = unique(prefix)
        password = "pw-" + os.urandom(8).hex()
        r = self.auth.post("/api/v1/auth/signup", {"username": username,
                                                   "email": username + "@example.org",
                                                   "password": password})
        token = r.set_cookies().get("tizza_access", (None,))[0]
        if r.status != 201 or not token:
            raise AssertionError("signup %s: %r" % (username, r))
        return User(r.json["id"], r.json["username"], token, password)

    def signup_many(self, n, prefix="u"):
        """n users, signed up two at a time (argon2id hashing is the slow part)."""
        return in_parallel(n, 2, lambda: self.signup(prefix))

    # -- pizza and likes shortcuts (each asserts its expected status)
    def pizzeria(self, user, name="Pizzeria", address="1 Main St", phone="+1 (555) 010-0000"):
        r = self.pizza.post("/api/v1/pizzerias", {"name": name, "address": address,
                                                  "phone": phone}, token=user.token)
        if r.status != 201:
            raise AssertionError("create pizzeria: %r" % r)
        return r.json

    def new_pizza(self, user, pizzeria_id, title="Margherita", kind="vegetarian",
                  approve=False, **fields):
        body = {"pizzeria_id": pizzeria_id, "title": title, "kind": kind}
        body.update(fields)
        r = self.pizza.post("/api/v1/pizzas", body, token=user.token)
        if r.status != 201:
            raise AssertionError("create pizza: %r" % r)
        if approve:
            return self.approve(r.json["id"])
        return r.json

    def approve(self, pizza_id, approved=True):
        r = self.pizza.patch("/api/v1/pizzas/" + pizza_id, {"approved": approved},
                             token=self.admin.token)
        if r.status != 200 or r.json.get("approved") is not approved:
            raise AssertionError("approve pizza: %r" % r)
        return r.json

    def judge(self, user, pizza_id, liked=True):
        r = self.likes.put("/api/v1/likes/" + pizza_id, {"liked": liked}, token=user.token)
        if r.status not in (200, 201):
            raise AssertionError("PUT like: %r" % r)
        return r.json

    def counts(self, pizza_ids):
        r = self.likes.get("/api/v1/likes/counts?pizza_ids=" + ",".join(pizza_ids))
        if r.status != 200:
            raise AssertionError("counts: %r" % r)
        return r.json["counts"]

    # -- erasure records (SPEC §5: GET /api/v1/users/{id}/erasure on auth)
    def erasure(self, user_id, token=None):
        """The erasure record's response, read as `token` (default: the admin)."""
        return self.auth.get("/api/v1/users/%s/erasure" % user_id,
                             token=token or self.admin.token)

    def erasure_complete(self, user_id, token=None):
        """The erasure record when it is complete, else None."""
        r = self.erasure(user_id, token)
        return r.json if r.status == 200 and r.json and r.json.get("complete") is True else None

    def wait_erased(self, ids, timeout=20.0, token=None):
        """{id: erasure record} once every id's erasure is complete (AssertionError if not)."""
        done = {}
        deadline = time.monotonic() + timeout
        while True:
            for i in ids:
                if i not in done:
                    rec = self.erasure_complete(i, token)
                    if rec:
                        done[i] = rec
            if len(done) == len(ids):
                return done
            if time.monotonic() > deadline:
                missing = [i for i in ids if i not in done]
                raise AssertionError("%d of %d erasures not complete after %.0f s; e.g. %s: %r"
                                     % (len(missing), len(ids), timeout, missing[0],
                                        self.erasure(missing[0], token)))
            time.sleep(0.1)


class Group(Api):
    """Services in a vhost of their own on `broker` (so that the durable queues of two groups
    never meet on a shared node), named tizza-<name>. Subclasses give `auth` (a Proc),
    in_stop_order() (their Procs) and start()."""

    def __init__(self, broker, name):
        self.broker, self.name = broker, name
        self.vhost = "tizza-" + name
        broker.ctl("add_vhost", self.vhost)
        broker.ctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        self.amqp_url = "amqp://guest:guest@127.0.0.1:%d/%s" % (
            broker.port, urllib.parse.quote(self.vhost, safe=""))
        self.admin = None

    def stop(self):
        """Stops every running service (asserting clean exits); the first failure wins."""
        first = None
        for p in self.in_stop_order():
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
            for p in self.in_stop_order():
                p.kill(check=False)
            if self.broker.running():
                try:
                    self.broker.ctl("delete_vhost", self.vhost, check=False)
                except Exception:  # noqa: BLE001 -- cleanup only
                    pass

    def create_admin(self, username="admin", email="admin@x.io"):
        """tizza-auth create-superuser (password ADMIN_PASSWORD) against self.auth's store."""
        r = self.auth.cli(["create-superuser", "--username", username, "--email", email],
                     env={"TIZZA_SUPERUSER_PASSWORD": ADMIN_PASSWORD})
        if r.returncode != 0:
            raise AssertionError("create-superuser: rc=%d\n%s%s" % (r.returncode, r.stdout,
                                                                     r.stderr))


def started(group, fixtures=None):
    """A test module's setUpModule in one call: group.start(), then fixtures(group) (the
    module's users, pizzas, ...); when either fails, group.teardown() before the error goes
    on (unittest runs no tearDownModule after a failed setUpModule). Returns the group."""
    try:
        group.start()
        if fixtures is not None:
            fixtures(group)
    except BaseException:
        group.teardown()
        raise
    return group


# ---------------------------------------------------------------- JWT helpers

def b64url_encode(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(s):
    if re.search(r"[^A-Za-z0-9_-]", s):
        raise ValueError("not base64url: %r" % s[:40])
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_decode(token):
    """(header dict, claims dict, signature bytes) without verifying anything."""
    h, p, s = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p)), b64url_decode(s)


def jwt_build(header, claims, signature=b""):
    return ".".join([b64url_encode(json.dumps(header, separators=(",", ":"))),
                     b64url_encode(json.dumps(claims, separators=(",", ":"))),
                     b64url_encode(signature)])


# ---------------------------------------------------------------- Ed25519 (test oracle)
# RFC 8032 section 6 reference code, used ONLY by the tests: to check that the service's
# tokens verify with the key it publishes, and to forge correctly signed tokens with a key
# the test knows (AUTH_SIGNING_KEY) whose claims are wrong (expired, future iat, ...).
# Python's standard library has no Ed25519; slow but a few ms per operation.

_P = 2 ** 255 - 19
_Q = 2 ** 252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _add(P, Q):
    A, B = (P[1] - P[0]) * (Q[1] - Q[0]) % _P, (P[1] + P[0]) * (Q[1] + Q[0]) % _P
    C, D = 2 * P[3] * Q[3] * _D % _P, 2 * P[2] * Q[2] % _P
    E, F, G, H = B - A, D - C, D + C, B + A
    return (E * F, G * H, F * G, E * H)


def _mul(s, P):
    Q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            Q = _add(Q, P)
        P = _add(P, P)
        s >>= 1
    return Q


def _equal(P, Q):
    return ((P[0] * Q[2] - Q[0] * P[2]) % _P == 0 and
            (P[1] * Q[2] - Q[1] * P[2]) % _P == 0)


def _recover_x(y, sign):
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


_GY = 4 * pow(5, _P - 2, _P) % _P
_GX = _recover_x(_GY, 0)
_G = (_GX, _GY, 1, _GX * _GY % _P)


def _compress(P):
    zinv = pow(P[2], _P - 2, _P)
    x, y = P[0] * zinv % _P, P[1] * zinv % _P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


def _decompress(s):
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


def _h(data):
    return int.from_bytes(hashlib.sha512(data).digest(), "little") % _Q


def _expand(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def ed25519_public(seed):
    return _compress(_mul(_expand(seed)[0], _G))


def ed25519_sign(seed, msg):
    a, prefix = _expand(seed)
    A = _compress(_mul(a, _G))
    r = _h(prefix + msg)
    R = _compress(_mul(r, _G))
    s = (r + _h(R + A + msg) * a) % _Q
    return R + int.to_bytes(s, 32, "little")


def ed25519_verify(public, msg, sig):
    if len(public) != 32 or len(sig) != 64:
        return False
    A, R = _decompress(public), _decompress(sig[:32])
    if A is None or R is None:
        return False
    s = int.from_bytes(sig[32:], "little")
    if s >= _Q:
        return False
    h = _h(sig[:32] + public + msg)
    return _equal(_mul(s, _G), _add(R, _mul(h, A)))


def jwt_sign(seed, header, claims):
    """A JWT signed with the Ed25519 key of `seed` (32 bytes)."""
    signing_input = (b64url_encode(json.dumps(header, separators=(",", ":"))) + "." +
                     b64url_encode(json.dumps(claims, separators=(",", ":"))))
    return signing_input + "." + b64url_encode(ed25519_sign(seed, signing_input.encode()))


def jwt_verify(public, token):
    signing_input, _, sig = token.rpartition(".")
    return ed25519_verify(public, signing_input.encode(), b64url_decode(sig))


def kid_of(public):
    """token.h: base64url of the first 12 bytes of sha256(pk)."""
    return b64url_encode(hashlib.sha256(public).digest()[:12])


# ---------------------------------------------------------------- assertions

ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


class ServiceTestCase(unittest.TestCase):
    maxDiff = 4000

    def assertProblem(self, resp, status, field=None):
        """resp is an RFC 9457 problem with `status` (and a field error on `field`)."""
        self.assertEqual(resp.status, status, resp)
        self.assertEqual(resp.content_type, "application/problem+json", resp)
        body = resp.json
        self.assertIsInstance(body, dict, resp)
        for k in ("type", "title", "detail"):
            self.assertIsInstance(body.get(k), str, "%s: %r" % (k, body))
        self.assertEqual(body.get("status"), status, body)
        self.assertNotIn("<html", resp.text.lower())
        if field is not None:
            errs = body.get("errors")
            self.assertIsInstance(errs, list, body)
            for e in errs:
                self.assertIsInstance(e.get("field"), str, body)
                self.assertIsInstance(e.get("message"), str, body)
            self.assertIn(field, [e.get("field") for e in errs], body)
        return body

    def assertIsoMs(self, value):
        self.assertIsInstance(value, str)
        self.assertRegex(value, ISO_MS_Z)

    def assertObjectId(self, value):
        self.assertIsInstance(value, str)
        self.assertRegex(value, OBJECT_ID)
