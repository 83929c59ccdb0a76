"""test_stack -- the production shape, really run: docker-compose.yml (with
deploy/docker/compose.offline.yml where no registry is reachable) brought up from nothing by
tools/stack.sh, used through the gateway's port published on 127.0.0.1, scaled, faulted,
observed by its own Prometheus, rolled and taken down.

The steps run in order on one stack (a compose project of its own, tizza-test-<pid>):
  1. a user's journey through the gateway: sign up, pizzeria, pizza, like, tweet, delete the
     account; the erasure completes in pizza, likes and tweets;
  2. likes scaled to 3 and pizza to 2 under load: every replica answers (its /info names
     it), the gateway balances over the new ones without a restart, no request fails;
  3. one likes replica SIGKILLed under load while accounts are being deleted: no failed
     idempotent request (the gateway retries the next replica), every erasure completes
     (the replicas compete for one queue, so what the killed one held is redelivered);
  4. Prometheus reports up == 1 for every replica of every service, and the requests it
     counts on a route add up to the requests sent;
  5. a rolling update of likes (tools/stack.sh roll) under load: no failed request;
  6. `stack.sh down` leaves no container, network or volume of the project.
Figures (start to healthy, scale-out, failures) go to stderr and to figures.txt in
TIZZA_TEST_ARTIFACTS; when requests failed, so do all the containers' logs (logs-<step>.txt).
Traffic goes only to ports published on 127.0.0.1.
Only the standard library and tests/integration/harness.py.
"""
import calendar
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import harness  # noqa: E402
from constellation import ERASERS  # noqa: E402
from harness import Api, Client, free_port, wait_for  # noqa: E402

STACK = os.path.join(REPO, "tools", "stack.sh")
ENGINE = os.environ.get("TIZZA_ENGINE", "podman")
ARTIFACTS = os.environ.get("TIZZA_TEST_ARTIFACTS", os.path.join(REPO, "tests", "artifacts",
                                                                 "containers"))
ADMIN_PASSWORD = "admin-" + os.urandom(8).hex()


def figure(name, value):
    line = "figure: %s: %s" % (name, value)
    print(line, file=sys.stderr, flush=True)
    os.makedirs(ARTIFACTS, exist_ok=True)
    with open(os.path.join(ARTIFACTS, "figures.txt"), "a") as f:
        f.write(line + "\n")


class Gateway(Client):
    """A Client on the gateway that keeps no cookies: the users here carry bearer tokens."""

    def request(self, method, path, cookies=False, **kw):
        return super().request(method, path, cookies=cookies, **kw)


