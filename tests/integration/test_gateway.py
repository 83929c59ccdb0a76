"""Integration test of the nginx gateway (deploy/nginx/gateway.conf) in front of the REAL
tizza-auth, tizza-pizza, tizza-likes and tizza-tweets binaries and a real RabbitMQ node
(constellation.py), on the store backend TIZZA_TEST_BACKEND names.

The gateway runs as `make run` runs it: deploy/nginx/render.sh renders nginx.local.conf +
upstreams.local.conf + gateway.conf into one file, here with the constellation's free ports
as the upstream addresses, a free port to listen on and, as the web root, a temporary
directory holding a fake build (index.html, one hashed asset, one picture), so the static
checks do not depend on the state of services/web/dist.

Routing is checked where it cannot be faked: each request carries a unique X-Request-Id,
and the test finds that id in the access log of exactly the service it should reach (and
in no other). The rest: the request id contract, the body limit, a stopped upstream,
the single-page-app fallback, the X-Forwarded-* headers the services build URLs from,
keep-alive connections to the services, gzip for static files only, and the gateway's own
JSON access log.

Only the Python standard library is used.
"""
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import time
import unittest

import harness
from constellation import NO_SUCH_ID, SERVICES, Constellation, wait_for
from harness import Client, ServiceTestCase, read_text, started, tail
from hostile import PROBES, assert_problem, exchange

K = None
GW = None
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
RENDER = os.path.join(harness.REPO, "deploy", "nginx", "render.sh")
INDEX_MARK = "tizza-gateway-test-index"
ASSET = "/assets/app-3f2a1b.js"
ASSET_BODY = "console.log('tizza gateway test');\n" * 40
# More than gzip_min_length, so that compression is observable.
INDEX_HTML = ("<!doctype html><html><head><meta charset=\"utf-8\"><title>%s</title></head>"
              "<body><div id=\"root\"></div>%s</body></html>\n"
              % (INDEX_MARK, "<!-- filler -->" * 80))


class Gateway:
    """nginx with the rendered gateway config, in the foreground, logs to files."""

    def __init__(self, k):
        self.dir = os.path.join(harness.tmp_root(), "gateway-%d" % harness.next_seq())
        self.www = os.path.join(self.dir, "www")
        self.prefix = os.path.join(self.dir, "nginx")
        shutil.rmtree(self.dir, ignore_errors=True)   # a reused artifacts directory
        os.makedirs(os.path.join(self.www, "assets"))
        os.makedirs(os.path.join(self.www, "pizzas"))
        with open(os.path.join(self.www, "index.html"), "w") as f:
            f.write(INDEX_HTML)
        with open(os.path.join(self.www, ASSET.lstrip("/")), "w") as f:
            f.write(ASSET_BODY)
        shutil.copy(os.path.join(harness.REPO, "services/web/public/pizzas/margherita.svg"),
                    os.path.join(self.www, "pizzas"))
        self.port = harness.free_port()
        self.conf = os.path.join(self.dir, "nginx.conf")
        args = ["bash", RENDER, "--listen", "127.0.0.1:%d" % self.port, "--root", self.www,
                "--prefix", self.prefix]
        for s in SERVICES:
            args += ["--" + s, "127.0.0.1:%d" % k.procs[s].port]
        r = subprocess.run(args, capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("render.sh failed: %s" % r.stderr)
        with open(self.conf, "w") as f:
            f.write(r.stdout)
        self.out_path = os.path.join(self.dir, "stdout.log")
        self.err_path = os.path.join(self.dir, "stderr.log")
        self.proc = None

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        """Starts nginx and waits until it serves; on any failure nginx is gone again."""
        with open(self.out_path, "ab") as out, open(self.err_path, "ab") as err:
            self.proc = subprocess.Popen(
                [NGINX, "-e", "stderr", "-p", self.prefix, "-c", self.conf,
                 "-g", "daemon off;"], stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        try:
            self.wait_serving(15.0)
        except BaseException:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            raise

    def wait_serving(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited with %s:\n%s" % (
                    self.proc.returncode, tail(read_text(self.err_path))))
            try:
                if Client(self.base).get("/index.html", cookies=False).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("nginx did not answer within %.0f s:\n%s" % (
            timeout, read_text(self.err_path)))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def access_log(self):
        """The gateway's access log lines, parsed (every line must be JSON)."""
        return [json.loads(line) for line in read_text(self.out_path).splitlines() if line]

    def worker_pids(self):
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)],
                             capture_output=True, text=True).stdout
        return {int(p) for p in out.split()}


