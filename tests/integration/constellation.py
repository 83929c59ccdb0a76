"""constellation -- the whole Tizza back end for one test module: a RabbitMQ vhost and the REAL
binary of every service (services/*/service.yaml, read with tools/gen.py: auth, pizza, likes,
tweets, ...), for the integration tests of pizza and likes (test_pizza, test_likes,
test_constellation, test_openapi_services).

Design. The RabbitMQ node is harness.broker(): one private node per test process, shared
with every other module of the run. Each Constellation adds a vhost of its own to it, so the
durable queues of two constellations (likes.user-deleted, ...) never meet, even though their
names are fixed by the services. Stores come from harness.new_store_url(): a fresh SQLite
file per service, or, with TIZZA_TEST_BACKEND=mongo, a database per service on the one
MongoDB wire-protocol double of the process (harness.mongo_double()).

Ports are chosen before anything starts, because the services point at each other
(AUTH_URL, PIZZA_URL, ...: <NAME>_URL for each) and a restarted service must come back on the
same port for its callers; a port taken by somebody else meanwhile is a start failure
(reported, not papered over). Start order: the admin (tizza-auth create-superuser against
auth's store), auth, then all the others together (they fetch auth's JWKS at start);
readiness is GET /ready == 200 (store and broker both work).

A `Proc` is a harness.Proc on its fixed port: `stop()` sends SIGTERM and asserts what makes
this a sanitizer run: exit status 0 and no "AddressSanitizer", "LeakSanitizer" or "runtime
error:" on stderr; stop/start of one service is how tests take a dependency away. Logs go to
files under the run's artifacts directory (TIZZA_TEST_ARTIFACTS), one pair per start.
`Constellation` is a harness.Group (stop, teardown, the admin, its vhost); a test module
starts one with harness.started().

HTTP goes through harness.Client (one connection per request, no cookies kept here): every
call returns a harness.Response (status, headers, json/raw).

The Python standard library, and tools/gen.py for the list of services.
"""
import os
import sys

import harness
from harness import ADMIN_PASSWORD, NO_SUCH_ID, Client, User, wait_for  # noqa: F401

sys.path.insert(0, os.path.join(harness.REPO, "tools"))
import gen  # noqa: E402

SERVICES = tuple(s["name"] for s in gen.load_services())
# the services that confirm an erasure (their manifests say what they erase)
ERASERS = frozenset(s["name"] for s in gen.load_services() if s["erases"])
URL_VARS = {s: s.upper() + "_URL" for s in SERVICES}


class Proc(harness.Proc):
    """One tizza-<name> process on a fixed port and store, restartable."""

    STOP_TIMEOUT = 20.0
    CLI_TIMEOUT = 60

    def start(self, timeout=30.0):
        self.spawn()
        return self.wait_ready(timeout)

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


class Constellation(harness.Group):
    """A vhost + every service, each on a store of its own."""

    def __init__(self, env=None, name=None):
        """env: {service: {VAR: value}} added to (or overriding) that service's env."""
        super().__init__(harness.broker(),
                         name or "k%d-%s" % (harness.next_seq(), os.urandom(2).hex()))
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
            self.procs[s] = Proc(s, e, "%s-%s" % (self.name, s), port=ports[s])

    auth = property(lambda self: self.procs["auth"])
    pizza = property(lambda self: self.procs["pizza"])
    likes = property(lambda self: self.procs["likes"])
    tweets = property(lambda self: self.procs["tweets"])

    def start(self):
        """Admin, auth, then the others in parallel; returns self."""
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

    def in_stop_order(self):
        return [self.procs[s] for s in reversed(SERVICES) if s != "auth"] + [self.auth]
