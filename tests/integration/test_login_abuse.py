"""Login abuse: nobody can lock another user out, and a flood cannot starve real users.

The service learns the client address from the TCP peer (http_client_addr): the tests bind
their client sockets to 127.0.0.1 (the attacker) or 127.0.0.2 (the account owner), both
loopback addresses of this machine. The backstop test also starts an instance with
TRUSTED_PROXIES=127.0.0.1, so that X-Forwarded-For from 127.0.0.1 names more attacker
addresses (documentation addresses of RFC 5737; no traffic goes to them).

  * TestThrottle: failed logins are throttled per username AND client (address, or the
    device cookie a successful login issued), so the attacker's address is throttled for
    the username (429 + Retry-After) while the owner logs in from another address, or from
    the attacker's address with the device cookie.
  * TestBackstop: the looser per-username cap over all clients stops an attacker with many
    addresses, but never a known device.
  * TestFlood: with RATE_LIMIT_LOGIN=0, sixteen threads log in with unknown usernames while
    a real user logs in: the real user gets 200 quickly, the flood gets fast 503 refusals
    (the unknown-username queue is full). Latencies are printed, never asserted tightly.

Every instance is stopped with SIGTERM at the end (exit 0, no sanitizer report) and its logs
must hold none of the passwords or device cookies used.
"""
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
import unittest

from harness import PYTHON, Response, Service, ServiceTestCase, unique

SIGNUP = "/api/v1/auth/signup"
LOGIN = "/api/v1/auth/login"
ATTACKER = "127.0.0.1"
OWNER = "127.0.0.2"
DEVICE_COOKIE = "tizza_device"

SECRETS = set()  # passwords and device cookies: never in a service's logs


def new_password():
    p = "pw-" + os.urandom(9).hex()
    SECRETS.add(p)
    return p


def call(svc, method, path, body=None, source=ATTACKER, cookies=None, headers=None):
    """One request on a fresh connection whose source address is `source`."""
    hdrs = {}
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        hdrs["Content-Type"] = "application/json"
    if cookies:
        hdrs["Cookie"] = "; ".join("%s=%s" % kv for kv in cookies.items())
    hdrs.update(headers or {})
    conn = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=60,
                                      source_address=(source, 0))
    try:
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        return Response(method, path, r.status, r.headers, r.read())
    finally:
        conn.close()


class Device:
    """A browser on one address: keeps the device cookie a successful login sets."""

    def __init__(self, svc, source, headers=None):
        self.svc, self.source, self.headers = svc, source, headers
        self.device = None

    def login(self, username, password):
        cookies = {DEVICE_COOKIE: self.device} if self.device else None
        r = call(self.svc, "POST", LOGIN, {"username": username, "password": password},
                 source=self.source, cookies=cookies, headers=self.headers)
        got = r.set_cookies().get(DEVICE_COOKIE)
        if got and got[0]:
            self.device = got[0]
            SECRETS.add(got[0])
        return r


def signup(svc, prefix="u"):
    username, password = unique(prefix), new_password()
    r = call(svc, "POST", SIGNUP, {"username": username, "email": username + "@example.test",
                                   "password": password}, source=OWNER)
    if r.status != 201:
        raise AssertionError("signup failed: %r" % (r,))
    return username, password


def superuser(svc):
    username, password = unique("root"), new_password()
    p = svc.cli(["create-superuser", "--username", username, "--email",
                 username + "@example.test"], env={"TIZZA_SUPERUSER_PASSWORD": password})
    if p.returncode != 0:
        raise AssertionError("create-superuser failed (%d): %s" % (p.returncode, p.stderr))
    return username, password


def case_variants(username):
    """The username in several letter cases (the lookup is case-insensitive)."""
    return [username, username.upper(), username.lower(), username.swapcase(),
            username[:1].upper() + username[1:].lower()]