class Stack(Api):
    """The compose project, its published ports and the Api shortcuts through the gateway."""

    def __init__(self):
        self.project = "tizza-test-%d" % os.getpid()
        self.dir = tempfile.mkdtemp(prefix="tizza-stack-")
        ports = set()
        while len(ports) < 3:
            ports = {free_port() for _ in range(3)}
        self.http_port, self.prom_port, ui_port = sorted(ports)
        env_file = os.path.join(self.dir, "env")
        with open(os.open(env_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("AUTH_KEY_ENCRYPTION_KEY=%s\n" % harness.TEST_KEY_ENCRYPTION_KEY)
        self.env = dict(os.environ, TIZZA_STACK_PROJECT=self.project,
                        TIZZA_STACK_ENV_FILE=env_file,
                        TIZZA_STACK_STATE=os.path.join(self.dir, "state"),
                        TIZZA_HTTP_ADDR="127.0.0.1", TIZZA_HTTP_PORT=str(self.http_port),
                        TIZZA_PROMETHEUS_PORT=str(self.prom_port),
                        TIZZA_RABBITMQ_UI_PORT=str(ui_port))
        gw = Gateway("http://127.0.0.1:%d" % self.http_port)
        self.auth = self.pizza = self.likes = self.tweets = gw
        self.gateway = gw
        self.admin = None

    def sh(self, *args, timeout=600, check=True):
        r = subprocess.run(["bash", STACK] + list(args), env=self.env, cwd=REPO, timeout=timeout,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if check and r.returncode != 0:
            raise AssertionError("stack.sh %s: status %d\n%s" % (" ".join(args), r.returncode,
                                                                  r.stdout[-4000:]))
        return r

    def create_admin(self):
        # in the running auth container: podman's Docker API has no links, which `run` needs
        self.sh("compose", "exec", "-T", "-e", "TIZZA_SUPERUSER_PASSWORD=" + ADMIN_PASSWORD,
                "auth", "tizza-service", "create-superuser", "--username", "admin", "--email",
                "admin@example.org")
        self.admin = self.login("admin", ADMIN_PASSWORD)

    def engine(self, *args):
        return subprocess.run([ENGINE] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, timeout=60).stdout

    def replicas(self, service):
        """{container id: its address on the project's network} of the running replicas."""
        out = {}
        for c in self.engine("ps", "-q", "--filter", "label=com.docker.compose.project=" +
                             self.project, "--filter", "label=com.docker.compose.service=" +
                             service).split():
            nets = json.loads(self.engine("inspect", "--format",
                                          "{{json .NetworkSettings.Networks}}", c) or "{}")
            out[c] = [n.get("IPAddress") for n in nets.values()][0]
        return out

    def save_logs(self, what):
        """Every container's log so far, timestamped, into TIZZA_TEST_ARTIFACTS."""
        os.makedirs(ARTIFACTS, exist_ok=True)
        name = "logs-%s.txt" % "".join(c if c.isalnum() else "-" for c in what)
        with open(os.path.join(ARTIFACTS, name), "w") as out:
            subprocess.run(["bash", STACK, "compose", "logs", "--no-color", "--timestamps"],
                           env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                           timeout=120)

    def left(self):
        """What of the project is still there: containers, networks, volumes."""
        label = "label=com.docker.compose.project=" + self.project
        return {what: self.engine(what, "ls", "-q", "--filter", label).split()
                if what != "container" else self.engine("ps", "-a", "-q", "--filter", label).split()
                for what in ("container", "network", "volume")}

    def instances(self, service, n):
        """The instance names that answered n GETs of /services/<service>/info."""
        seen = set()
        for _ in range(n):
            r = self.gateway.get("/services/%s/info" % service)
            if r.status == 200:
                seen.add(r.json["instance"])
        return seen

    def prom(self, query):
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (
            self.prom_port, urllib.parse.urlencode({"query": query}))
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
        if body.get("status") != "success":
            raise AssertionError("prometheus %s: %r" % (query, body))
        return body["data"]["result"]

    def targets(self):
        url = "http://127.0.0.1:%d/api/v1/targets?state=active" % self.prom_port
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)["data"]["activeTargets"]


class Load(threading.Thread):
    """Idempotent requests through the gateway on `threads` threads until stop(): GETs of a
    pizza, of like counts and of the user's likes, and PUT of the user's verdict (nginx
    retries PUT like GET on the next replica). Failures: a 5xx or no answer."""

    def __init__(self, stack, user, pizza_ids, threads=4):
        super().__init__(daemon=True)
        self.stack, self.user, self.pizza_ids, self.threads = stack, user, pizza_ids, threads
        self.halt = threading.Event()
        self.lock = threading.Lock()
        self.sent = 0
        self.failures = []

    def one(self, i):
        gw, pid = self.stack.gateway, self.pizza_ids[i % len(self.pizza_ids)]
        kind = i % 4
        try:
            if kind == 0:
                r = gw.get("/api/v1/pizzas/" + pid)
            elif kind == 1:
                r = gw.get("/api/v1/likes/counts?pizza_ids=" + ",".join(self.pizza_ids))
            elif kind == 2:
                r = gw.put("/api/v1/likes/" + pid, {"liked": i % 8 < 4}, token=self.user.token)
            else:
                r = gw.get("/api/v1/likes", token=self.user.token)
            bad = None if r.status < 500 else "%s %s -> %d %s" % (r.method, r.path, r.status,
                                                               r.raw[:200])
        except OSError as e:
            bad = "%s: %s" % (kind, e)
        with self.lock:
            self.sent += 1
            if bad:
                self.failures.append((time.monotonic(), bad))

    def worker(self, k):
        i = k
        while not self.halt.is_set():
            self.one(i)
            i += self.threads

    def run(self):
        ts = [threading.Thread(target=self.worker, args=(k,), daemon=True)
              for k in range(self.threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    def stop(self):
        self.halt.set()
        self.join(60)
        return self.sent, list(self.failures)


class TestStack(unittest.TestCase):
    S = None
    downed = False

    @classmethod
    def setUpClass(cls):
        cls.S = S = Stack()
        t0 = time.monotonic()
        try:
            S.sh("up", timeout=900)
            figure("stack start to all healthy", "%.0f s" % (time.monotonic() - t0))
            S.create_admin()
            cls.owner = S.signup("owner")
            pz = S.pizzeria(cls.owner, name="Load")
            cls.pizza_ids = [S.new_pizza(cls.owner, pz["id"], title="P%d" % i,
                                         approve=True)["id"] for i in range(3)]
        except BaseException:
            S.sh("down", check=False)  # tearDownClass does not run after this
            shutil.rmtree(S.dir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.S and not cls.downed:
            cls.S.sh("down", check=False)
        if cls.S:
            shutil.rmtree(cls.S.dir, ignore_errors=True)

    def assertNoFailures(self, what, sent, failures):
        figure("%s: requests, failed" % what, "%d, %d" % (sent, len(failures)))
        if failures:
            self.S.save_logs(what)
        self.assertGreater(sent, 50, what)
        self.assertEqual(failures, [], "%s: %d of %d failed" % (what, len(failures), sent))

    def test_1_journey_through_the_gateway(self):
        S = self.S
        u = S.signup("journey")
        pz = S.pizzeria(u, name="Journey")
        p = S.new_pizza(u, pz["id"], title="Journey pizza")
        S.approve(p["id"])
        S.judge(u, self.pizza_ids[0], True)
        S.judge(self.owner, p["id"], True)
        r = S.tweets.post("/api/v2/tweets", {"body": "hello from the stack"}, token=u.token)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(S.counts([p["id"]])[p["id"]], {"likes": 1, "dislikes": 0})
        r = S.auth.delete("/api/v1/users/" + u.id, token=u.token)
        self.assertEqual(r.status, 202, r)
        rec = S.wait_erased([u.id], 60)[u.id]
        self.assertEqual(set(rec["services"]), ERASERS, rec)
        self.assertEqual(rec["services"]["pizza"]["removed"], {"pizzerias": 1, "pizzas": 1})
        self.assertEqual(rec["services"]["likes"]["removed"], {"likes": 1})
        self.assertEqual(rec["services"]["tweets"]["removed"], {"tweets": 1})
        self.assertEqual(S.pizza.get("/api/v1/pizzas/" + p["id"]).status, 404)

    def test_2_scale_out_under_load(self):
        S = self.S
        self.assertEqual(len(S.instances("likes", 6)), 1)
        load = Load(S, self.owner, self.pizza_ids)
        load.start()
        t0 = time.monotonic()
        S.sh("scale", "likes=3", "pizza=2")
        # the gateway picks the new replicas up by itself (its entrypoint re-resolves)
        wait_for(lambda: len(S.instances("likes", 12)) == 3, 60, 0.5, "3 likes instances")
        figure("scale-out: likes 1 -> 3 until all three answer", "%.1f s"
               % (time.monotonic() - t0))
        wait_for(lambda: len(S.instances("pizza", 8)) == 2, 60, 0.5, "2 pizza instances")
        time.sleep(3)
        self.assertNoFailures("scale-out", *load.stop())
        self.assertEqual(set(S.instances("likes", 12)), {c[:12] for c in S.replicas("likes")})

    def test_3_sigkill_of_a_likes_replica(self):
        S = self.S
        victims = S.signup_many(6, "gone")
        for v in victims:
            S.judge(v, self.pizza_ids[0], True)
        load = Load(S, self.owner, self.pizza_ids)
        load.start()
        time.sleep(2)
        deleting = [threading.Thread(target=lambda v=v: S.auth.delete(
            "/api/v1/users/" + v.id, token=v.token)) for v in victims]
        for t in deleting:
            t.start()
        killed = sorted(S.replicas("likes"))[0]
        S.engine("kill", "--signal", "KILL", killed)
        for t in deleting:
            t.join(60)
        recs = S.wait_erased([v.id for v in victims], 120)
        for rec in recs.values():
            self.assertEqual(rec["services"]["likes"]["status"], "done", rec)
        time.sleep(3)
        self.assertNoFailures("likes replica SIGKILL", *load.stop())
        # the victims' verdicts are gone, the owner's stays
        c = S.counts([self.pizza_ids[0]])[self.pizza_ids[0]]
        self.assertEqual(c["likes"] + c["dislikes"], 1, c)
        S.sh("scale", "likes=3")  # the killed one back (if its restart policy has not yet)
        self.assertEqual(len(S.replicas("likes")), 3)

    def test_4_prometheus_sees_every_replica_and_counts_add_up(self):
        S = self.S

        def up_by_job():
            return {(r["metric"]["job"], r["metric"]["instance"]): r["value"][1]
                    for r in S.prom("up")}

        want = {(s, "%s:%d" % (ip, port))
                for s, port in (("auth", 8001), ("pizza", 8002), ("likes", 8003),
                                ("tweets", 8004))
                for ip in S.replicas(s).values()}
        self.assertEqual(len(want), 1 + 2 + 3 + 1)
        wait_for(lambda: all(up_by_job().get(k) == "1" for k in want), 90, 1,
                 "up == 1 for every replica %s" % sorted(want))

        route = 'job="likes",route="/api/v1/likes/counts",method="GET"'

        def scraped_after(t):
            ts = [x for x in S.targets() if x["labels"].get("job") == "likes"]
            return len(ts) == 3 and all(
                x["health"] == "up" and x["lastScrape"] and
                _epoch(x["lastScrape"]) > t for x in ts)

        def total():
            return sum(float(r["value"][1]) for r in
                       S.prom("sum(tizza_http_requests_total{%s})" % route))

        t = time.time()
        wait_for(lambda: scraped_after(t), 60, 1, "a scrape of every likes replica")
        before = total()
        n = 120
        for _ in range(n):
            r = S.gateway.get("/api/v1/likes/counts?pizza_ids=" + self.pizza_ids[0])
            self.assertEqual(r.status, 200, r)
        t = time.time()
        wait_for(lambda: scraped_after(t), 60, 1, "a scrape of every likes replica")
        self.assertEqual(total() - before, n)
        per = S.prom("sum by (instance) (tizza_http_requests_total{%s})" % route)
        self.assertEqual(len(per), 3, per)

    def test_5_rolling_update_under_load(self):
        S = self.S
        before = set(S.replicas("likes"))
        load = Load(S, self.owner, self.pizza_ids)
        load.start()
        t0 = time.monotonic()
        S.sh("roll", "likes")
        figure("rolling update of 3 likes replicas", "%.0f s" % (time.monotonic() - t0))
        time.sleep(3)
        self.assertNoFailures("rolling update", *load.stop())
        after = set(S.replicas("likes"))
        self.assertEqual(len(after), 3)
        self.assertFalse(before & after, "every replica replaced")
        wait_for(lambda: S.instances("likes", 12) == {c[:12] for c in after}, 30, 0.5,
                 "the gateway on the new replicas")

    def test_6_down_leaves_nothing(self):
        S = self.S
        S.sh("down")
        type(self).downed = True
        self.assertEqual(S.left(), {"container": [], "network": [], "volume": []})


def _epoch(rfc3339):
    """Prometheus' lastScrape ('2026-12-07T16:51:01.123456789Z') as seconds."""
    head, _, frac = rfc3339.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(head, "%Y-%m-%dT%H:%M:%S")) + float("0." + (frac or "0"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
