"""pizza_likes.py -- `make bench` part 3: the pizza and likes APIs under load, and whether a
slow remote call can stall likes' event loop.

Starts a private RabbitMQ (tests/broker.py), tizza-auth, tizza-pizza and tizza-likes (release
builds, temporary SQLite files). Before auth starts, `tizza-auth create-superuser` makes the
admin in auth's store. Seeds through the APIs: a merchant with one pizzeria and N pizzas
(default 200), each approved by the admin (PATCH approved:true); a user with 40 likes; a
second user ("loader") who does the PUTs, so the first keeps exactly 40 likes. Then, with
wrk -t2 -c64 -d$BENCH_DURATION --latency (Lua scripts set the Authorization header, the PUT
body and rotate the pizza ids; each wrk thread starts at another offset):

  a. GET /api/v1/pizzas/{id}, anonymous, rotating over the pizza ids;
  b. GET /api/v1/pizzas/random as the user (pizza asks likes /seen: one remote call each);
  c. PUT /api/v1/likes/{id} {"liked":true} as the loader, rotating ids (one remote GET pizza
     each);
  d. GET /api/v1/likes?limit=20 and ?expand=pizza&limit=20 as the user (expand: one batched
     remote call per page) and the ratio expand/plain; for both, the CPU time likes and pizza
     spent per request (/proc/<pid>/stat before and after the wrk run, over its requests):
     with every core busy, the ratio is the ratio of these sums;
  d'. the same two runs with likes pinned to the first CPU and pizza and wrk to the others
     (sched_setaffinity on every thread), as deployed with a container per service: the
     ratio of what one likes instance serves (skipped with a single CPU);
  e. likes restarted with PIZZA_URL pointing at tests/bench/delay_proxy.py, which forwards to
     pizza and adds 200 ms to every answer. While a wrk (-c32, in the background) drives PUT
     /api/v1/likes/{id} (each one waits 200 ms for pizza), GET /health is sampled 200 times
     one after another on a kept-alive http.client connection (time.perf_counter around each
     request/response): p50/p99/max. Then, still under that load, GET /api/v1/likes?limit=20
     (no remote call) is measured with wrk and compared with the same wrk on the same
     instance without the load.

Prints a table (numbers, targets, met) and writes it to build/bench/pizza_likes.txt. Nothing
here fails because a figure misses its target; it exits non-zero only when a step cannot run
(a binary missing, a service never ready, a seeding request refused, wrk failing).
Environment: BENCH_DURATION (10s), BENCH_PIZZAS (200), BENCH_BIN_DIR (build/bin),
BENCH_OUT (build/bench/pizza_likes.txt), BENCH_KEEP=1 keeps the temp dir (logs, Lua scripts,
wrk output). Shared helpers (requests, readiness, percentiles, wrk's output) are in benchlib.py.
"""
import base64
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from benchlib import BIN, DURATION, ROOT, expect, fail, percentile, say, wait_ready, wrk_parse
from broker import Broker, free_port  # noqa: E402  (tests/broker.py, on sys.path through benchlib)

PIZZAS = int(os.environ.get("BENCH_PIZZAS", "200"))
OUT = os.path.join(ROOT, os.environ.get("BENCH_OUT", "build/bench/pizza_likes.txt"))
USER_LIKES = 40
DELAY_MS = 200
HEALTH_SAMPLES = 200
ADMIN_PASSWORD = "bench-admin-" + os.urandom(4).hex()


def new_kek():
    """An AUTH_KEY_ENCRYPTION_KEY: auth keeps its signing key in its store encrypted with it."""
    return base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()


