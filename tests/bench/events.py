"""events.py -- `make bench` part 2: erasure latency and the tweets API under load.

Starts a private RabbitMQ (tests/broker.py), tizza-auth and tizza-tweets (release builds,
temporary SQLite files, ERASURE_SERVICES=tweets), then measures:

  a. erasure latency: for each of N users (default 200) that posted a tweet, the time from the
     202 of DELETE /api/v1/users/{id} to GET /api/v1/users/{id}/erasure saying complete
     (polled every 2 ms, so the figure includes up to ~2 ms of polling granularity);
     deletions run one after another with the broker up; reports p50, p99 and max;
  b. tweets GET /api/v2/tweets and POST /api/v2/tweets with wrk (-t2 -c64, BENCH_DURATION):
     requests/s, p99, and errors (non-2xx answers + socket errors).

Prints a table and writes it to build/bench/events.txt. Numbers only: nothing here fails
because a figure misses its target; it exits non-zero only when a step cannot run.
Environment: BENCH_USERS (200), BENCH_DURATION (10s), BENCH_BIN_DIR (build/bin).
Shared helpers (requests, readiness, percentiles, wrk's output) are in benchlib.py.
"""
import base64
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from benchlib import (BIN, DURATION, ROOT, expect, fail, percentile, request, wait_ready,
                      wrk_parse)
from broker import Broker, free_port  # noqa: E402  (tests/broker.py, on sys.path through benchlib)

USERS = int(os.environ.get("BENCH_USERS", "200"))


def new_kek():
    """An AUTH_KEY_ENCRYPTION_KEY: auth keeps its signing key in its store encrypted with it."""
    return base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()


def wrk(url, script, tmp, name):
    args = ["wrk", "-t2", "-c64", "-d" + DURATION, "--latency"]
    if script:
        path = os.path.join(tmp, name + ".lua")
        with open(path, "w") as f:
            f.write(script)
        args += ["-s", path]
    p = subprocess.run(args + [url], capture_output=True, text=True)
    if p.returncode != 0:
        fail("wrk %s exited %d: %s" % (name, p.returncode, p.stderr.strip()))
    return wrk_parse(p.stdout, name)


def main():
    tmp = tempfile.mkdtemp(prefix="tizza-bench-events.")
    procs = []
    broker = Broker()
    try:
        broker.start()
        auth_port, tweets_port = free_port(), free_port()
        common = dict(os.environ, AMQP_URL=broker.url, LOG_LEVEL="warn",
                      RATE_LIMIT_SIGNUP="0", RATE_LIMIT_LOGIN="0")
        auth_env = dict(common, PORT=str(auth_port), ERASURE_SERVICES="tweets",
                        STORE_URL="sqlite://%s/auth.db" % tmp, HASH_CONCURRENCY="2",
                        AUTH_KEY_ENCRYPTION_KEY=new_kek())
        tweets_env = dict(common, PORT=str(tweets_port), STORE_URL="sqlite://%s/tweets.db" % tmp,
                          AUTH_URL="http://127.0.0.1:%d" % auth_port)
        log = open(os.path.join(tmp, "services.log"), "w")
        procs.append(subprocess.Popen([os.path.join(BIN, "tizza-auth")], env=auth_env,
                                      stdout=log, stderr=log))
        wait_ready(auth_port, procs[-1])
        procs.append(subprocess.Popen([os.path.join(BIN, "tizza-tweets")], env=tweets_env,
                                      stdout=log, stderr=log))
        wait_ready(tweets_port, procs[-1])

        print("[bench] signing up %d users, one tweet each" % USERS, file=sys.stderr)
        users = []
        for i in range(USERS):
            u = expect(201, auth_port, "POST", "/api/v1/auth/signup",
                       {"username": "bench%d" % i, "email": "b%d@x.io" % i,
                        "password": "benchpass%d" % i})
            s = expect(200, auth_port, "POST", "/api/v1/auth/login",
                       {"username": "bench%d" % i, "password": "benchpass%d" % i})
            expect(201, tweets_port, "POST", "/api/v2/tweets", {"body": "hello %d" % i},
                   s["access_token"])
            users.append((u["id"], s["access_token"]))

        print("[bench] a. %d deletions, 202 -> erasure complete" % USERS, file=sys.stderr)
        lat = []
        for uid, token in users:
            expect(202, auth_port, "DELETE", "/api/v1/users/" + uid, token=token)
            t0 = time.perf_counter()
            while True:
                st, e = request(auth_port, "GET", "/api/v1/users/%s/erasure" % uid, token=token)
                if st == 200 and e["complete"]:
                    break
                if time.perf_counter() - t0 > 30:
                    fail("erasure of %s never completed" % uid)
                time.sleep(0.002)
            lat.append((time.perf_counter() - t0) * 1000.0)

        print("[bench] b. wrk on tweets", file=sys.stderr)
        expect(201, auth_port, "POST", "/api/v1/auth/signup",
               {"username": "loader", "email": "l@x.io", "password": "loaderpass"})
        s = expect(200, auth_port, "POST", "/api/v1/auth/login",
                   {"username": "loader", "password": "loaderpass"})
        token = s["access_token"]
        for i in range(50):
            expect(201, tweets_port, "POST", "/api/v2/tweets", {"body": "seed %d" % i}, token)
        base = "http://127.0.0.1:%d/api/v2/tweets" % tweets_port
        get = wrk(base, None, tmp, "get-tweets")
        post_script = ('wrk.method = "POST"\nwrk.body = \'{"body":"load test tweet"}\'\n'
                       'wrk.headers["Content-Type"] = "application/json"\n'
                       'wrk.headers["Authorization"] = "Bearer %s"\n' % token)
        post = wrk(base, post_script, tmp, "post-tweets")

        rows = [
            ("erasure 202 -> complete, p50 ms", "%.1f" % percentile(lat, 50), ""),
            ("erasure 202 -> complete, p99 ms", "%.1f" % percentile(lat, 99), "< 100"),
            ("erasure 202 -> complete, max ms", "%.1f" % max(lat), ""),
            ("GET /api/v2/tweets req/s", "%.0f" % get["rps"], ""),
            ("GET /api/v2/tweets p99 ms", "%.2f" % get["p99"], ""),
            ("GET errors (non-2xx + socket)", str(get["errors"]), "0"),
            ("POST /api/v2/tweets req/s", "%.0f" % post["rps"], ""),
            ("POST /api/v2/tweets p99 ms", "%.2f" % post["p99"], ""),
            ("POST errors (non-2xx + socket)", str(post["errors"]), "0"),
        ]
        text = "tizza events + tweets benchmark, %s, %d CPUs, %d deletions\n" % (
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), os.cpu_count(), USERS)
        text += "".join("%-36s %12s %8s\n" % r for r in rows)
        print(text)
        os.makedirs(os.path.join(ROOT, "build/bench"), exist_ok=True)
        with open(os.path.join(ROOT, "build/bench/events.txt"), "w") as f:
            f.write(text)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        broker.stop()
        broker.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