def setUpModule():
    global K
    env = {s: {"TRUSTED_PROXIES": "127.0.0.1"} for s in SERVICES}
    K = started(Constellation(env=env), start_gateway)


def start_gateway(k):
    """started()'s fixtures: the gateway in front of k (Gateway.start() leaves no nginx
    behind when it fails, and started() then tears k down)."""
    global GW
    GW = Gateway(k)
    GW.start()


def tearDownModule():
    if GW is not None:
        GW.stop()
    if K is not None:
        K.teardown()


def new_id(tag="gw"):
    return "%s-%s" % (tag, os.urandom(8).hex())


def logged_request_ids(name):
    """Request ids in the access log lines (JSON, msg "request") of service `name`."""
    ids = set()
    for line in K.procs[name].stdout().splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and doc.get("msg") == "request":
            ids.add(doc.get("request_id"))
    return ids


def services_that_logged(rid, expect_some=True):
    """The services whose access log has request id `rid` (waits for the expected one)."""
    found = set()

    def look():
        found.clear()
        found.update(s for s in SERVICES if rid in logged_request_ids(s))
        return found if expect_some else True
    if expect_some:
        wait_for(look, 5.0, what="request id %s in a service's access log" % rid)
    else:
        time.sleep(0.3)
        look()
    return set(found)


def gw(method, path, **kw):
    return Client(GW.base).request(method, path, cookies=False, **kw)


class TestRouting(ServiceTestCase):

    def test_each_route_prefix_reaches_its_service(self):
        admin = K.admin
        routes = [
            ("GET", "/api/v1/auth/jwks", "auth", 200),
            ("GET", "/api/v1/auth/me", "auth", 401),
            ("GET", "/api/v1/auth", "auth", 404),
            ("GET", "/api/v1/users", "auth", 200),
            ("GET", "/api/v1/users/" + admin.id, "auth", 200),
            ("GET", "/api/v1/pizzerias", "pizza", 200),
            ("GET", "/api/v1/pizzerias/" + NO_SUCH_ID, "pizza", 404),
            ("GET", "/api/v1/pizzas", "pizza", 200),
            ("GET", "/api/v1/pizzas/" + NO_SUCH_ID, "pizza", 404),
            ("GET", "/api/v1/likes", "likes", 401),
            ("GET", "/api/v1/likes/counts?pizza_ids=" + NO_SUCH_ID, "likes", 200),
            ("GET", "/api/v2/tweets", "tweets", 200),
            ("GET", "/api/v2/tweets/" + NO_SUCH_ID, "tweets", 404),
        ]
        for name in SERVICES:
            for doc in ("health", "ready", "info", "openapi.yaml"):
                routes.append(("GET", "/services/%s/%s" % (name, doc), name, 200))
        for method, path, service, status in routes:
            with self.subTest(path=path):
                rid = new_id()
                r = gw(method, path, headers={"X-Request-Id": rid})
                self.assertEqual(r.status, status, r)
                self.assertEqual(services_that_logged(rid), {service}, path)

    def test_service_documents(self):
        for name in SERVICES:
            with self.subTest(service=name):
                r = gw("GET", "/services/%s/info" % name)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json["name"], name)
                r = gw("GET", "/services/%s/health" % name)
                self.assertEqual((r.status, r.json), (200, {"status": "ok"}))
                r = gw("GET", "/services/%s/openapi.yaml" % name)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.content_type, "application/yaml")
                self.assertRegex(r.text, r"(?m)^openapi: ")

    def test_unknown_routes_are_gateway_404s_and_reach_no_service(self):
        for path in ("/api/v1/usersx", "/api/v1/pizzasx", "/api/v1/likesx", "/api/v2/tweetsx",
                     "/api/v3/tweets", "/api/", "/services/auth/metrics", "/services/auth/",
                     "/services/nope/info", "/services/auth/info/x", "/api", "/services",
                     "/assets/"):
            with self.subTest(path=path):
                rid = new_id("miss")
                r = gw("GET", path, headers={"X-Request-Id": rid})
                self.assertProblem(r, 404)
                self.assertNotIn(INDEX_MARK, r.text)
                self.assertEqual(services_that_logged(rid, expect_some=False), set())