def stop_and_check_secrets(test_case, svc):
    svc.stop_and_check()
    logs = svc.all_output()
    leaked = sorted(s for s in SECRETS if s in logs)
    if leaked:
        raise AssertionError("secrets found in %s's logs (%d), e.g. %r" %
                             (svc.tag, len(leaked), leaked[0][:12] + "..."))


class LoginCase(ServiceTestCase):

    def assertThrottled(self, r):
        self.assertProblem(r, 429)
        self.assertRegex(r.headers.get("Retry-After", ""), r"^[1-9][0-9]*$", r)
        return int(r.headers["Retry-After"])

    def hammer(self, attacker, username, n, first_401=5):
        """n wrong passwords for `username` in varying letter case: the first `first_401`
        answer 401, the rest 429 with Retry-After."""
        names = case_variants(username)
        statuses = []
        for i in range(n):
            r = attacker.login(names[i % len(names)], "wrong-password-%d" % i)
            statuses.append(r.status)
            if i < first_401:
                self.assertProblem(r, 401)
            else:
                self.assertThrottled(r)
        return statuses


class TestThrottle(LoginCase):
    """Default LOGIN_FAILURES_PER_USER (5 per username and client per 15 minutes)."""

    @classmethod
    def setUpClass(cls):
        cls.svc = Service(tag="auth-throttle").start()

    @classmethod
    def tearDownClass(cls):
        stop_and_check_secrets(cls, cls.svc)

    def test_owner_logs_in_from_another_address(self):
        username, password = signup(self.svc, "victim")
        attacker = Device(self.svc, ATTACKER)
        self.hammer(attacker, username, 12)
        # The owner, on another address, at once: not affected by the attacker's failures.
        owner = Device(self.svc, OWNER)
        r = owner.login(username.upper(), password)
        self.assertEqual(r.status, 200, r)
        # The attacker's address stays throttled for this username, right password or not
        # (a throttle that let the right one through would tell a hit from a miss).
        retry = self.assertThrottled(attacker.login(username, password))
        self.assertLessEqual(retry, 15 * 60)
        self.assertThrottled(attacker.login(username.lower(), "wrong-again"))

    def test_admin_is_not_locked_out(self):
        username, password = superuser(self.svc)
        attacker = Device(self.svc, ATTACKER)
        self.hammer(attacker, username, 8)
        r = Device(self.svc, OWNER).login(username.swapcase(), password)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["user"]["role"], "admin")
        self.assertThrottled(attacker.login(username, password))

    def test_other_usernames_from_the_attacker_address_are_not_throttled(self):
        victim, _ = signup(self.svc, "victim")
        other, other_pw = signup(self.svc, "other")
        attacker = Device(self.svc, ATTACKER)
        self.hammer(attacker, victim, 7)
        r = Device(self.svc, ATTACKER).login(other, other_pw)
        self.assertEqual(r.status, 200, r)

    def test_device_cookie_lets_the_owner_in_from_the_attacker_address(self):
        username, password = signup(self.svc, "shared")
        owner = Device(self.svc, ATTACKER)  # the owner shares the attacker's address (NAT)
        r = owner.login(username, password)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(owner.device, "a successful login sets the device cookie")
        value, attrs = r.set_cookies()[DEVICE_COOKIE]
        self.assertIs(attrs.get("httponly"), True, attrs)
        self.assertEqual(attrs.get("path"), LOGIN, attrs)
        self.assertEqual(attrs.get("samesite"), "Strict", attrs)
        self.assertGreater(int(attrs.get("max-age", "0")), 86400, attrs)
        self.assertNotIn(username.lower(), value.lower(), "the cookie does not name the user")

        attacker = Device(self.svc, ATTACKER)  # no device cookie
        self.hammer(attacker, username, 10)
        r = owner.login(username.upper(), password)
        self.assertEqual(r.status, 200, r)
        self.assertThrottled(attacker.login(username, password))

    def test_device_cookie_is_throttled_by_its_own_failures(self):
        """A stolen device cookie does not buy unlimited guesses: failures with it are
        throttled per device."""
        username, password = signup(self.svc, "stolen")
        thief = Device(self.svc, OWNER)
        self.assertEqual(thief.login(username, password).status, 200)
        self.hammer(thief, username, 7)
        self.assertThrottled(thief.login(username, password))
        # The other address is not throttled by the device's failures.
        r = Device(self.svc, ATTACKER).login(username, password)
        self.assertEqual(r.status, 200, r)

    def test_device_cookie_counts_for_its_own_user_only(self):
        a, a_pw = signup(self.svc, "alpha")
        b, b_pw = signup(self.svc, "beta")
        dev = Device(self.svc, ATTACKER)
        self.assertEqual(dev.login(a, a_pw).status, 200)
        cookie_of_a = dev.device
        self.hammer(Device(self.svc, ATTACKER), b, 6)
        # a's device cookie is no known device for b: the address throttle applies.
        r = call(self.svc, "POST", LOGIN, {"username": b, "password": b_pw}, source=ATTACKER,
                 cookies={DEVICE_COOKIE: cookie_of_a})
        self.assertThrottled(r)
        # Nor is a forged or mangled cookie.
        for forged in ("x", cookie_of_a[:-2] + ("AA" if cookie_of_a[-2:] != "AA" else "BB"),
                       "A" * len(cookie_of_a)):
            r = call(self.svc, "POST", LOGIN, {"username": b, "password": b_pw},
                     source=ATTACKER, cookies={DEVICE_COOKIE: forged})
            self.assertThrottled(r)
        self.assertEqual(Device(self.svc, OWNER).login(b, b_pw).status, 200)