def seconds(duration):
    """wrk's duration syntax (10, 10s, 2m, 1h) in seconds."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smh]?)", duration.strip())
    if not m:
        fail("BENCH_DURATION %r is not a wrk duration" % duration)
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


# ---------------------------------------------------------------- wrk

def lua_script(token=None, method="GET", path=None, prefix=None, ids=None, body=None):
    """A wrk script: a fixed `path`, or `prefix` + one of `ids` in turn (each thread starting
    at its own offset), with the Authorization header and a JSON body when given."""
    lines = []
    if token:
        lines.append('wrk.headers["Authorization"] = "Bearer %s"' % token)
    if body is not None:
        lines.append('wrk.headers["Content-Type"] = "application/json"')
        lines.append("wrk.body = '%s'" % json.dumps(body))
    lines.append('wrk.method = "%s"' % method)
    if ids is None:
        lines.append('wrk.path = "%s"' % path)
    else:
        lines += [
            "local ids = {%s}" % ",".join('"%s"' % i for i in ids),
            "local threads = 0",
            "function setup(thread)",
            "  thread:set('first', threads * 97)",
            "  threads = threads + 1",
            "end",
            "local i = nil",
            "request = function()",
            "  if i == nil then i = first or 0 end",
            "  i = i + 1",
            '  return wrk.format(nil, "%s" .. ids[(i %% #ids) + 1])' % prefix,
            "end",
        ]
    return "\n".join(lines) + "\n"


def wrk_args(port, script, name, tmp, conns=64, duration=None):
    path = os.path.join(tmp, name + ".lua")
    with open(path, "w") as f:
        f.write(script)
    return ["wrk", "-t2", "-c%d" % conns, "-d" + (duration or DURATION), "--latency",
            "-s", path, "http://127.0.0.1:%d" % port]


def cpu_seconds(proc):
    """User + system CPU time a running process has used so far (/proc/<pid>/stat)."""
    with open("/proc/%d/stat" % proc.pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk_cpu(port, script, name, tmp, procs, cpus=None):
    """wrk() plus the CPU microseconds each of `procs` spent per request during the run."""
    before = [cpu_seconds(p) for p in procs]
    r = wrk(port, script, name, tmp, cpus=cpus)
    n = r["rps"] * seconds(DURATION)
    r["cpu_us"] = [(cpu_seconds(p) - b) / n * 1e6 if n else 0.0 for p, b in zip(procs, before)]
    return r


def wrk(port, script, name, tmp, conns=64, cpus=None):
    """wrk's figures for one run; `cpus`: the CPUs wrk may run on (default: any)."""
    say("   wrk %s (-c%d, %s)" % (name, conns, DURATION))
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    p = subprocess.run(wrk_args(port, script, name, tmp, conns), capture_output=True, text=True,
                       preexec_fn=pin)
    if p.returncode != 0:
        fail("wrk %s exited %d: %s" % (name, p.returncode, p.stderr.strip()))
    return wrk_parse(p.stdout, name, tmp)


def pin(proc, cpus):
    """Moves every thread of a running service onto `cpus` (threads it starts later inherit
    their creator's set; the services start their pools at boot)."""
    for tid in os.listdir("/proc/%d/task" % proc.pid):
        os.sched_setaffinity(int(tid), cpus)


# ---------------------------------------------------------------- /health sampler

def sample_health(port, n):
    """n sequential GET /health on one kept-alive connection: latencies in ms."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    lat = []
    try:
        for i in range(n + 1):
            t0 = time.perf_counter()
            c.request("GET", "/health")
            r = c.getresponse()
            r.read()
            ms = (time.perf_counter() - t0) * 1000.0
            if r.status != 200:
                fail("GET /health answered %d" % r.status)
            if i > 0:  # the first one also connects
                lat.append(ms)
    except OSError as e:
        fail("GET /health on :%d: %s" % (port, e))
    finally:
        c.close()
    return lat


# ---------------------------------------------------------------- processes

class Services:
    """Everything started here, stopped in reverse order by stop_all()."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []
        self.log = open(os.path.join(tmp, "services.log"), "ab")

    def start(self, args, env, port=None):
        p = subprocess.Popen(args, env=env, stdout=self.log, stderr=self.log,
                             stdin=subprocess.DEVNULL)
        self.procs.append(p)
        if port is not None:
            wait_ready(port, p)
        return p

    def stop(self, p):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in reversed(list(self.procs)):
            self.stop(p)
        self.log.close()