class TestRequestIds(ServiceTestCase):

    def test_a_sent_request_id_reaches_the_service_and_comes_back(self):
        rid = new_id("client")
        r = gw("GET", "/api/v1/pizzas", headers={"X-Request-Id": rid})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get_all("X-Request-Id"), [rid])
        self.assertEqual(services_that_logged(rid), {"pizza"})
        # nginx writes its access log line after the response: wait for it
        wait_for(lambda: rid in [line.get("request_id") for line in GW.access_log()], 5.0,
                 what="request id %s in the gateway's access log" % rid)

    def test_a_missing_request_id_is_generated_and_shared_with_the_service(self):
        r = gw("GET", "/api/v2/tweets")
        self.assertEqual(r.status, 200, r)
        ids = r.headers.get_all("X-Request-Id")
        self.assertEqual(len(ids), 1, r.headers)
        self.assertRegex(ids[0], r"^[0-9a-f]{32}$")
        self.assertEqual(services_that_logged(ids[0]), {"tweets"})

    def test_an_unusable_request_id_is_replaced(self):
        for bad in ("x" * 65, "has space", "semi;colon", "quote\"d"):
            with self.subTest(bad=bad):
                r = gw("GET", "/api/v2/tweets", headers={"X-Request-Id": bad})
                self.assertEqual(r.status, 200, r)
                ids = r.headers.get_all("X-Request-Id")
                self.assertEqual(len(ids), 1)
                self.assertRegex(ids[0], r"^[0-9a-f]{32}$")
                self.assertEqual(services_that_logged(ids[0]), {"tweets"})

    def test_static_files_and_gateway_errors_carry_one_too(self):
        for path, status in (("/", 200), ("/pizzas/margherita.svg", 200),
                             ("/api/nothing", 404)):
            with self.subTest(path=path):
                rid = new_id("static")
                r = gw("GET", path, headers={"X-Request-Id": rid})
                self.assertEqual(r.status, status, r)
                self.assertEqual(r.headers.get_all("X-Request-Id"), [rid])

    def test_no_security_header_is_doubled(self):
        for path in ("/api/v2/tweets", "/", "/api/nothing"):
            r = gw("GET", path)
            for h in ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"):
                with self.subTest(path=path, header=h):
                    self.assertEqual(len(r.headers.get_all(h) or []), 1, r.headers)

    def test_the_gateway_access_log_is_json_lines(self):
        rid = new_id("log")
        gw("GET", "/api/v1/users?limit=1", headers={"X-Request-Id": rid})
        line = wait_for(lambda: next((x for x in GW.access_log()
                                      if x.get("request_id") == rid), None),
                        5.0, what="the gateway's access log line")
        self.assertEqual((line["service"], line["msg"], line["method"], line["status"]),
                         ("gateway", "request", "GET", 200))
        self.assertEqual(line["path"], "/api/v1/users?limit=1")
        self.assertEqual(line["upstream"], "127.0.0.1:%d" % K.auth.port)


