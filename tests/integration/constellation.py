"""constellation -- the whole Tizza back end for one test module: a RabbitMQ vhost and the REAL
tizza-auth, tizza-pizza, tizza-likes and tizza-tweets binaries, for the integration tests of
the pizza + likes issue (test_pizza, test_likes, test_constellation, test_openapi_services).

Design. The RabbitMQ node is harness.broker(): one private node per test process, shared
with every other module of the run. Each Constellation adds a vhost of its own to it, so the
durable queues of two constellations (likes.user-deleted, ...) never meet, even though their
names are fixed by the services. Stores come from harness.new_store_url(): a fresh SQLite
file per service, or, with TIZZA_TEST_BACKEND=mongo, a database per service on the one
MongoDB wire-protocol double of the process (harness.mongo_double()).

Ports are chosen before anything starts, because the services point at each other
(AUTH_URL, PIZZA_URL, LIKES_URL, TWEETS_URL) and a restarted service must come back on the
same port for its callers; a port taken by somebody else meanwhile is a start failure
(reported, not papered over). Start order: the admin (tizza-auth create-superuser against
auth's store), auth, then pizza, likes and tweets together (they fetch auth's JWKS at start);
readiness is GET /ready == 200 (store and broker both work).

`Proc.stop()` sends SIGTERM and asserts what makes this a sanitizer run: exit status 0 and
no "AddressSanitizer", "LeakSanitizer" or "runtime error:" on stderr; stop/start of one
service is how tests take a dependency away. Logs go to files under the run's artifacts
directory (TIZZA_TEST_ARTIFACTS), one pair per start.

HTTP goes through harness.Client (one connection per request, no cookies kept here): every
call returns a harness.Response (status, headers, json/raw).

Only the Python standard library is used (run with /usr/bin/python3).
"""
import atexit
import os
import re
import signal
import subprocess
import threading
import time
import urllib.parse

import harness
from harness import Client, read_text, sanitizer_findings, tail

ADMIN_PASSWORD = "admin-pass-" + os.urandom(6).hex()
NO_SUCH_ID = "0123456789abcdef01234567"
SERVICES = ("auth", "pizza", "likes", "tweets")
URL_VARS = {"auth": "AUTH_URL", "pizza": "PIZZA_URL", "likes": "LIKES_URL",
            "tweets": "TWEETS_URL"}

_live = set()      # Procs that may still be running: SIGKILLed at exit whatever happened
_atexit_done = []


def _kill_live():
    for p in list(_live):
        if p.proc is not None and p.proc.poll() is None:
            p.proc.kill()
            p.proc.wait()


def _register_atexit():
    # Registered after harness.broker() started the node, so it runs before the node stops
    # (atexit is last-in first-out).
    if not _atexit_done:
        atexit.register(_kill_live)
        _atexit_done.append(True)


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


class Proc:
    """One tizza-<name> process on a fixed port and store, restartable."""

    def __init__(self, name, port, env, tag):
        self.name, self.port, self.extra, self.tag = name, port, dict(env), tag
        self.dir = os.path.join(harness.tmp_root(), tag)
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
        return harness.base_env(None, e)

    def spawn(self):
        if self.proc is not None:
            raise RuntimeError("%s is already running" % self.tag)
        self.starts += 1
        self.out_path = os.path.join(self.dir, "stdout-%d.log" % self.starts)
        self.err_path = os.path.join(self.dir, "stderr-%d.log" % self.starts)
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([harness.binary(self.name)], cwd=harness.REPO,
                                         env=self.env(), stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL)
        _live.add(self)

    def wait_ready(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s before ready:\n%s\n%s" % (
                    self.tag, self.proc.returncode, tail(self.stderr()),
                    tail(self.stdout(), 10)))
            try:
                if self.ready_status() == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("%s not ready (GET /ready != 200) within %.0f s:\n%s" % (
            self.tag, timeout, tail(self.stderr() + self.stdout())))

    def start(self, timeout=30.0):
        self.spawn()
        return self.wait_ready(timeout)

    def ready_status(self):
        return Client(self.base).get("/ready", cookies=False).status

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=20.0):
        """SIGTERM; asserts exit status 0 and no sanitizer report on stderr. Idempotent."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        _live.discard(self)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise AssertionError("%s did not exit within %.0f s of SIGTERM:\n%s" % (
                    self.tag, timeout, tail(self.stderr())))
        err = self.stderr()
        problems = []
        if proc.returncode != 0:
            problems.append("exit status %r (want 0)" % proc.returncode)
        found = sanitizer_findings(err)
        if found:
            problems.append("sanitizer report on stderr (%s)" % ", ".join(found))
        if problems:
            raise AssertionError("%s: %s\n--- stderr (%s):\n%s" % (
                self.tag, "; ".join(problems), self.err_path, tail(err, 60)))

    def kill(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self.proc = None
        _live.discard(self)

    def stdout(self):
        return read_text(self.out_path) if self.out_path else ""

    def stderr(self):
        return read_text(self.err_path) if self.err_path else ""

    def cli(self, args, env=None, timeout=60):
        """Runs a subcommand of the binary against this service's store."""
        e = dict(self.extra)
        e.update(env or {})
        return subprocess.run([harness.binary(self.name)] + list(args), cwd=harness.REPO,
                              env=harness.base_env(None, e), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)

    # -- HTTP
    def req(self, method, path, body=harness._NOBODY, token=None, raw=None, **kw):
        """One request; body: a JSON value (sent as application/json); raw: bytes sent as
        they are (give content_type=); token: Bearer."""
        return Client(self.base).request(method, path, json_body=body, body=raw,
                                         token=token or False, cookies=False, **kw)

    def get(self, path, token=None, **kw):
        return self.req("GET", path, token=token, **kw)

    def put(self, path, body=harness._NOBODY, token=None, **kw):
        return self.req("PUT", path, body, token=token, **kw)

    def post(self, path, body=harness._NOBODY, token=None, **kw):
        return self.req("POST", path, body, token=token, **kw)

    def patch(self, path, body=harness._NOBODY, token=None, **kw):
        return self.req("PATCH", path, body, token=token, **kw)

    def delete(self, path, token=None, **kw):
        return self.req("DELETE", path, token=token, **kw)

    def metrics(self):
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
    def __init__(self, id, username, token, password, role="user"):
        self.id, self.username, self.token, self.password, self.role = (
            id, username, token, password, role)

    def __repr__(self):
        return "<User %s %s>" % (self.username, self.id)