def start_proxy(svcs, target_port):
    """tests/bench/delay_proxy.py in front of pizza: returns its port."""
    p = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests/bench/delay_proxy.py"),
                          "--target", "http://127.0.0.1:%d" % target_port,
                          "--delay-ms", str(DELAY_MS)],
                         stdout=subprocess.PIPE, stderr=svcs.log, stdin=subprocess.DEVNULL,
                         text=True)
    svcs.procs.append(p)
    line = p.stdout.readline()
    m = re.match(r"PORT (\d+)", line)
    if not m:
        fail("the delay proxy did not start (%r)" % line)
    return int(m.group(1))


# ---------------------------------------------------------------- seeding

def signup_login(auth_port, username):
    password = "bench-pass-" + username
    expect(201, auth_port, "POST", "/api/v1/auth/signup",
           {"username": username, "email": username + "@x.io", "password": password})
    return login(auth_port, username, password)


def login(auth_port, username, password):
    s = expect(200, auth_port, "POST", "/api/v1/auth/login",
               {"username": username, "password": password})
    return s["access_token"]


def seed(auth_port, pizza_port, likes_port):
    """Admin, merchant, pizzeria, PIZZAS approved pizzas, user with USER_LIKES likes, loader.
    Returns (pizza ids, user token, loader token)."""
    admin = login(auth_port, "admin", ADMIN_PASSWORD)
    merchant = signup_login(auth_port, "merchant")
    user = signup_login(auth_port, "liker")
    loader = signup_login(auth_port, "loader")
    pizzeria = expect(201, pizza_port, "POST", "/api/v1/pizzerias",
                      {"name": "Bench Pizzeria", "address": "1 Bench Street",
                       "phone": "+1 555 0100"}, merchant)
    ids = []
    kinds = ("meat", "vegetarian", "vegan")
    for i in range(PIZZAS):
        p = expect(201, pizza_port, "POST", "/api/v1/pizzas",
                   {"pizzeria_id": pizzeria["id"], "title": "Bench pizza %03d" % i,
                    "description": "a pizza for the benchmark, number %d" % i,
                    "thumbnail_url": "https://img.example.com/%d.jpg" % i,
                    "kind": kinds[i % 3]}, merchant)
        expect(200, pizza_port, "PATCH", "/api/v1/pizzas/" + p["id"], {"approved": True}, admin)
        ids.append(p["id"])
    for pid in ids[:USER_LIKES]:
        expect(201, likes_port, "PUT", "/api/v1/likes/" + pid, {"liked": True}, user)
    return ids, user, loader


def sanity(pizza_port, likes_port, ids, user):
    """The endpoints answer what the benchmark claims to measure; returns notes for the table."""
    expect(200, pizza_port, "GET", "/api/v1/pizzas/" + ids[0])
    r = expect(200, pizza_port, "GET", "/api/v1/pizzas/random", token=user)
    if not r.get("excluded_seen"):
        say("   WARNING: /pizzas/random answered excluded_seen false (likes not asked)")
    plain = expect(200, likes_port, "GET", "/api/v1/likes?limit=20", token=user)
    exp = expect(200, likes_port, "GET", "/api/v1/likes?expand=pizza&limit=20", token=user)
    embedded = sum(1 for x in exp["results"] if x.get("pizza"))
    if plain["count"] != USER_LIKES or len(plain["results"]) != 20:
        fail("the user's likes page is %r, %d results" % (plain["count"], len(plain["results"])))
    if not exp.get("pizza_expanded") or embedded != 20:
        say("   WARNING: expand=pizza embedded %d of 20 pizzas" % embedded)
    return bool(r.get("excluded_seen")), embedded


# ---------------------------------------------------------------- main

def check(value, op, target):
    return "yes" if (value < target if op == "<" else value >= target) else "NO"