class TestLimitsAndFailures(ServiceTestCase):

    def test_a_body_over_64_kib_is_a_413_problem(self):
        rid = new_id("big")
        body = b'{"username":"' + b"a" * (64 * 1024) + b'"}'
        r = gw("POST", "/api/v1/auth/signup", body=body, content_type="application/json",
               headers={"X-Request-Id": rid})
        self.assertProblem(r, 413)
        self.assertEqual(r.headers.get_all("X-Request-Id"), [rid])
        self.assertEqual(services_that_logged(rid, expect_some=False), set())

    def test_a_body_under_the_limit_reaches_the_service(self):
        rid = new_id("fits")
        body = json.dumps({"username": "u", "padding": "p" * (60 * 1024)})
        r = gw("POST", "/api/v1/auth/signup", body=body, content_type="application/json",
               headers={"X-Request-Id": rid})
        self.assertProblem(r, 400)   # auth's verdict on the fields, not the gateway's
        self.assertEqual(services_that_logged(rid), {"auth"})

    def test_a_picture_may_be_larger_on_its_route_only(self):
        """The upload route (pizza's manifest, `uploads`) lets 5 MiB through to pizza, which
        decides (here: a PNG signature and zeros is no picture, 422); the same body to
        any other pizza route, or 5 MiB and a byte to the upload route, is the gateway's
        413 and reaches no service."""
        user = K.signup_many(1, "gwpic")[0]
        pz = K.pizzeria(user, name="Gateway pictures")
        pid = K.new_pizza(user, pz["id"])["id"]
        body = b"\x89PNG\r\n\x1a\n" + b"\x00" * (200 * 1024)
        for path, size, status, reached in (
                ("/api/v1/pizzas/%s/picture" % pid, len(body), 422, {"pizza"}),
                ("/api/v1/pizzas/%s/picture" % pid, 5 * 1024 * 1024 + 1, 413, set()),
                ("/api/v1/pizzas/%s" % pid, len(body), 413, set())):
            with self.subTest(path=path, size=size):
                rid = new_id("pic")
                r = gw("PUT", path, body=body.ljust(size, b"\x00"), content_type="image/png",
                       headers={"X-Request-Id": rid, "Authorization": "Bearer " + user.token})
                self.assertProblem(r, status)
                self.assertEqual(services_that_logged(rid, expect_some=bool(reached)), reached)

    def test_a_stopped_service_is_a_502_problem_and_comes_back(self):
        K.stop_service("likes")
        try:
            for path in ("/api/v1/likes/counts?pizza_ids=" + NO_SUCH_ID,
                         "/services/likes/health"):
                with self.subTest(path=path):
                    rid = new_id("down")
                    r = gw("GET", path, headers={"X-Request-Id": rid})
                    body = self.assertProblem(r, 502)
                    self.assertIn("unreachable", body["detail"])
                    self.assertEqual(r.headers.get_all("X-Request-Id"), [rid])
            # the other services are unaffected
            self.assertEqual(gw("GET", "/api/v2/tweets").status, 200)
        finally:
            K.start_service("likes")
        r = gw("GET", "/api/v1/likes/counts?pizza_ids=" + NO_SUCH_ID)
        self.assertEqual(r.status, 200, r)

    def test_a_service_problem_passes_through_untouched(self):
        direct = K.pizza.get("/api/v1/pizzerias/" + NO_SUCH_ID)
        r = gw("GET", "/api/v1/pizzerias/" + NO_SUCH_ID)
        self.assertProblem(r, 404)
        self.assertEqual(r.json, direct.json)
        self.assertNotEqual(r.json["detail"], "no such route or file")


# nginx serves these well-framed requests (it reads chunked bodies and ignores unknown
# expectations, RFC 9110 lets it): what follows them is a request in its own right.
NGINX_SERVES = {"chunk extension", "unknown expectation"}


class TestSmuggling(ServiceTestCase):
    """The same probes through the gateway: whoever refuses (nginx or the service), the
    answer is one problem+json, and the request hidden after the probe is never answered
    nor reaches a service."""

    def test_probes_get_one_problem_and_nothing_is_smuggled(self):
        for name, (data, _status) in PROBES.items():
            with self.subTest(probe=name):
                rid = new_id("smuggle")
                data = data.replace(b"GET /health HTTP/1.1\r\nHost: x\r\n",
                                    b"GET /api/v1/auth/jwks HTTP/1.1\r\nHost: x\r\n"
                                    b"X-Request-Id: " + rid.encode() + b"\r\n")
                answers, _ = exchange(GW.port, data)
                self.assertGreaterEqual(len(answers), 1, name)
                if name in NGINX_SERVES:
                    continue
                self.assertGreaterEqual(answers[0][0], 400, "%s: %r" % (name, answers[0]))
                assert_problem(self, answers[0])
                self.assertEqual(len(answers), 1, "%s: a second answer %r" % (name, answers[1:]))
                self.assertEqual(services_that_logged(rid, expect_some=False), set(), name)