class Constellation:
    """A vhost + auth, pizza, likes and tweets, each on a store of its own."""

    def __init__(self, env=None, name=None):
        """env: {service: {VAR: value}} added to (or overriding) that service's env."""
        self.broker = harness.broker()
        _register_atexit()
        n = harness.next_seq()
        self.name = name or "k%d-%s" % (n, os.urandom(2).hex())
        self.vhost = "tizza-" + self.name
        self.broker.ctl("add_vhost", self.vhost)
        self.broker.ctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        self.amqp_url = "amqp://guest:guest@127.0.0.1:%d/%s" % (
            self.broker.port, urllib.parse.quote(self.vhost, safe=""))
        ports = {}
        while len(set(ports.values())) < len(SERVICES):
            ports = {s: harness.free_port() for s in SERVICES}
        urls = {URL_VARS[s]: "http://127.0.0.1:%d" % p for s, p in ports.items()}
        self.procs = {}
        for s in SERVICES:
            e = {"STORE_URL": harness.new_store_url(s), "AMQP_URL": self.amqp_url,
                 "RATE_LIMIT_SIGNUP": "0", "RATE_LIMIT_LOGIN": "0",
                 "LOGIN_FAILURES_PER_USER": "0", "HASH_CONCURRENCY": "2"}
            e.update(urls)
            e.update((env or {}).get(s, {}))
            self.procs[s] = Proc(s, ports[s], e, "%s-%s" % (self.name, s))
        self.admin = None

    auth = property(lambda self: self.procs["auth"])
    pizza = property(lambda self: self.procs["pizza"])
    likes = property(lambda self: self.procs["likes"])
    tweets = property(lambda self: self.procs["tweets"])

    def start(self):
        """Admin, auth, then the other three in parallel; returns self."""
        self.create_admin()
        self.auth.start()
        others = [self.procs[s] for s in SERVICES if s != "auth"]
        for p in others:
            p.spawn()
        for p in others:
            p.wait_ready()
        self.admin = self.login("admin", ADMIN_PASSWORD)
        return self

    def stop_service(self, name):
        self.procs[name].stop()

    def start_service(self, name, timeout=30.0):
        return self.procs[name].start(timeout)

    def stop(self):
        """Stops every running service (asserting clean exits); the first failure wins."""
        first = None
        for s in ("tweets", "likes", "pizza", "auth"):
            try:
                self.procs[s].stop()
            except AssertionError as e:
                first = first or e
        if first:
            raise first

    def teardown(self):
        """stop() plus the vhost's removal; never leaves a process behind."""
        try:
            self.stop()
        finally:
            for p in self.procs.values():
                p.kill()
            try:
                self.broker.ctl("delete_vhost", self.vhost, check=False)
            except Exception:  # noqa: BLE001 -- cleanup only
                pass

    # -- users
    def create_admin(self, username="admin", email="admin@x.io"):
        r = self.auth.cli(["create-superuser", "--username", username, "--email", email],
                          env={"TIZZA_SUPERUSER_PASSWORD": ADMIN_PASSWORD})
        if r.returncode != 0:
            raise AssertionError("create-superuser: rc=%d\n%s%s" % (r.returncode, r.stdout,
                                                                     r.stderr))

    def login(self, username, password):
        r = self.auth.post("/api/v1/auth/login", {"username": username, "password": password})
        if r.status != 200 or not isinstance(r.json, dict) or "access_token" not in r.json:
            raise AssertionError("login %s: %r" % (username, r))
        u = r.json["user"]
        return User(u["id"], u["username"], r.json["access_token"], password,
                    u.get("role", "user"))

    def signup(self, prefix="u"):
        username = harness.unique(prefix)
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
        users = [None] * n
        errors = []

        def work(k):
            for i in range(k, n, 2):
                try:
                    users[i] = self.signup(prefix)
                except Exception as e:  # noqa: BLE001 -- re-raised below
                    errors.append(e)
                    return

        ts = [threading.Thread(target=work, args=(k,)) for k in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if errors:
            raise errors[0]
        return users

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