def main():
    for tool in ("wrk",):
        if shutil.which(tool) is None:
            fail("%s not found (run 'make deps')" % tool)
    for name in ("tizza-auth", "tizza-pizza", "tizza-likes"):
        if not os.access(os.path.join(BIN, name), os.X_OK):
            fail("%s not found (run 'make')" % os.path.join(BIN, name))
    tmp = tempfile.mkdtemp(prefix="tizza-bench-pizza-likes.")
    broker = Broker()
    svcs = Services(tmp)
    background = []
    ok = False
    t_start = time.time()
    try:
        say("private RabbitMQ")
        broker.start()
        auth_port, pizza_port, likes_port = free_port(), free_port(), free_port()
        auth_url = "http://127.0.0.1:%d" % auth_port
        common = dict(os.environ, AMQP_URL=broker.url, LOG_LEVEL="warn", HOST="127.0.0.1",
                      RATE_LIMIT_SIGNUP="0", RATE_LIMIT_LOGIN="0",
                      LOGIN_FAILURES_PER_USER="0", HASH_CONCURRENCY="2", AUTH_URL=auth_url,
                      PIZZA_URL="http://127.0.0.1:%d" % pizza_port,
                      LIKES_URL="http://127.0.0.1:%d" % likes_port)
        auth_env = dict(common, PORT=str(auth_port), STORE_URL="sqlite://%s/auth.db" % tmp,
                        AUTH_KEY_ENCRYPTION_KEY=new_kek())
        pizza_env = dict(common, PORT=str(pizza_port), STORE_URL="sqlite://%s/pizza.db" % tmp)
        likes_env = dict(common, PORT=str(likes_port), STORE_URL="sqlite://%s/likes.db" % tmp)

        say("admin (create-superuser), auth, pizza, likes")
        su = subprocess.run([os.path.join(BIN, "tizza-auth"), "create-superuser", "--username",
                             "admin", "--email", "admin@x.io"],
                            env=dict(auth_env, TIZZA_SUPERUSER_PASSWORD=ADMIN_PASSWORD),
                            capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if su.returncode != 0:
            fail("create-superuser exited %d: %s" % (su.returncode, su.stderr.strip()))
        svcs.start([os.path.join(BIN, "tizza-auth")], auth_env, auth_port)
        pizza = svcs.start([os.path.join(BIN, "tizza-pizza")], pizza_env, pizza_port)
        likes = svcs.start([os.path.join(BIN, "tizza-likes")], likes_env, likes_port)

        say("seeding: %d approved pizzas, a user with %d likes" % (PIZZAS, USER_LIKES))
        ids, user, loader = seed(auth_port, pizza_port, likes_port)
        excluded_seen, embedded = sanity(pizza_port, likes_port, ids, user)

        say("a. GET /api/v1/pizzas/{id}")
        a = wrk(pizza_port, lua_script(prefix="/api/v1/pizzas/", ids=ids), "a-pizza-get", tmp)
        say("b. GET /api/v1/pizzas/random (signed in)")
        b = wrk(pizza_port, lua_script(user, path="/api/v1/pizzas/random"), "b-random", tmp)
        say("c. PUT /api/v1/likes/{id}")
        put_script = lua_script(loader, "PUT", prefix="/api/v1/likes/", ids=ids,
                                body={"liked": True})
        c = wrk(likes_port, put_script, "c-like-put", tmp)
        say("d. GET /api/v1/likes, plain and expand=pizza")
        plain_script = lua_script(user, path="/api/v1/likes?limit=20")
        expand_script = lua_script(user, path="/api/v1/likes?expand=pizza&limit=20")
        d_plain = wrk_cpu(likes_port, plain_script, "d-likes-plain", tmp, (likes, pizza))
        d_exp = wrk_cpu(likes_port, expand_script, "d-likes-expand", tmp, (likes, pizza))
        cpus = sorted(os.sched_getaffinity(0))
        own = None
        if len(cpus) >= 2:
            say("d'. the same, likes on CPU %d alone; pizza and wrk on the others" % cpus[0])
            rest = set(cpus[1:])
            pin(likes, {cpus[0]})
            pin(pizza, rest)
            own = (wrk_cpu(likes_port, plain_script, "d-own-plain", tmp, (likes, pizza), rest),
                   wrk_cpu(likes_port, expand_script, "d-own-expand", tmp, (likes, pizza), rest))
            pin(likes, set(cpus))
            pin(pizza, set(cpus))

        say("e. likes behind a %d ms delay proxy in front of pizza" % DELAY_MS)
        svcs.stop(likes)
        proxy_port = start_proxy(svcs, pizza_port)
        slow_env = dict(likes_env, PIZZA_URL="http://127.0.0.1:%d" % proxy_port)
        svcs.start([os.path.join(BIN, "tizza-likes")], slow_env, likes_port)
        t0 = time.perf_counter()
        expect(200, likes_port, "PUT", "/api/v1/likes/" + ids[0], {"liked": True}, loader)
        put_ms = (time.perf_counter() - t0) * 1000.0
        if put_ms < DELAY_MS:
            fail("a PUT through the proxy took %.0f ms (< %d: not delayed)" % (put_ms, DELAY_MS))
        health_idle = sample_health(likes_port, HEALTH_SAMPLES)
        e_base = wrk(likes_port, plain_script, "e-likes-plain-idle", tmp)
        load_secs = int(seconds(DURATION) + 6)
        say("   background wrk PUT /api/v1/likes/{id} (-c32, %ds)" % load_secs)
        load = subprocess.Popen(wrk_args(likes_port, put_script, "e-like-put-slow", tmp, 32,
                                         "%ds" % load_secs),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        background.append(load)
        time.sleep(2)  # every connection is now waiting on the proxy
        if load.poll() is not None:
            fail("the background wrk exited %d: %s" % (load.returncode, load.stderr.read()))
        health_t0 = time.perf_counter()
        health = sample_health(likes_port, HEALTH_SAMPLES)
        health_secs = time.perf_counter() - health_t0
        e_loaded = wrk(likes_port, plain_script, "e-likes-plain-loaded", tmp)
        if load.poll() is not None:
            say("   WARNING: the PUT load ended before the loaded list run did")
        out, err = load.communicate(timeout=load_secs + 30)
        if load.returncode != 0:
            fail("the background wrk exited %d: %s" % (load.returncode, err.strip()))
        e_put = wrk_parse(out, "e-like-put-slow", tmp)

        ratio = d_exp["rps"] / d_plain["rps"] if d_plain["rps"] else 0.0
        own_ratio = own[1]["rps"] / own[0]["rps"] if own and own[0]["rps"] else 0.0
        keep = e_loaded["rps"] / e_base["rps"] if e_base["rps"] else 0.0
        h50, h99, hmax = percentile(health, 50), percentile(health, 99), max(health)
        errors = sum(x["errors"] for x in (a, b, c, d_plain, d_exp, e_base, e_loaded) + (own or ()))
        rows = [
            ("a. GET /pizzas/{id} (anonymous, rotating) req/s", "%.0f" % a["rps"], "", ""),
            ("a. GET /pizzas/{id} p99 ms", "%.2f" % a["p99"], "", ""),
            ("b. GET /pizzas/random (signed in) req/s", "%.0f" % b["rps"], "", ""),
            ("b. GET /pizzas/random p99 ms", "%.2f" % b["p99"], "", ""),
            ("b.   excluded_seen (likes asked for /seen)", str(excluded_seen).lower(), "true",
             "yes" if excluded_seen else "NO"),
            ("c. PUT /likes/{id} (rotating) req/s", "%.0f" % c["rps"], "", ""),
            ("c. PUT /likes/{id} p99 ms", "%.2f" % c["p99"], "", ""),
            ("d. GET /likes?limit=20 req/s", "%.0f" % d_plain["rps"], "", ""),
            ("d. GET /likes?limit=20 p99 ms", "%.2f" % d_plain["p99"], "", ""),
            ("d. GET /likes?expand=pizza&limit=20 req/s", "%.0f" % d_exp["rps"], "", ""),
            ("d. GET /likes?expand=pizza&limit=20 p99 ms", "%.2f" % d_exp["p99"], "", ""),
            ("d.   CPU us per request, likes + pizza: plain",
             "%.0f + %.0f" % tuple(d_plain["cpu_us"]), "", ""),
            ("d.   CPU us per request, likes + pizza: expand",
             "%.0f + %.0f" % tuple(d_exp["cpu_us"]), "", ""),
            ("d.   pizzas embedded in a page of 20", str(embedded), "20",
             "yes" if embedded == 20 else "NO"),
            ("d. ratio expand / plain, all on shared cores", "%.2f" % ratio, "", ""),
        ]
        if own:
            rows += [
                ("d'. likes on a core of its own: plain req/s", "%.0f" % own[0]["rps"], "", ""),
                ("d'. likes on a core of its own: expand req/s", "%.0f" % own[1]["rps"], "", ""),
                ("d'.   p99 ms plain / expand", "%.1f / %.1f" % (own[0]["p99"], own[1]["p99"]),
                 "", ""),
                ("d'.   CPU us per request, likes + pizza: plain",
                 "%.0f + %.0f" % tuple(own[0]["cpu_us"]), "", ""),
                ("d'.   CPU us per request, likes + pizza: expand",
                 "%.0f + %.0f" % tuple(own[1]["cpu_us"]), "", ""),
                ("d'. ratio expand / plain, likes on its own core", "%.2f" % own_ratio, ">= 0.4",
                 check(own_ratio, ">=", 0.4)),
            ]
        else:
            rows += [("d'. likes on a core of its own", "skipped: 1 CPU", "", "")]
        rows += [
            ("errors (non-2xx + socket) in a-d and e's lists", str(errors), "0",
             "yes" if errors == 0 else "NO"),
            ("e. one PUT through the %d ms proxy, ms" % DELAY_MS, "%.0f" % put_ms, "", ""),
            ("e. PUT /likes/{id} via proxy, -c32: req/s", "%.1f" % e_put["rps"], "", ""),
            ("e. PUT /likes/{id} via proxy, -c32: p99 ms", "%.0f" % e_put["p99"], "", ""),
            ("e. PUT /likes/{id} via proxy: errors", str(e_put["errors"]), "", ""),
            ("e. /health p50 ms under the slow PUTs", "%.2f" % h50, "", ""),
            ("e. /health p99 ms under the slow PUTs", "%.2f" % h99, "< 10", check(h99, "<", 10)),
            ("e. /health max ms under the slow PUTs", "%.2f" % hmax, "", ""),
            ("e.   /health p99 / max ms idle", "%.2f / %.2f" % (percentile(health_idle, 99),
                                                          max(health_idle)), "", ""),
            ("e.   %d samples took s" % HEALTH_SAMPLES, "%.2f" % health_secs, "", ""),
            ("e. GET /likes?limit=20 req/s, no load", "%.0f" % e_base["rps"], "", ""),
            ("e. GET /likes?limit=20 req/s, under the slow PUTs", "%.0f" % e_loaded["rps"], "",
             ""),
            ("e. GET /likes?limit=20 p99 ms, no load / loaded",
             "%.1f / %.1f" % (e_base["p99"], e_loaded["p99"]), "", ""),
            ("e. ratio loaded / no load", "%.2f" % keep, ">= 0.8", check(keep, ">=", 0.8)),
        ]
        text = ("tizza pizza + likes benchmark, %s, %d CPUs, %d pizzas, wrk -t2 -c64 -d%s\n" %
                (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), os.cpu_count(), PIZZAS,
                 DURATION))
        text += "%-50s %14s %8s %4s\n" % ("", "value", "target", "met")
        text += "".join("%-50s %14s %8s %4s\n" % r for r in rows)
        print(text)
        os.makedirs(os.path.dirname(OUT), exist_ok=True)
        with open(OUT, "w") as f:
            f.write(text)
        say("written to %s (%.0f s)" % (OUT, time.time() - t_start))
        ok = True
    finally:
        for p in background:
            if p.poll() is None:
                p.kill()
            p.communicate()
        svcs.stop_all()
        broker.stop()
        broker.cleanup()
        if not ok:
            with open(os.path.join(tmp, "services.log"), "rb") as f:
                last = f.read().decode("utf-8", "replace").splitlines()[-20:]
            if last:
                say("last lines of the services' log:\n" + "\n".join(last))
        if os.environ.get("BENCH_KEEP") == "1":
            say("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