class TestBackstop(LoginCase):
    """LOGIN_FAILURES_PER_USER_TOTAL=8: after 8 failures for one username from any number of
    addresses, clients without a device cookie are throttled for it; known devices are not."""

    @classmethod
    def setUpClass(cls):
        cls.svc = Service(env={"TRUSTED_PROXIES": ATTACKER, "LOGIN_FAILURES_PER_USER": "3",
                               "LOGIN_FAILURES_PER_USER_TOTAL": "8"},
                          tag="auth-backstop").start()

    @classmethod
    def tearDownClass(cls):
        stop_and_check_secrets(cls, cls.svc)

    def test_many_addresses_meet_the_backstop_but_known_devices_do_not(self):
        username, password = signup(self.svc, "famous")
        laptop = Device(self.svc, OWNER)
        self.assertEqual(laptop.login(username, password).status, 200)

        statuses = []
        for n in range(1, 6):  # five attacker addresses behind the trusted proxy
            bot = Device(self.svc, ATTACKER, headers={"X-Forwarded-For": "198.51.100.%d" % n})
            for i in range(3):
                statuses.append(bot.login(username, "guess-%d-%d" % (n, i)).status)
        self.assertEqual(statuses[:8], [401] * 8, statuses)
        self.assertEqual(statuses[8:], [429] * 7, statuses)
        bot = Device(self.svc, ATTACKER, headers={"X-Forwarded-For": "198.51.100.99"})
        self.assertThrottled(bot.login(username, password))
        # A new device of the owner meets the backstop too (documented) ...
        self.assertThrottled(Device(self.svc, OWNER).login(username, password))
        # ... but the known laptop logs in.
        r = laptop.login(username, password)
        self.assertEqual(r.status, 200, r)


# The flood runs in a process of its own, so that its threads do not hold the test's GIL
# while the real user's login is timed: argv port, source address, threads; it floods until
# its stdin closes, then prints {"results": [[status, seconds, Retry-After]], "errors",
# "alive"} as JSON.
FLOOD = r"""
import http.client, json, os, sys, threading, time
port, source, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
stop, out, errors = threading.Event(), [], []
def bot():
    try:
        while not stop.is_set():
            body = json.dumps({"username": "ghost_" + os.urandom(6).hex(),
                               "password": "flood-password"})
            t0 = time.monotonic()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60,
                                           source_address=(source, 0))
            c.request("POST", "/api/v1/auth/login", body=body,
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            c.close()
            out.append([r.status, time.monotonic() - t0, r.getheader("Retry-After")])
    except Exception as e:
        errors.append(repr(e))
ts = [threading.Thread(target=bot) for _ in range(n)]
for t in ts:
    t.start()
print("started", flush=True)
sys.stdin.read()
stop.set()
for t in ts:
    t.join(60)
json.dump({"results": out, "errors": errors, "alive": sum(t.is_alive() for t in ts)},
          sys.stdout)
"""