class TestForwarding(ServiceTestCase):

    def test_urls_the_services_build_point_at_the_gateway(self):
        user = K.signup("gwfwd")
        for i in range(2):
            r = gw("POST", "/api/v2/tweets", json_body={"body": "through the gateway %d" % i},
                   token=user.token)
            self.assertEqual(r.status, 201, r)
        r = gw("POST", "/api/v1/pizzerias", json_body={"name": "Gateway", "address": "1 Way"},
               token=user.token)
        self.assertEqual(r.status, 201, r)
        self.assertTrue(r.headers["Location"].startswith(GW.base + "/api/v1/pizzerias/"),
                        r.headers["Location"])
        r = gw("GET", "/api/v2/tweets?limit=1&tweetedby=" + user.username)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json["next"].startswith(GW.base + "/api/v2/tweets?"), r.json)
        # a TLS-terminating proxy in front says https
        r = gw("GET", "/api/v2/tweets?limit=1&tweetedby=" + user.username,
               headers={"X-Forwarded-Proto": "https"})
        self.assertTrue(r.json["next"].startswith("https://127.0.0.1:%d/" % GW.port), r.json)

    def test_connections_to_the_services_are_kept_alive(self):
        for _ in range(5):
            self.assertEqual(gw("GET", "/api/v1/users?limit=1").status, 200)
        # nginx's side of an idle, still open connection to auth
        workers = GW.worker_pids()
        conns = wait_for(lambda: upstream_connections(workers, K.auth.port), 3.0,
                         what="an idle keep-alive connection from nginx to auth")
        self.assertLessEqual(len(conns), 2, conns)   # reused, not one per request


def upstream_connections(pids, port):
    """Established TCP connections to 127.0.0.1:`port` held open by any of `pids`."""
    inodes = set()
    for pid in pids:
        try:
            for fd in os.listdir("/proc/%d/fd" % pid):
                m = re.match(r"socket:\[(\d+)\]", os.readlink("/proc/%d/fd/%s" % (pid, fd)))
                if m:
                    inodes.add(m.group(1))
        except OSError:
            continue
    found = []
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            cols = line.split()
            rem_port = int(cols[2].split(":")[1], 16)
            if rem_port == port and cols[3] == "01" and cols[9] in inodes:
                found.append(cols[1])
    return found


class TestFrontend(ServiceTestCase):

    def test_an_app_route_falls_back_to_index_html(self):
        for path in ("/", "/some/spa/route", "/pizzas/nothing-here", "/index.html"):
            with self.subTest(path=path):
                r = gw("GET", path)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.content_type, "text/html")
                self.assertIn(INDEX_MARK, r.text)
                self.assertEqual(r.headers.get("Cache-Control"), "no-cache")

    def test_files_are_served_and_missing_assets_are_404s(self):
        r = gw("GET", ASSET)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.text, ASSET_BODY)
        self.assertIn("max-age=", r.headers.get("Cache-Control", ""))
        r = gw("GET", "/pizzas/margherita.svg")
        self.assertEqual((r.status, r.content_type), (200, "image/svg+xml"))
        self.assertIn(b"<svg", r.raw)
        r = gw("GET", "/assets/missing-123.js")
        self.assertProblem(r, 404)

    def test_static_files_answer_only_get_and_head(self):
        self.assertEqual(gw("HEAD", "/some/spa/route").status, 200)
        r = gw("POST", "/some/spa/route", body="x", content_type="text/plain")
        self.assertProblem(r, 405)
        self.assertIn("GET", r.headers.get("Allow", ""))

    def test_gzip_for_static_files_only(self):
        r = gw("GET", "/some/spa/route", headers={"Accept-Encoding": "gzip"})
        self.assertEqual(r.headers.get("Content-Encoding"), "gzip", r.headers)
        self.assertIn(INDEX_MARK, gzip.decompress(r.raw).decode())
        r = gw("GET", "/api/v1/users", headers={"Accept-Encoding": "gzip"})
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.headers.get("Content-Encoding"), r.headers)


class TestRender(unittest.TestCase):

    def test_bad_arguments_are_refused(self):
        for args in (["--listen", "8080; evil"], ["--auth", "nohostport"],
                     ["--root", "/tmp/a$b"], ["--nope", "x"], ["--listen"]):
            with self.subTest(args=args):
                r = subprocess.run(["bash", RENDER, "--prefix", GW.prefix] + args,
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(r.stdout, "")

    def test_the_defaults_are_the_make_run_ports(self):
        r = subprocess.run(["bash", RENDER, "--prefix", GW.prefix], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)^    listen 8080;$")
        for port in (8001, 8002, 8003, 8004):
            self.assertIn("server 127.0.0.1:%d;" % port, r.stdout)
        self.assertIn('root "%s/services/web/dist";' % harness.REPO, r.stdout)
        self.assertNotRegex(r.stdout, r"@[A-Z]+@")  # no placeholder left


if __name__ == "__main__":
    unittest.main()