class TestFlood(ServiceTestCase):
    """RATE_LIMIT_LOGIN=0 and one hash at a time (HASH_CONCURRENCY=1): unknown-username
    logins from 16 threads must neither starve a real user's login nor queue without
    bound."""

    THREADS = 16

    @classmethod
    def setUpClass(cls):
        cls.svc = Service(env={"RATE_LIMIT_LOGIN": "0", "HASH_CONCURRENCY": "1"},
                          tag="auth-flood").start()

    @classmethod
    def tearDownClass(cls):
        stop_and_check_secrets(cls, cls.svc)

    def timed_login(self, username, password):
        t0 = time.monotonic()
        r = Device(self.svc, OWNER).login(username, password)
        return r, time.monotonic() - t0

    def test_unknown_user_flood_does_not_starve_real_logins(self):
        username, password = signup(self.svc, "real")
        quiet = []
        for _ in range(3):
            r, secs = self.timed_login(username, password)
            self.assertEqual(r.status, 200, r)
            quiet.append(secs)

        flood = subprocess.Popen([PYTHON, "-c", FLOOD, str(self.svc.port), ATTACKER,
                                  str(self.THREADS)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        real = []
        try:
            self.assertEqual(flood.stdout.readline().strip(), "started")
            time.sleep(1.0)  # let the flood fill every queue
            for _ in range(5):
                r, secs = self.timed_login(username, password)
                real.append((r.status, secs))
                time.sleep(0.2)
            out, _ = flood.communicate(input="", timeout=120)
        finally:
            if flood.poll() is None:
                flood.kill()
                flood.wait()
        report = json.loads(out)
        self.assertEqual((report["errors"][:1], report["alive"]), ([], 0))

        by_status = {}
        for status, secs, _ in report["results"]:
            by_status.setdefault(status, []).append(secs)
        sys.stderr.write(
            "\n  real login alone: %s s\n  real login under a %d-thread flood: %s\n"
            "  flood: %s\n" % (
                ", ".join("%.3f" % s for s in quiet), self.THREADS,
                ", ".join("%d in %.3f s" % r for r in real),
                "; ".join("%d x%d median %.3f s max %.3f s" % (
                    st, len(v), statistics.median(v), max(v))
                    for st, v in sorted(by_status.items()))))

        # Generous bounds: with one slot a real login may wait for one dummy verification,
        # and the flood competes for the CPU (the sanitizer build, a busy machine). Starved
        # behind the flood, real logins took 10-40 times a quiet one (4.5-15 s here).
        self.assertEqual([s for s, _ in real], [200] * len(real), real)
        self.assertLess(max(secs for _, secs in real), 10.0, real)
        self.assertLess(statistics.median(secs for _, secs in real),
                        max(3.0, 6 * statistics.median(quiet)), (real, quiet))
        self.assertLessEqual(set(by_status), {401, 503}, sorted(by_status))
        refused = [x for x in report["results"] if x[0] == 503]
        self.assertTrue(refused, "the flood was never refused: %s" % sorted(by_status))
        for _, _, retry in refused:
            self.assertRegex(retry or "", r"^[1-9][0-9]*$")
        # Refusals are fast: no argon2id, no waiting for a slot (generous bound).
        self.assertLess(statistics.median(by_status[503]), 1.0, by_status[503][:20])


if __name__ == "__main__":
    unittest.main()
