"""Integration tests of tizza-auth: the real binary over HTTP (see harness.py).

One main instance serves most tests (its store is fresh for this module); tests that need
other settings (low rate limits, a 1 s access-token lifetime with another signing key, a
restart on the same store, bad configuration) start their own instances. Argon2 costs about
0.1 s per signup/login, so read-only tests share a few users; tests that change or delete a
user make their own.

When this module ends, the main instance is stopped with SIGTERM (exit 0, no sanitizer
report = the leak check) and its logs are searched for every password and token the tests
used: none may appear.
"""
import hashlib
import hmac
import json
import os
import re
import socket
import threading
import time
import unittest
import urllib.parse

from harness import (Client, Service, ServiceTestCase, in_parallel, b64url_decode, b64url_encode,
                     ed25519_public, free_port, jwt_build, jwt_decode, jwt_sign, jwt_verify,
                     kid_of, new_store_url, raw_http, run_cli, sanitizer_findings, unique)

SIGNUP = "/api/v1/auth/signup"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"
JWKS = "/api/v1/auth/jwks"
USERS = "/api/v1/users"
NO_SUCH_ID = "0123456789abcdef01234567"
CORS_ORIGIN = "http://allowed.test"

PUBLIC_KEYS = {"id", "username", "name", "created_at"}
PRIVATE_KEYS = PUBLIC_KEYS | {"email", "role", "updated_at"}

SVC = None
PASSWORDS = set()   # every password sent: must never show up in the service's logs
SECRETS = set()     # token signatures and refresh tokens: must never be logged either
_shared = {}
_admin = None


def setUpModule():
    global SVC
    SVC = Service(env={"CORS_ORIGINS": CORS_ORIGIN}, tag="auth-main").start()


def tearDownModule():
    if SVC is None:
        return
    SVC.stop_and_check()
    logs = SVC.all_output()
    if '"msg":"request"' not in logs or not PASSWORDS:
        raise AssertionError("no access log or no passwords: the secrecy check below is void")
    leaked = sorted(p for p in PASSWORDS | SECRETS if p in logs)
    if leaked:
        raise AssertionError("secrets found in the service's logs (%d), e.g. %r" %
                             (len(leaked), leaked[0][:12] + "..."))


# ---------------------------------------------------------------- fixtures

def new_password():
    p = "pw-" + os.urandom(9).hex()
    PASSWORDS.add(p)
    return p


def remember_tokens(client=None, body=None):
    for c in ([client] if client else []):
        if c.cookie("tizza_access"):
            SECRETS.add(c.cookie("tizza_access").split(".")[-1])
        if c.cookie("tizza_refresh"):
            SECRETS.add(c.cookie("tizza_refresh"))
    if isinstance(body, dict):
        if isinstance(body.get("access_token"), str):
            SECRETS.add(body["access_token"].split(".")[-1])
        if isinstance(body.get("refresh_token"), str):
            SECRETS.add(body["refresh_token"])


class User:
    """A signed-up user: id, username, email, password, the signup client (cookies) and
    its access token."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def api(self):
        """A client authenticating with the Bearer token only (no cookies)."""
        c = Client(self.svc)
        c.token = self.token
        return c


def signup(svc=None, prefix="u", name=None, route=SIGNUP, password=None, email=None):
    svc = svc or SVC
    c = Client(svc)
    username = unique(prefix)
    password = password or new_password()
    email = email or (username.lower() + "@example.test")
    body = {"username": username, "email": email, "password": password}
    if name is not None:
        body["name"] = name
    r = c.post(route, body)
    if r.status != 201:
        raise AssertionError("signup failed: %r" % (r,))
    remember_tokens(c)
    return User(svc=svc, id=r.json["id"], username=username, email=email, password=password,
                client=c, token=c.cookie("tizza_access"), body=r.json, resp=r)


def login(svc, username, password, client=None):
    c = client or Client(svc)
    r = c.post(LOGIN, {"username": username, "password": password})
    remember_tokens(c, r.json)
    return c, r


def refresh_at_once(svc, token, n):
    """`n` refreshes of one refresh token, released together; their responses."""
    results, barrier = [], threading.Barrier(n)

    def refresh():
        barrier.wait()
        results.append(Client(svc).post(REFRESH, {"refresh_token": token}, cookies=False))

    threads = [threading.Thread(target=refresh) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def shared(key):
    """Read-only users shared by tests (never modified nor deleted)."""
    if key not in _shared:
        _shared[key] = signup(prefix=key)
    return _shared[key]


def admin():
    """An admin made with `tizza-auth create-superuser` on the main store, logged in."""
    global _admin
    if _admin is None:
        username, password = unique("root"), new_password()
        p = SVC.cli(["create-superuser", "--username", username, "--email",
                     username + "@example.test"], env={"TIZZA_SUPERUSER_PASSWORD": password})
        if p.returncode != 0:
            raise AssertionError("create-superuser failed (%d): %s" % (p.returncode, p.stderr))
        c, r = login(SVC, username, password)
        if r.status != 200:
            raise AssertionError("admin login failed: %r" % (r,))
        _admin = User(svc=SVC, id=r.json["user"]["id"], username=username,
                      email=username + "@example.test", password=password, client=c,
                      token=r.json["access_token"], body=r.json)
    return _admin


def anon():
    return Client(SVC)


# ================================================================ signup

class TestSignup(ServiceTestCase):

    def check_created(self, r, username, email, name=""):
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.content_type, "application/json")
        u = r.json
        self.assertEqual(set(u), PRIVATE_KEYS, u)
        self.assertObjectId(u["id"])
        self.assertEqual(u["username"], username)
        self.assertEqual(u["email"], email)
        self.assertEqual(u["name"], name)
        self.assertEqual(u["role"], "user")
        self.assertIsoMs(u["created_at"])
        self.assertIsoMs(u["updated_at"])
        # absolute, on the address the client connected to (no PUBLIC_URL, no trusted proxy)
        loc = r.headers.get("Location") or ""
        self.assertEqual(loc, "http://127.0.0.1:%d/api/v1/users/%s" % (SVC.port, u["id"]))
        cookies = r.set_cookies()
        self.assertIn("tizza_access", cookies)
        self.assertIn("tizza_refresh", cookies)
        access, a = cookies["tizza_access"]
        self.assertEqual(len(access.split(".")), 3, access)
        self.assertIs(a.get("httponly"), True, a)
        self.assertEqual(str(a.get("samesite")).lower(), "lax", a)
        self.assertEqual(a.get("path"), "/", a)
        self.assertEqual(a.get("max-age"), "900", a)
        self.assertNotIn("secure", a, "COOKIE_SECURE defaults to false")
        refresh, a = cookies["tizza_refresh"]
        self.assertGreaterEqual(len(b64url_decode(refresh)), 32)
        self.assertIs(a.get("httponly"), True, a)
        self.assertEqual(str(a.get("samesite")).lower(), "strict", a)
        self.assertEqual(a.get("path"), "/api/v1/auth", a)
        self.assertEqual(a.get("max-age"), "1209600", a)
        _, claims, _ = jwt_decode(access)
        self.assertEqual(claims["sub"], u["id"])
        return u

    def test_signup_auth_route(self):
        c = anon()
        username, pw = unique("su"), new_password()
        r = c.post(SIGNUP, {"username": username, "email": username + "@example.test",
                            "password": pw})
        remember_tokens(c)
        u = self.check_created(r, username, username + "@example.test")
        self.assertNotIn(pw, r.text)
        self.assertNotIn("password", r.text)
        # The cookie alone authenticates.
        me = c.get(ME)
        self.assertEqual(me.status, 200, me)
        self.assertEqual(me.json["id"], u["id"])
        # The Location points at the new user.
        got = anon().get(urllib.parse.urlsplit(r.headers["Location"]).path)
        self.assertEqual(got.status, 200, got)
        self.assertEqual(got.json["username"], username)

    def test_signup_users_route(self):
        c = anon()
        username, pw = unique("su"), new_password()
        r = c.post(USERS, {"username": username, "email": username + "@Example.test",
                           "password": pw, "name": "Book User"})
        remember_tokens(c)
        u = self.check_created(r, username, username + "@Example.test", "Book User")
        self.assertEqual(c.get(ME).json["id"], u["id"])

    def test_boundaries_accepted(self):
        # username 30 chars, password 256 bytes, name 100 code points (200 bytes).
        username = (unique("b") + "_" * 30)[:30]
        pw = ("p" * 250) + os.urandom(3).hex()
        PASSWORDS.add(pw)
        name = "ł" * 100
        c = anon()
        r = c.post(SIGNUP, {"username": username, "email": "B" + username + "@example.test",
                            "password": pw, "name": name})
        remember_tokens(c)
        self.check_created(r, username, "B" + username + "@example.test", name)
        _, r = login(SVC, username, pw)
        self.assertEqual(r.status, 200, r)

    def test_short_fields_accepted(self):
        username = "u" + os.urandom(1).hex()[:2]  # 3 chars
        pw = "pw" + os.urandom(3).hex()  # 8 bytes
        PASSWORDS.add(pw)
        r = anon().post(SIGNUP, {"username": username, "email": "a@b.co", "password": pw})
        self.assertEqual(r.status, 201, r)

    def test_non_ascii_name_round_trip(self):
        name = "Zoë 🍕 Łukasz"
        u = signup(prefix="nonascii", name=name)
        self.assertEqual(u.body["name"], name)
        self.assertEqual(anon().get(USERS + "/" + u.id).json["name"], name)
        self.assertEqual(u.api().get(ME).json["name"], name)
        listed = anon().get(USERS + "?username=" + u.username).json["results"]
        self.assertEqual([x["name"] for x in listed], [name])

    def test_malformed_json(self):
        for body in ('{"username":', "{'a': 1}", "\xff\xfe", "{}x", "nul"):
            with self.subTest(body=body):
                r = anon().request("POST", SIGNUP, body=body.encode("latin-1"),
                                   content_type="application/json")
                self.assertProblem(r, 400)

    def test_non_object_json(self):
        for body in ([], ["a"], "text", 42, None, True):
            with self.subTest(body=body):
                self.assertProblem(anon().post(SIGNUP, body), 400)

    def test_empty_body(self):
        self.assertProblem(anon().request("POST", SIGNUP, content_type="application/json"), 400)

    def test_missing_fields(self):
        full = {"username": unique("miss"), "email": "m@example.test", "password": new_password()}
        for field in ("username", "email", "password"):
            with self.subTest(missing=field):
                body = dict(full)
                del body[field]
                self.assertProblem(anon().post(SIGNUP, body), 400, field=field)
        r = anon().post(SIGNUP, {})
        body = self.assertProblem(r, 400, field="username")
        fields = {e["field"] for e in body["errors"]}
        self.assertTrue({"username", "email", "password"} <= fields, body)

    def test_invalid_fields(self):
        ok = {"username": unique("inv"), "email": "inv@example.test"}
        cases = [
            ("username", "x" * 31), ("username", "ab"), ("username", ""),
            ("username", "bad name"), ("username", "bad/name"), ("username", "zoë"),
            ("username", "a@b"), ("username", "semi;colon"), ("username", "tab\tname"),
            ("password", "p" * 257), ("password", "short7!"), ("password", "é" * 129),
            ("name", "n" * 101), ("name", "🍕" * 101),
            ("email", "no-at-sign.example"), ("email", "a@nodot"), ("email", "@example.test"),
            ("email", "sp ace@example.test"), ("email", "a@b@example.test"),
            ("email", ("e" * 250) + "@ex.test"), ("email", ""),
        ]
        for field, value in cases:
            with self.subTest(field=field, value=value[:40]):
                body = dict(ok, password=new_password())
                body[field] = value
                if field == "password":
                    PASSWORDS.add(value)
                r = anon().post(SIGNUP, body)
                self.assertProblem(r, 400, field=field)
                self.assertNotIn(body["password"], r.text, "problem echoes the password")

    def test_wrong_types(self):
        ok = {"username": unique("typ"), "email": "typ@example.test", "password": new_password()}
        cases = [("username", 123), ("username", None), ("username", ["a"]),
                 ("email", []), ("email", {"a": 1}), ("password", None),
                 ("password", 12345678), ("name", 5), ("name", False)]
        for field, value in cases:
            with self.subTest(field=field, value=value):
                body = dict(ok)
                body[field] = value
                self.assertProblem(anon().post(SIGNUP, body), 400, field=field)

    def test_unknown_fields(self):
        base = {"username": unique("unk"), "email": "unk@example.test",
                "password": new_password()}
        for extra in ({"role": "admin"}, {"is_admin": True}, {"id": NO_SUCH_ID},
                      {"password_hash": "x"}):
            with self.subTest(extra=extra):
                r = anon().post(SIGNUP, dict(base, **extra))
                self.assertProblem(r, 400, field=list(extra)[0])
        # None of them created the user.
        r = anon().get(USERS + "?username=" + base["username"])
        self.assertEqual(r.json["count"], 0, r)

    def test_duplicate_username_other_case(self):
        u = shared("alice")
        r = anon().post(SIGNUP, {"username": u.username.upper(), "email": unique("d") + "@x.test",
                                 "password": new_password()})
        self.assertProblem(r, 409, field="username")
        r = anon().post(USERS, {"username": u.username, "email": unique("d") + "@x.test",
                                "password": new_password()})
        self.assertProblem(r, 409, field="username")

    def test_duplicate_email_other_case(self):
        u = shared("alice")
        r = anon().post(SIGNUP, {"username": unique("dup"), "email": u.email.upper(),
                                 "password": new_password()})
        self.assertProblem(r, 409, field="email")

    def test_no_cookies_on_failure(self):
        r = anon().post(SIGNUP, {"username": "x"})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.set_cookies(), {})


# ================================================================ login

class TestLogin(ServiceTestCase):

    def test_login_success_and_claims(self):
        u = shared("alice")
        c, r = login(SVC, u.username, u.password)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json) - {"refresh_token"}, {"user", "access_token", "expires_in"})
        self.assertEqual(set(r.json["user"]), PRIVATE_KEYS)
        self.assertEqual(r.json["user"]["id"], u.id)
        self.assertEqual(r.json["user"]["email"], u.email)
        self.assertEqual(r.json["expires_in"], 900)
        tok = r.json["access_token"]
        self.assertEqual(c.cookie("tizza_access"), tok)
        self.assertTrue(c.cookie("tizza_refresh"))
        header, claims, sig = jwt_decode(tok)
        self.assertEqual(header.get("alg"), "EdDSA", header)
        self.assertEqual(header.get("typ"), "JWT", header)
        self.assertIsInstance(header.get("kid"), str)
        self.assertEqual(len(sig), 64, "Ed25519 signatures are 64 bytes")
        self.assertEqual(claims["sub"], u.id)
        self.assertEqual(claims["username"], u.username)
        self.assertEqual(claims["role"], "user")
        for k in ("iat", "exp"):
            self.assertIsInstance(claims[k], int, claims)
        self.assertEqual(claims["exp"] - claims["iat"], 900)
        self.assertLessEqual(abs(claims["iat"] - time.time()), 60)
        self.assertIsInstance(claims["jti"], str)
        self.assertGreaterEqual(len(b64url_decode(claims["jti"])), 16)
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        me = Client(SVC).get(ME, token=tok)
        self.assertEqual(me.status, 200, me)
        self.assertEqual(me.json["id"], u.id)
        # A second login gets another jti.
        _, r2 = login(SVC, u.username.upper(), u.password)  # username is case-insensitive
        self.assertEqual(r2.status, 200, r2)
        self.assertNotEqual(jwt_decode(r2.json["access_token"])[1]["jti"], claims["jti"])

    def test_wrong_password_and_unknown_user_look_the_same(self):
        u = shared("bob")
        c1, wrong = login(SVC, u.username, "not-the-password-" + os.urandom(3).hex())
        c2, unknown = login(SVC, unique("ghost"), "not-the-password-x")
        self.assertProblem(wrong, 401)
        self.assertProblem(unknown, 401)
        strip = lambda b: {k: v for k, v in b.items() if k not in ("instance", "request_id")}
        self.assertEqual(strip(wrong.json), strip(unknown.json))
        self.assertEqual(wrong.json["detail"], "invalid username or password")
        self.assertEqual(wrong.set_cookies(), {})
        self.assertEqual(unknown.set_cookies(), {})

    def test_login_validation(self):
        for body in ({}, {"username": "a"}, {"password": "abcdefgh1"},
                     {"username": 5, "password": "abcdefgh1"},
                     {"username": "abc", "password": None}):
            with self.subTest(body=body):
                self.assertProblem(anon().post(LOGIN, body), 400)
        self.assertProblem(anon().request("POST", LOGIN, body=b"{nope",
                                          content_type="application/json"), 400)
        self.assertProblem(anon().post(LOGIN, ["a", "b"]), 400)

    def test_failures_per_username_are_limited(self):
        # Default LOGIN_FAILURES_PER_USER is 5 (per username and client: this test's client
        # address; test_login_abuse.py covers the other clients).
        u = signup(prefix="locked")
        other = shared("carol")
        for i in range(5):
            _, r = login(SVC, u.username, "wrong-password-%d" % i)
            self.assertProblem(r, 401)
        _, r = login(SVC, u.username, "wrong-password-6")
        self.assertProblem(r, 429)
        self.assertRegex(r.headers.get("Retry-After", ""), r"^[1-9][0-9]*$")
        # The right password does not get through while the name is locked (otherwise the
        # lock would still let a guesser tell a hit from a miss).
        _, r = login(SVC, u.username.upper(), u.password)
        self.assertProblem(r, 429)
        # Other usernames from the same client are not affected.
        _, r = login(SVC, other.username, other.password)
        self.assertEqual(r.status, 200, r)


class TestSettings(ServiceTestCase):
    """A separate instance with RATE_LIMIT_LOGIN=3/3, RATE_LIMIT_SIGNUP=2/2,
    COOKIE_SECURE=true and PAGE_SIZE=1. setUpClass spends the signup burst on two users."""

    @classmethod
    def setUpClass(cls):
        cls.svc = Service(env={"RATE_LIMIT_LOGIN": "3/3", "RATE_LIMIT_SIGNUP": "2/2",
                               "COOKIE_SECURE": "true", "PAGE_SIZE": "1"},
                          tag="auth-settings").start()
        cls.users = [signup(cls.svc, prefix="set") for _ in range(2)]

    @classmethod
    def tearDownClass(cls):
        cls.svc.stop_and_check()

    def test_secure_cookies(self):
        for u in self.users:
            cookies = u.resp.set_cookies()
            for name in ("tizza_access", "tizza_refresh"):
                self.assertIs(cookies[name][1].get("secure"), True, cookies[name])
                self.assertIs(cookies[name][1].get("httponly"), True, cookies[name])

    def test_page_size(self):
        r = Client(self.svc).get(USERS)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["count"], 2)
        self.assertEqual(len(r.json["results"]), 1)
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(r.json["next"]).query)
        self.assertEqual((q.get("limit"), q.get("offset")), (["1"], ["1"]))

    def test_login_limit_per_client(self):
        c = Client(self.svc)
        for i in range(3):
            r = c.post(LOGIN, {"username": unique("rl"), "password": "whatever-123"})
            self.assertProblem(r, 401)
        r = c.post(LOGIN, {"username": unique("rl"), "password": "whatever-123"})
        self.assertProblem(r, 429)
        self.assertRegex(r.headers.get("Retry-After", ""), r"^[1-9][0-9]*$")
        self.assertLessEqual(int(r.headers["Retry-After"]), 60)
        # X-Forwarded-For from an untrusted peer does not buy a new bucket.
        r = c.post(LOGIN, {"username": "x", "password": "y"},
                   headers={"X-Forwarded-For": "203.0.113.%d" % (os.getpid() % 250)})
        self.assertProblem(r, 429)
        # Other routes are not limited.
        self.assertEqual(c.get("/health").status, 200)

    def test_signup_limit_per_client(self):
        c = Client(self.svc)  # the burst of 2 went on setUpClass's users
        r = c.post(SIGNUP, {"username": unique("rls"), "email": "rls@example.test",
                            "password": new_password()})
        self.assertProblem(r, 429)
        self.assertRegex(r.headers.get("Retry-After", ""), r"^[1-9][0-9]*$")
        # POST /api/v1/users is limited by the same setting (its own bucket of 2; see
        # AUTH-API/openapi: "sharing its rate limit settings").
        statuses = []
        for _ in range(3):
            name = unique("rlu")
            r = c.post(USERS, {"username": name, "email": name + "@example.test",
                               "password": new_password()})
            remember_tokens(c)
            statuses.append(r.status)
        self.assertEqual(statuses[2], 429, statuses)
        self.assertProblem(r, 429)


# ================================================================ refresh / logout

class TestRefresh(ServiceTestCase):
    """The main instance: the default REFRESH_GRACE_MS (5 s) between a rotation and a second
    use of the rotated token."""

    def test_rotation_with_cookie(self):
        u = shared("dave")
        c, r = login(SVC, u.username, u.password)
        self.assertEqual(r.status, 200, r)
        old_access, old_refresh = c.cookie("tizza_access"), c.cookie("tizza_refresh")
        r = c.post(REFRESH)  # no body: the refresh cookie is the credential
        remember_tokens(c, r.json)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["user"]["id"], u.id)
        self.assertEqual(r.json["expires_in"], 900)
        self.assertNotIn("refresh_token", r.json, "cookie refresh must not put it in the body")
        new_access, new_refresh = c.cookie("tizza_access"), c.cookie("tizza_refresh")
        self.assertEqual(new_access, r.json["access_token"])
        self.assertNotEqual(new_refresh, old_refresh)
        self.assertNotEqual(jwt_decode(new_access)[1]["jti"], jwt_decode(old_access)[1]["jti"])
        self.assertEqual(Client(SVC).get(ME, token=new_access).status, 200)
        cookies = r.set_cookies()
        self.assertEqual(cookies["tizza_refresh"][1].get("path"), "/api/v1/auth")

        # The old one again at once (another tab that refreshed at the same moment): the
        # same successor and a valid access token, nothing revoked.
        tab = Client(SVC)
        tab.jar["tizza_refresh"] = (old_refresh, "/api/v1/auth")
        again = tab.post(REFRESH)
        remember_tokens(tab, again.json)
        self.assertEqual(again.status, 200, again)
        self.assertEqual(tab.cookie("tizza_refresh"), new_refresh)
        self.assertNotIn("refresh_token", again.json)
        self.assertEqual(Client(SVC).get(ME, token=again.json["access_token"]).status, 200)
        r = c.post(REFRESH)  # the family lives on
        remember_tokens(c, r.json)
        self.assertEqual(r.status, 200, r)

    def test_rotation_with_body(self):
        u = shared("dave")
        c, r = login(SVC, u.username, u.password)
        first = c.cookie("tizza_refresh")
        r = Client(SVC).post(REFRESH, {"refresh_token": first}, cookies=False)
        remember_tokens(body=r.json)
        self.assertEqual(r.status, 200, r)
        second = r.json.get("refresh_token")
        self.assertIsInstance(second, str, "token given in the body comes back in the body")
        self.assertNotEqual(second, first)
        self.assertEqual(r.set_cookies()["tizza_refresh"][0], second)
        r = Client(SVC).post(REFRESH, {"refresh_token": second}, cookies=False)
        remember_tokens(body=r.json)
        self.assertEqual(r.status, 200, r)
        third = r.json["refresh_token"]
        self.assertEqual(Client(SVC).get(ME, token=r.json["access_token"]).status, 200)
        # Within the grace window a rotated token leads to the newest token of its family.
        for old in (second, first):
            with self.subTest(old=old is first and "first" or "second"):
                r = Client(SVC).post(REFRESH, {"refresh_token": old}, cookies=False)
                remember_tokens(body=r.json)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json["refresh_token"], third)
                self.assertEqual(r.set_cookies()["tizza_refresh"][0], third)
        r = Client(SVC).post(REFRESH, {"refresh_token": third}, cookies=False)
        remember_tokens(body=r.json)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(r.json["refresh_token"], (first, second, third))

    def test_concurrent_refreshes_share_one_successor(self):
        """Four refreshes of one token at once (browser tabs): one rotation happens (on
        MongoDB the others lose a write conflict and run again); the others are within the
        grace window and get the same successor with a valid access token of their own. The
        family is not revoked: the successor rotates as usual."""
        u = shared("dave")
        for _ in range(3):
            c, r = login(SVC, u.username, u.password)
            self.assertEqual(r.status, 200, r)
            token = c.cookie("tizza_refresh")
            results = refresh_at_once(SVC, token, 4)
            self.assertEqual(len(results), 4)
            self.assertEqual([x.status for x in results], [200] * 4, results)
            for x in results:
                remember_tokens(body=x.json)
            successors = {x.json["refresh_token"] for x in results}
            self.assertEqual(len(successors), 1, "one rotation, one successor")
            successor = successors.pop()
            self.assertNotEqual(successor, token)
            for x in results:
                self.assertEqual(x.set_cookies()["tizza_refresh"][0], successor)
                self.assertEqual(Client(SVC).get(ME, token=x.json["access_token"]).status, 200)
            r = Client(SVC).post(REFRESH, {"refresh_token": successor}, cookies=False)
            remember_tokens(body=r.json)
            self.assertEqual(r.status, 200, r)

    def test_grace_does_not_outlive_a_logout(self):
        u = shared("dave")
        c, r = login(SVC, u.username, u.password)
        old = c.cookie("tizza_refresh")
        r = c.post(REFRESH)
        remember_tokens(c, r.json)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(c.post(LOGOUT).status, 204)
        r = Client(SVC).post(REFRESH, {"refresh_token": old}, cookies=False)
        self.assertProblem(r, 401)
        self.assertEqual(r.set_cookies().get("tizza_refresh"), None)

    def test_invalid_refresh(self):
        self.assertProblem(anon().post(REFRESH), 401)
        self.assertProblem(anon().post(REFRESH, {}), 401)
        self.assertProblem(anon().post(REFRESH, {"refresh_token": "garbage"}), 401)
        self.assertProblem(anon().post(REFRESH, {"refresh_token": b64url_encode(os.urandom(32))}),
                           401)
        self.assertProblem(anon().request("POST", REFRESH,
                                          headers={"Cookie": "tizza_refresh=garbage"},
                                          cookies=False), 401)
        r = anon().post(REFRESH, {"refresh_token": 5})
        self.assertIn(r.status, (400, 401), r)
        self.assertProblem(r, r.status)

    def test_access_token_is_not_a_refresh_token(self):
        u = shared("dave")
        r = anon().post(REFRESH, {"refresh_token": u.token})
        self.assertProblem(r, 401)


class TestRefreshReuse(ServiceTestCase):
    """Instances with REFRESH_GRACE_MS=1000 and =0: a use of a rotated token after the
    grace window (or at any time with 0) is a reuse: 401, and the whole family is revoked,
    so both the thief and the victim must log in again."""

    GRACE_S = 1.0

    @classmethod
    def setUpClass(cls):
        cls.svc = Service(env={"REFRESH_GRACE_MS": str(int(cls.GRACE_S * 1000))},
                          tag="auth-grace").start()
        cls.nograce = Service(env={"REFRESH_GRACE_MS": "0"}, tag="auth-nograce").start()

    @classmethod
    def tearDownClass(cls):
        cls.svc.stop_and_check()
        cls.nograce.stop_and_check()

    def session(self, svc):
        u = signup(svc, prefix="reuse")
        c, r = login(svc, u.username, u.password)
        self.assertEqual(r.status, 200, r)
        return u, c

    def assertRevoked(self, svc, old, successor):
        reuse = Client(svc).post(REFRESH, {"refresh_token": old}, cookies=False)
        self.assertProblem(reuse, 401)
        self.assertIn("already used", reuse.json["detail"])
        # The family is revoked: the successor fails too.
        self.assertProblem(Client(svc).post(REFRESH, {"refresh_token": successor},
                                            cookies=False), 401)

    def test_reuse_after_the_window_revokes_the_family(self):
        u, c = self.session(self.svc)
        old = c.cookie("tizza_refresh")
        r = c.post(REFRESH)
        remember_tokens(c, r.json)
        self.assertEqual(r.status, 200, r)
        successor = c.cookie("tizza_refresh")
        time.sleep(self.GRACE_S + 0.5)
        self.assertRevoked(self.svc, old, successor)
        self.assertProblem(c.post(REFRESH), 401)
        # Another session of the same user (another family) is unaffected.
        c2, r = login(self.svc, u.username, u.password)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(c2.post(REFRESH).status, 200)

    def test_reuse_of_an_older_token_after_its_window(self):
        """first -> second -> (window of first over) -> third: first is a reuse even though
        second was rotated only now."""
        _, c = self.session(self.svc)
        first = c.cookie("tizza_refresh")
        self.assertEqual(c.post(REFRESH).status, 200)
        time.sleep(self.GRACE_S + 0.5)
        self.assertEqual(c.post(REFRESH).status, 200)
        remember_tokens(c)
        self.assertRevoked(self.svc, first, c.cookie("tizza_refresh"))

    def test_no_window(self):
        _, c = self.session(self.nograce)
        old = c.cookie("tizza_refresh")
        r = c.post(REFRESH)
        remember_tokens(c, r.json)
        self.assertEqual(r.status, 200, r)
        self.assertRevoked(self.nograce, old, c.cookie("tizza_refresh"))

    def test_concurrent_refreshes_without_a_window_rotate_once(self):
        """REFRESH_GRACE_MS=0: four refreshes of one token at once rotate it once; the others
        are reuse (401), which revokes the family, the winner's new token included."""
        _, c = self.session(self.nograce)
        token = c.cookie("tizza_refresh")
        results = refresh_at_once(self.nograce, token, 4)
        self.assertEqual(len(results), 4)
        won = [x for x in results if x.status == 200]
        self.assertEqual(len(won), 1, [x.status for x in results])
        lost = [x for x in results if x.status != 200]
        for x in lost:  # reuse, or the family that reuse has revoked already
            self.assertProblem(x, 401)
            self.assertRegex(x.json["detail"], "already used|revoked")
        self.assertTrue(any("already used" in x.json["detail"] for x in lost), lost)
        remember_tokens(body=won[0].json)
        self.assertProblem(Client(self.nograce).post(
            REFRESH, {"refresh_token": won[0].json["refresh_token"]}, cookies=False), 401)


class TestLogout(ServiceTestCase):

    def test_logout_clears_cookies_and_revokes(self):
        u = shared("erin")
        c, r = login(SVC, u.username, u.password)
        self.assertEqual(r.status, 200)
        refresh = c.cookie("tizza_refresh")
        r = c.post(LOGOUT)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.raw, b"")
        cookies = r.set_cookies()
        for name, path in (("tizza_access", "/"), ("tizza_refresh", "/api/v1/auth")):
            with self.subTest(cookie=name):
                self.assertIn(name, cookies)
                value, attrs = cookies[name]
                self.assertEqual(value, "")
                self.assertEqual(attrs.get("max-age"), "0", attrs)
                self.assertEqual(attrs.get("path"), path, attrs)
                self.assertIs(attrs.get("httponly"), True, attrs)
        # Only the device cookie stays: it names the device, not a session.
        self.assertEqual(set(c.jar), {"tizza_device"})
        self.assertProblem(c.get(ME), 401)
        self.assertProblem(Client(SVC).post(REFRESH, {"refresh_token": refresh}), 401)

    def test_logout_without_credentials(self):
        r = anon().post(LOGOUT)
        self.assertEqual(r.status, 204, r)
        self.assertIn("tizza_access", r.set_cookies())
        r = anon().post(LOGOUT, {})
        self.assertEqual(r.status, 204, r)


# ================================================================ tokens and /me

class TestMeAndTokens(ServiceTestCase):

    def test_me(self):
        u = shared("alice")
        r = u.api().get(ME)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), PRIVATE_KEYS)
        self.assertEqual(r.json["email"], u.email)
        self.assertEqual(r.json["role"], "user")

    def test_me_rejects(self):
        u = shared("alice")
        h, claims, sig = jwt_decode(u.token)
        hp = u.token.split(".")
        cases = {
            "no token": None,
            "garbage": "garbage",
            "three garbage parts": "a.b.c",
            "empty signature": hp[0] + "." + hp[1] + ".",
            "flipped signature": hp[0] + "." + hp[1] + "." + b64url_encode(
                bytes([sig[0] ^ 1]) + sig[1:]),
            "tampered payload (role admin)": hp[0] + "." + b64url_encode(
                json.dumps(dict(claims, role="admin"))) + "." + hp[2],
            "tampered payload (exp)": hp[0] + "." + b64url_encode(
                json.dumps(dict(claims, exp=claims["exp"] + 3600))) + "." + hp[2],
            "alg none": jwt_build({"alg": "none", "typ": "JWT"}, claims),
            "alg none keeping the signature": jwt_build({"alg": "none", "typ": "JWT"}, claims,
                                                        sig),
            "alg None with kid": jwt_build(dict(h, alg="None"), claims),
        }
        for name, tok in cases.items():
            with self.subTest(case=name):
                self.assertProblem(Client(SVC).get(ME, token=tok or False), 401)
        with self.subTest(case="Basic auth"):
            r = Client(SVC).get(ME, headers={"Authorization": "Basic YWxpY2U6cHc="})
            self.assertProblem(r, 401)
        with self.subTest(case="garbage cookie"):
            r = Client(SVC).get(ME, headers={"Cookie": "tizza_access=garbage"})
            self.assertProblem(r, 401)

    def test_hs256_key_confusion_rejected(self):
        u = shared("alice")
        _, claims, _ = jwt_decode(u.token)
        jwk = anon().get(JWKS).json["keys"][0]
        for key in (b64url_decode(jwk["x"]), jwk["x"].encode()):
            head = {"alg": "HS256", "typ": "JWT", "kid": jwk["kid"]}
            signing_input = (b64url_encode(json.dumps(head)) + "." +
                             b64url_encode(json.dumps(dict(claims, role="admin"))))
            mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
            tok = signing_input + "." + b64url_encode(mac)
            self.assertProblem(Client(SVC).get(ME, token=tok), 401)

    def test_tampered_role_cannot_act_as_admin(self):
        u, victim = shared("alice"), shared("bob")
        hp = u.token.split(".")
        _, claims, _ = jwt_decode(u.token)
        forged = hp[0] + "." + b64url_encode(json.dumps(dict(claims, role="admin"))) + "." + hp[2]
        r = Client(SVC).delete(USERS + "/" + victim.id, token=forged)
        self.assertProblem(r, 401)
        self.assertEqual(anon().get(USERS + "/" + victim.id).status, 200)

    def test_jwks(self):
        r = anon().get(JWKS)
        self.assertEqual(r.status, 200, r)
        keys = r.json["keys"]
        self.assertIsInstance(keys, list)
        self.assertGreaterEqual(len(keys), 1)
        for k in keys:
            self.assertEqual(k["kty"], "OKP")
            self.assertEqual(k["crv"], "Ed25519")
            self.assertEqual(len(b64url_decode(k["x"])), 32)
            self.assertNotIn("d", k, "the private key must never be published")
            self.assertEqual(k.get("alg"), "EdDSA")
            self.assertEqual(k.get("use"), "sig")
        kid = jwt_decode(shared("alice").token)[0]["kid"]
        self.assertIn(kid, [k["kid"] for k in keys])


class TestSignatures(ServiceTestCase):
    """A second instance on the SAME store as the main one, with a signing key the test
    knows (AUTH_SIGNING_KEY) and ACCESS_TTL=10. Its tokens name users that exist on the
    main instance, so a rejection there can only be the signature; and the test can forge
    correctly signed tokens whose claims are wrong (see the Ed25519 oracle in harness)."""

    @classmethod
    def setUpClass(cls):
        cls.seed = os.urandom(32)
        cls.pk = ed25519_public(cls.seed)
        cls.svc = Service(store_url=SVC.store_url, tag="auth-key",
                          env={"ACCESS_TTL": "10",
                               "AUTH_SIGNING_KEY": b64url_encode(cls.seed)}).start()

    @classmethod
    def tearDownClass(cls):
        cls.svc.stop_and_check()

    def claims(self, u, **over):
        now = int(time.time())
        c = {"sub": u.id, "username": u.username, "role": "user", "iat": now,
             "exp": now + 10, "jti": b64url_encode(os.urandom(16))}  # ACCESS_TTL
        c.update(over)
        return {k: v for k, v in c.items() if v is not None}

    def header(self, **over):
        h = {"alg": "EdDSA", "typ": "JWT", "kid": kid_of(self.pk)}
        h.update(over)
        return h

    def test_published_key_is_the_configured_one(self):
        keys = Client(self.svc).get(JWKS).json["keys"]
        self.assertEqual(len(keys), 1)
        self.assertEqual(b64url_decode(keys[0]["x"]), self.pk)
        self.assertEqual(keys[0]["kid"], kid_of(self.pk))
        main = anon().get(JWKS).json["keys"]
        self.assertNotIn(keys[0]["x"], [k["x"] for k in main])

    def test_issued_tokens_verify_with_published_key(self):
        u = shared("alice")
        c, r = login(self.svc, u.username, u.password)
        self.assertEqual(r.status, 200, r)
        tok = r.json["access_token"]
        header, claims, _ = jwt_decode(tok)
        self.assertTrue(jwt_verify(self.pk, tok), "EdDSA signature by the configured key")
        self.assertEqual(header["kid"], kid_of(self.pk))
        self.assertEqual(r.json["expires_in"], 10)
        self.assertEqual(claims["exp"] - claims["iat"], 10)
        self.assertEqual(r.set_cookies()["tizza_access"][1].get("max-age"), "10",
                         "the access cookie lives as long as the token")
        # The main instance's tokens verify with the key it publishes.
        main_key = anon().get(JWKS).json["keys"][0]
        main_pk = b64url_decode(main_key["x"])
        self.assertTrue(jwt_verify(main_pk, u.token))
        self.assertEqual(jwt_decode(u.token)[0]["kid"], kid_of(main_pk))
        # Signed by another key: the main instance refuses it, even though the user exists
        # there (so it is the signature that is refused), also where a token is optional.
        self.assertProblem(Client(SVC).get(ME, token=tok), 401)
        self.assertProblem(Client(SVC).get(USERS + "/" + u.id, token=tok), 401)
        self.assertProblem(Client(SVC).get(USERS, token=tok), 401)
        # Relabelled with the main key's kid: still a bad signature.
        parts = tok.split(".")
        relabelled = ".".join([b64url_encode(json.dumps(dict(header, kid=main_key["kid"]))),
                               parts[1], parts[2]])
        self.assertProblem(Client(SVC).get(ME, token=relabelled), 401)

    def test_forged_tokens(self):
        u = shared("alice")
        me = lambda tok: Client(self.svc).get(ME, token=tok)
        # Positive control: a token the test signs with the configured key is accepted, so
        # the refusals below are about the claims alone.
        good = jwt_sign(self.seed, self.header(), self.claims(u))
        r = me(good)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["id"], u.id)
        now = int(time.time())
        cases = {
            "expired": (self.header(), self.claims(u, iat=now - 1000, exp=now - 5)),
            "iat in the future": (self.header(), self.claims(u, iat=now + 3600, exp=now + 4000)),
            "no exp": (self.header(), self.claims(u, exp=None)),
            "no iat": (self.header(), self.claims(u, iat=None)),
            "lifetime beyond ACCESS_TTL": (self.header(), self.claims(u, exp=now + 10 + 120)),
            "exp as a string": (self.header(), self.claims(u, exp=str(now + 300))),
            "unknown kid": (self.header(kid="AAAAAAAAAAAAAAAA"), self.claims(u)),
            "alg HS256 label": (self.header(alg="HS256"), self.claims(u)),
            "unknown user": (self.header(), self.claims(u, sub=NO_SUCH_ID)),
        }
        for name, (h, c) in cases.items():
            with self.subTest(case=name):
                self.assertProblem(me(jwt_sign(self.seed, h, c)), 401)
        # The same correctly signed token means nothing to the main instance.
        self.assertProblem(Client(SVC).get(ME, token=good), 401)


# ================================================================ users: list, get

class TestUsersList(ServiceTestCase):

    @classmethod
    def setUpClass(cls):
        cls.users = [shared(k) for k in ("alice", "bob", "carol", "dave", "erin")]

    def walk(self, limit, client=None):
        c = client or anon()
        url = "%s?limit=%d" % (USERS, limit)
        seen, pages, count = [], 0, None
        while url:
            r = c.get(url)
            self.assertEqual(r.status, 200, r)
            page = r.json
            self.assertEqual(set(page), {"count", "next", "previous", "results"})
            if count is None:
                count = page["count"]
            self.assertEqual(page["count"], count)
            self.assertLessEqual(len(page["results"]), limit)
            seen.extend(page["results"])
            nxt = page["next"]
            if nxt is not None:
                self.assertTrue(nxt.startswith(SVC.base + USERS + "?"), nxt)
                url = nxt[len(SVC.base):]
            else:
                url = None
            pages += 1
            self.assertLess(pages, 1000)
        return count, seen

    def test_default_page(self):
        r = anon().get(USERS)
        self.assertEqual(r.status, 200, r)
        self.assertGreaterEqual(r.json["count"], 5)
        self.assertEqual(len(r.json["results"]), 5, "default limit is 5")
        self.assertIsNone(r.json["previous"])
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(r.json["next"]).query)
        self.assertEqual(q.get("offset"), ["5"], r.json["next"])
        self.assertEqual(q.get("limit"), ["5"], r.json["next"])
        for u in r.json["results"]:
            self.assertEqual(set(u), PUBLIC_KEYS, "public view: %r" % u)

    def test_pagination_walk(self):
        count, by2 = self.walk(2)
        count100, by100 = self.walk(100)
        self.assertEqual(count, count100)
        self.assertEqual(len(by2), count)
        ids = [u["id"] for u in by2]
        self.assertEqual(len(set(ids)), len(ids), "no duplicates across pages")
        self.assertEqual(ids, [u["id"] for u in by100])
        order = [(u["created_at"], u["id"]) for u in by100]
        self.assertEqual(order, sorted(order), "sorted by created_at then id")
        self.assertTrue({u.id for u in self.users} <= set(ids))

    def test_previous_and_next(self):
        r = anon().get(USERS + "?limit=2&offset=2")
        self.assertEqual(r.status, 200, r)
        prev = r.json["previous"]
        self.assertTrue(prev and prev.startswith(SVC.base + USERS), prev)
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(prev).query)
        self.assertEqual(q.get("limit"), ["2"])
        self.assertIn(q.get("offset"), (None, ["0"]))
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(r.json["next"]).query)
        self.assertEqual(q.get("offset"), ["4"])
        # Past the end: empty page, previous still there.
        r = anon().get(USERS + "?limit=5&offset=100000")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["results"], [])
        self.assertIsNone(r.json["next"])

    def test_bounds(self):
        for qs in ("limit=0", "limit=101", "limit=-1", "offset=-1", "limit=abc", "offset=abc",
                   "limit=", "limit=1.5", "limit=99999999999999999999"):
            with self.subTest(qs=qs):
                self.assertProblem(anon().get(USERS + "?" + qs), 400)
        for qs in ("limit=1", "limit=100", "offset=0"):
            with self.subTest(qs=qs):
                self.assertEqual(anon().get(USERS + "?" + qs).status, 200)

    def test_ids_batch(self):
        a, b = self.users[0], self.users[1]
        r = anon().get("%s?ids=%s,%s,%s&limit=1" % (USERS, a.id, NO_SUCH_ID, b.id))
        self.assertEqual(r.status, 200, r)
        self.assertEqual({u["id"] for u in r.json["results"]}, {a.id, b.id})
        self.assertEqual(r.json["count"], 2)
        for u in r.json["results"]:
            self.assertEqual(set(u), PUBLIC_KEYS)
        for bad in ("nothex", a.id + ",xyz", a.id[:-1], a.id + "0", ",".join([a.id] * 101)):
            with self.subTest(ids=bad[:40]):
                self.assertProblem(anon().get(USERS + "?ids=" + bad), 400)
        r = anon().get(USERS + "?ids=" + NO_SUCH_ID)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["results"], [])

    def test_username_filter(self):
        a = self.users[0]
        r = anon().get(USERS + "?username=" + a.username.upper())
        self.assertEqual(r.status, 200, r)
        self.assertEqual([u["id"] for u in r.json["results"]], [a.id])
        self.assertEqual(r.json["count"], 1)
        r = anon().get(USERS + "?username=" + unique("nobody"))
        self.assertEqual((r.json["count"], r.json["results"]), (0, []))

    def test_admin_sees_private(self):
        r = admin().api().get(USERS + "?limit=100")
        self.assertEqual(r.status, 200, r)
        for u in r.json["results"]:
            self.assertEqual(set(u), PRIVATE_KEYS)
        r = shared("alice").api().get(USERS + "?limit=100")
        for u in r.json["results"]:
            self.assertEqual(set(u), PUBLIC_KEYS, "a user sees only public profiles in lists")


class TestGetUser(ServiceTestCase):

    def test_views(self):
        a, b = shared("alice"), shared("bob")
        path = USERS + "/" + a.id
        r = anon().get(path)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), PUBLIC_KEYS)
        self.assertEqual(r.json["username"], a.username)
        self.assertNotIn(a.email, r.text)
        r = b.api().get(path)
        self.assertEqual(set(r.json), PUBLIC_KEYS, "another user sees the public view")
        r = a.api().get(path)
        self.assertEqual(set(r.json), PRIVATE_KEYS, "self sees email")
        self.assertEqual(r.json["email"], a.email)
        r = admin().api().get(path)
        self.assertEqual(set(r.json), PRIVATE_KEYS, "admin sees email")

    def test_not_found(self):
        for ident in (NO_SUCH_ID, "abc", "ZZZZZZZZZZZZZZZZZZZZZZZZ", shared("alice").username,
                      "%00", "0" * 25):
            with self.subTest(id=ident):
                self.assertProblem(anon().get(USERS + "/" + ident), 404)


# ================================================================ users: patch

class TestPatchUser(ServiceTestCase):

    def test_patch_self_name_and_email(self):
        u = signup(prefix="pat")
        path = USERS + "/" + u.id
        r = u.api().patch(path, {"name": "Zoë 🍕 Łukasz"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), PRIVATE_KEYS)
        self.assertEqual(r.json["name"], "Zoë 🍕 Łukasz")
        self.assertGreaterEqual(r.json["updated_at"], u.body["updated_at"])
        self.assertEqual(r.json["created_at"], u.body["created_at"])
        self.assertEqual(anon().get(path).json["name"], "Zoë 🍕 Łukasz")
        new_email = unique("mail") + "@Example.test"
        r = u.api().patch(path, {"email": new_email})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["email"], new_email)
        self.assertEqual(u.api().get(ME).json["email"], new_email)
        # Empty patch: unchanged.
        before = u.api().get(ME).json
        r = u.api().patch(path, {})
        self.assertEqual(r.status, 200, r)
        self.assertEqual({k: r.json[k] for k in ("name", "email", "username")},
                         {k: before[k] for k in ("name", "email", "username")})

    def test_patch_validation(self):
        u = shared("frank")
        other = shared("alice")
        path = USERS + "/" + u.id
        cases = [({"email": "nope"}, 400, "email"), ({"name": "n" * 101}, 400, "name"),
                 ({"name": 5}, 400, "name"), ({"role": "admin"}, 400, "role"),
                 ({"username": "renamed"}, 400, "username"),
                 ({"email": other.email.upper()}, 409, "email")]
        for body, status, field in cases:
            with self.subTest(body=body):
                self.assertProblem(u.api().patch(path, body), status, field=field)
        self.assertEqual(u.api().get(ME).json["role"], "user")
        self.assertProblem(u.api().request("PATCH", path, body=b"{bad",
                                           content_type="application/json"), 400)
        self.assertProblem(u.api().patch(path, [1]), 400)
        self.assertProblem(u.api().request("PATCH", path, body=b"name=x",
                                           content_type="text/plain"), 415)

    def test_patch_password(self):
        u = signup(prefix="pwd")
        path = USERS + "/" + u.id
        old_refresh = u.client.cookie("tizza_refresh")
        new = new_password()
        r = u.api().patch(path, {"password": new})
        self.assertProblem(r, 400, field="current_password")
        r = u.api().patch(path, {"password": new, "current_password": "wrong-one-123"})
        self.assertProblem(r, 400, field="current_password")
        r = u.api().patch(path, {"password": "short", "current_password": u.password})
        self.assertProblem(r, 400, field="password")
        r = u.api().patch(path, {"password": new, "current_password": u.password})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(new, r.text)
        _, r = login(SVC, u.username, u.password)
        self.assertProblem(r, 401)
        _, r = login(SVC, u.username, new)
        self.assertEqual(r.status, 200, r)
        # A password change revokes the refresh tokens issued before it.
        self.assertProblem(Client(SVC).post(REFRESH, {"refresh_token": old_refresh}), 401)

    def test_versions_etags_and_preconditions(self):
        """A user answers a strong ETag; 304 to If-None-Match; a PATCH or DELETE with a stale
        If-Match is a 412 with the current ETag and changes nothing; of two PATCHes holding
        the same ETag exactly one wins."""
        u = signup(prefix="ver")
        path = USERS + "/" + u.id
        r = u.api().get(path)
        self.assertEqual(r.headers.get("ETag"), '"1"')
        self.assertEqual(u.api().get(path, headers={"If-None-Match": '"1"'}).status, 304)
        r = u.api().patch(path, {"name": "Two"}, headers={"If-Match": '"1"'})
        self.assertEqual((r.status, r.headers.get("ETag")), (200, '"2"'))
        r = u.api().patch(path, {"name": "Lost"}, headers={"If-Match": '"1"'})
        self.assertProblem(r, 412)
        self.assertEqual(r.headers.get("ETag"), '"2"')
        self.assertProblem(u.api().delete(path, headers={"If-Match": '"1"'}), 412)
        self.assertEqual(anon().get(path).json["name"], "Two")
        for rnd in range(6):
            etag = u.api().get(path).headers.get("ETag")
            names = iter(["A%d" % rnd, "B%d" % rnd])
            out = in_parallel(2, 2, lambda: u.api().patch(path, {"name": next(names)},
                                                            headers={"If-Match": etag}))
            with self.subTest(round=rnd):
                self.assertEqual(sorted(r.status for r in out), [200, 412])
                winner = [r for r in out if r.status == 200][0]
                self.assertEqual(anon().get(path).json["name"], winner.json["name"])
        etag = u.api().get(path).headers.get("ETag")
        self.assertEqual(u.api().delete(path, headers={"If-Match": etag}).status, 202)

    def test_patch_forbidden(self):
        a, b = shared("alice"), shared("bob")
        path = USERS + "/" + a.id
        self.assertProblem(b.api().patch(path, {"name": "hijacked"}), 403)
        self.assertProblem(anon().patch(path, {"name": "hijacked"}), 401)
        self.assertProblem(Client(SVC).patch(path, {"name": "x"}, token="garbage"), 401)
        self.assertNotEqual(anon().get(path).json["name"], "hijacked")
        # An unknown user is 404 before the permission check.
        self.assertProblem(b.api().patch(USERS + "/" + NO_SUCH_ID, {"name": "x"}), 404)

    def test_admin_patches_others(self):
        u = signup(prefix="adm")
        path = USERS + "/" + u.id
        r = admin().api().patch(path, {"name": "Set By Admin"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(anon().get(path).json["name"], "Set By Admin")
        new = new_password()
        r = admin().api().patch(path, {"password": new})
        self.assertEqual(r.status, 200, r)
        _, r = login(SVC, u.username, new)
        self.assertEqual(r.status, 200, r)
        self.assertProblem(admin().api().patch(USERS + "/" + NO_SUCH_ID, {"name": "x"}), 404)


# ================================================================ users: delete

class TestDeleteUser(ServiceTestCase):

    def check_erasure(self, body, user_id):
        """SPEC §5: {"user_id","requested_at","complete","services":{name:{"status","at"}}};
        no consumer runs here, so nothing is complete."""
        self.assertEqual(body["user_id"], user_id)
        self.assertIsoMs(body["requested_at"])
        self.assertIs(body["complete"], False)
        self.assertTrue({"pizza", "likes", "tweets"} <= set(body["services"]), body)
        for v in body["services"].values():
            self.assertIn("status", v)

    def test_delete_self(self):
        u = signup(prefix="del")
        path = USERS + "/" + u.id
        c, r = login(SVC, u.username, u.password)
        refresh = c.cookie("tizza_refresh")
        r = u.api().delete(path)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.content_type, "application/json")
        self.assertEqual(r.json["id"], u.id)
        self.assertEqual(r.json["status"], "erasing")
        self.assertEqual(r.json["erasure"], SVC.base + path + "/erasure")
        self.assertEqual(set(r.json), {"id", "status", "erasure", "receipt"})
        receipt = r.json["receipt"]
        self.assertRegex(receipt, "^" + re.escape(SVC.base) + "/api/v1/erasures/[A-Za-z0-9_-]{43}$")
        cleared = r.set_cookies()
        for name in ("tizza_access", "tizza_refresh"):
            self.assertIn(name, cleared, "deleting oneself clears the session cookies")
            self.assertEqual(cleared[name][0], "")
            self.assertEqual(cleared[name][1].get("max-age"), "0")
        # Gone at once.
        self.assertProblem(anon().get(path), 404)
        self.assertEqual(anon().get(USERS + "?ids=" + u.id).json["results"], [])
        self.assertEqual(anon().get(USERS + "?username=" + u.username).json["count"], 0)
        _, r = login(SVC, u.username, u.password)
        self.assertProblem(r, 401)
        self.assertEqual(r.json["detail"], "invalid username or password")
        self.assertProblem(u.api().get(ME), 401)
        self.assertProblem(u.api().patch(path, {"name": "ghost"}), 401)
        self.assertProblem(Client(SVC).post(REFRESH, {"refresh_token": refresh}), 401)
        self.assertProblem(u.api().delete(path), 401)
        # The erasure status: to the deleted user's last token and to admins.
        erasure = path + "/erasure"
        for who in (u.api(), admin().api()):
            r = who.get(erasure)
            self.assertEqual(r.status, 200, r)
            self.check_erasure(r.json, u.id)
        self.assertProblem(anon().get(erasure), 401)
        self.assertProblem(shared("bob").api().get(erasure), 403)
        # ... and to whoever holds the receipt, with no token and not cached.
        tail = receipt[len(SVC.base):]
        r = anon().get(tail)
        self.assertEqual(r.status, 200, r)
        self.check_erasure(r.json, u.id)
        self.assertEqual(r.headers.get("cache-control"), "no-store")
        # A receipt is not guessable: any other string is unknown (one character off, too
        # short, too long, not base64url, another deletion's).
        last = tail[-1]
        for other in (tail[:-1] + ("A" if last != "A" else "B"), tail[:-1], tail + "A",
                      tail[:-1] + "=", "/api/v1/erasures/" + u.id):
            with self.subTest(receipt=other):
                self.assertProblem(anon().get(other), 404)
        # The name and email are free again; the new account is another user.
        c = Client(SVC)
        r = c.post(SIGNUP, {"username": u.username, "email": u.email, "password": new_password()})
        remember_tokens(c)
        self.assertEqual(r.status, 201, r)
        self.assertNotEqual(r.json["id"], u.id)

    def test_delete_other_forbidden(self):
        a, b = shared("alice"), shared("bob")
        self.assertProblem(b.api().delete(USERS + "/" + a.id), 403)
        self.assertProblem(anon().delete(USERS + "/" + a.id), 401)
        self.assertEqual(anon().get(USERS + "/" + a.id).status, 200)
        self.assertProblem(b.api().delete(USERS + "/" + NO_SUCH_ID), 404)

    def test_admin_deletes_others(self):
        u = signup(prefix="victim")
        r = admin().api().delete(USERS + "/" + u.id)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json["status"], "erasing")
        r2 = anon().get(r.json["receipt"][len(SVC.base):])  # the admin's receipt works too
        self.assertEqual(r2.status, 200, r2)
        self.check_erasure(r2.json, u.id)
        self.assertProblem(anon().get(USERS + "/" + u.id), 404)
        self.assertProblem(u.api().get(ME), 401)
        r = admin().api().get(USERS + "/" + u.id + "/erasure")
        self.assertEqual(r.status, 200, r)
        self.check_erasure(r.json, u.id)
        self.assertProblem(admin().api().get(USERS + "/" + NO_SUCH_ID + "/erasure"), 404)
        self.assertProblem(admin().api().delete(USERS + "/" + NO_SUCH_ID), 404)
        self.assertProblem(admin().api().delete(USERS + "/nope"), 404)
        self.assertEqual(admin().api().get(ME).status, 200)


# ================================================================ create-superuser

class TestSuperuser(ServiceTestCase):

    def test_password_from_env(self):
        username, pw = unique("su_env"), new_password()
        p = SVC.cli(["create-superuser", "--username", username, "--email",
                     username + "@example.test"], env={"TIZZA_SUPERUSER_PASSWORD": pw})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertFalse(sanitizer_findings(p.stderr), p.stderr)
        self.assertNotIn(pw, p.stdout + p.stderr)
        m = re.search(r"\b[0-9a-f]{24}\b", p.stdout)
        self.assertTrue(m, "prints the user id: %r" % p.stdout)
        c, r = login(SVC, username, pw)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["user"]["id"], m.group(0))
        self.assertEqual(r.json["user"]["role"], "admin")
        self.assertEqual(jwt_decode(r.json["access_token"])[1]["role"], "admin")
        # The admin can delete somebody else.
        victim = signup(prefix="v")
        r = Client(SVC).delete(USERS + "/" + victim.id, token=r.json["access_token"])
        self.assertEqual(r.status, 202, r)

    def test_password_from_stdin(self):
        username, pw = unique("su_in"), new_password()
        p = SVC.cli(["create-superuser", "--username", username, "--email",
                     username + "@example.test"], input=pw + "\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertFalse(sanitizer_findings(p.stderr), p.stderr)
        self.assertNotIn(pw, p.stdout + p.stderr)
        _, r = login(SVC, username, pw)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["user"]["role"], "admin")

    def test_promotes_existing_user_idempotently(self):
        u = signup(prefix="promo")
        for attempt in range(2):
            with self.subTest(attempt=attempt):
                p = SVC.cli(["create-superuser", "--username", u.username.upper(), "--email",
                             "other-" + u.email], env={"TIZZA_SUPERUSER_PASSWORD": new_password()})
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertFalse(sanitizer_findings(p.stderr), p.stderr)
                self.assertIn(u.id, p.stdout)
        r = anon().get(USERS + "?username=" + u.username)
        self.assertEqual(r.json["count"], 1)
        _, r = login(SVC, u.username, u.password)  # the password is left as it was
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["user"]["role"], "admin")
        self.assertEqual(r.json["user"]["email"], u.email)

    def test_bad_invocations(self):
        username = unique("su_bad")
        cases = {
            "no username": (["create-superuser", "--email", "x@example.test"],
                            {"TIZZA_SUPERUSER_PASSWORD": new_password()}),
            "short password": (["create-superuser", "--username", username, "--email",
                                "x@example.test"], {"TIZZA_SUPERUSER_PASSWORD": "short"}),
            "bad username": (["create-superuser", "--username", "no spaces allowed", "--email",
                              "x@example.test"], {"TIZZA_SUPERUSER_PASSWORD": new_password()}),
        }
        for name, (args, env) in cases.items():
            with self.subTest(case=name):
                p = SVC.cli(args, env=env, input="")
                self.assertNotEqual(p.returncode, 0, p.stdout)
                self.assertTrue(p.stderr.strip(), "says why on stderr")
                self.assertFalse(sanitizer_findings(p.stderr), p.stderr)
        self.assertEqual(anon().get(USERS + "?username=" + username).json["count"], 0)


# ================================================================ command line

class TestCommandLine(ServiceTestCase):

    def test_help(self):
        p = run_cli(["--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        for word in ("serve", "migrate", "create-superuser", "--username", "--email",
                     "TIZZA_SUPERUSER_PASSWORD", "PORT", "HOST", "STORE_URL", "LOG_LEVEL",
                     "AUTH_SIGNING_KEY", "ACCESS_TTL", "REFRESH_TTL", "COOKIE_SECURE",
                     "RATE_LIMIT_LOGIN", "RATE_LIMIT_SIGNUP", "LOGIN_FAILURES_PER_USER",
                     "LOGIN_FAILURES_PER_USER_TOTAL", "REFRESH_GRACE_MS",
                     "HASH_CONCURRENCY", "LOGIN_UNKNOWN_QUEUE"):
            self.assertIn(word, p.stdout)
        self.assertFalse(sanitizer_findings(p.stderr), p.stderr)

    def test_version(self):
        p = run_cli(["--version"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), "tizza-auth 0.1.0")

    def test_unknown_subcommand(self):
        p = run_cli(["frobnicate"], timeout=15)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("frobnicate", p.stderr)

    def test_migrate_twice(self):
        store = new_store_url("migrate")
        for i in range(2):
            with self.subTest(run=i):
                p = run_cli(["migrate"], store_url=store)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertFalse(sanitizer_findings(p.stderr), p.stderr)
        svc = Service(store_url=store, tag="auth-migrated", args=["serve"]).start()
        try:
            self.assertEqual(Client(svc).get(USERS).json["count"], 0)
        finally:
            svc.stop_and_check(self)

    def test_bad_config_exits_2(self):
        port = str(free_port())  # if a bad value were accepted, it would serve here (and time out)
        cases = [
            ("PORT", {"PORT": "abc"}), ("PORT", {"PORT": "70000"}), ("PORT", {"PORT": "-1"}),
            ("LOG_LEVEL", {"LOG_LEVEL": "loud", "PORT": port}),
            ("ACCESS_TTL", {"ACCESS_TTL": "soon", "PORT": port}),
            ("ACCESS_TTL", {"ACCESS_TTL": "0", "PORT": port}),
            ("REFRESH_GRACE_MS", {"REFRESH_GRACE_MS": "-1", "PORT": port}),
            ("REFRESH_GRACE_MS", {"REFRESH_GRACE_MS": "60001", "PORT": port}),
            ("AUTH_SIGNING_KEY", {"AUTH_SIGNING_KEY": "not-a-key", "PORT": port}),
            ("COOKIE_SECURE", {"COOKIE_SECURE": "maybe", "PORT": port}),
            ("RATE_LIMIT_LOGIN", {"RATE_LIMIT_LOGIN": "fast", "PORT": port}),
            ("STORE_URL", {"STORE_URL": "ftp://example.test/x", "PORT": port}),
        ]
        for var, env in cases:
            with self.subTest(env=env):
                env = dict(env)
                store = env.pop("STORE_URL", new_store_url("badcfg"))
                try:
                    p = run_cli([], store_url=store, env=env, timeout=15)
                except Exception as e:  # noqa: BLE001 -- TimeoutExpired: it kept running
                    self.fail("did not exit on bad %s: %s" % (var, e))
                self.assertEqual(p.returncode, 2, p.stderr)
                lines = p.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, p.stderr)
                self.assertIn(var, lines[0])


# ================================================================ HTTP conventions

class TestHttpConventions(ServiceTestCase):

    def test_unknown_route(self):
        for method, path in (("GET", "/api/v1/nope"), ("GET", "/"), ("POST", "/api/v1/nope"),
                             ("GET", "/api/v1/users/" + NO_SUCH_ID + "/nope"),
                             ("GET", "/api/v1/auth")):
            with self.subTest(path=path, method=method):
                r = anon().request(method, path)
                self.assertProblem(r, 404)
                self.assertTrue(r.headers.get("X-Request-Id"))

    def test_method_not_allowed(self):
        cases = [("DELETE", LOGIN, {"POST"}), ("GET", LOGIN, {"POST"}),
                 ("PUT", USERS, {"GET", "POST"}), ("POST", ME, {"GET"}),
                 ("PUT", USERS + "/" + NO_SUCH_ID, {"GET", "PATCH", "DELETE"}),
                 ("POST", "/health", {"GET"})]
        for method, path, want in cases:
            with self.subTest(method=method, path=path):
                r = anon().request(method, path, json_body={})
                self.assertProblem(r, 405)
                allow = {m.strip() for m in (r.headers.get("Allow") or "").split(",")}
                self.assertTrue(want <= allow, allow)
                self.assertNotIn(method, allow)

    def test_unknown_method_is_not_html(self):
        r = anon().request("BREW", "/health")
        self.assertIn(r.status, (400, 405, 501), r)
        self.assertProblem(r, r.status)

    def test_body_too_large(self):
        big = {"username": "big", "email": "big@example.test", "password": "x" * 10,
               "name": "n" * 70 * 1024}
        r = anon().post(SIGNUP, big)
        self.assertProblem(r, 413)

    def test_unsupported_media_type(self):
        body = json.dumps({"username": "x", "password": "y"})
        for ctype in ("text/plain", "application/x-www-form-urlencoded", "application/jsonx"):
            with self.subTest(ctype=ctype):
                self.assertProblem(anon().request("POST", LOGIN, body=body, content_type=ctype),
                                   415)
        self.assertProblem(anon().request("POST", SIGNUP, body=body), 415)  # no Content-Type
        r = anon().request("POST", LOGIN, body=body,
                           content_type="application/json; charset=utf-8")
        self.assertProblem(r, 401)

    def test_options(self):
        cases = [(USERS, {"GET", "HEAD", "POST", "OPTIONS"}),
                 (USERS + "/" + NO_SUCH_ID, {"GET", "HEAD", "PATCH", "DELETE", "OPTIONS"}),
                 (LOGIN, {"POST", "OPTIONS"}), ("/health", {"GET", "HEAD", "OPTIONS"})]
        for path, want in cases:
            with self.subTest(path=path):
                r = anon().request("OPTIONS", path)
                self.assertIn(r.status, (200, 204), r)
                allow = {m.strip() for m in (r.headers.get("Allow") or "").split(",")}
                self.assertEqual(allow, want)
        self.assertProblem(anon().request("OPTIONS", "/api/v1/nope"), 404)

    def test_head(self):
        for path in ("/health", USERS, USERS + "/" + shared("alice").id, JWKS):
            with self.subTest(path=path):
                get = anon().get(path)
                head, body = raw_http(SVC.port, ("HEAD %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                 "Connection: close\r\n\r\n" % path).encode())
                status_line = head.split(b"\r\n")[0]
                self.assertIn(b" 200 ", status_line + b" ", head)
                self.assertEqual(body, b"", "HEAD answers without a body")
                m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                if m and int(m.group(1)) != 0:
                    self.assertEqual(int(m.group(1)), len(get.raw))
        head, body = raw_http(SVC.port, b"HEAD /api/v1/nope HTTP/1.1\r\nHost: x\r\n"
                                        b"Connection: close\r\n\r\n")
        self.assertIn(b" 404", head.split(b"\r\n")[0])
        self.assertEqual(body, b"")

    def test_request_id(self):
        r = anon().get("/health", headers={"X-Request-Id": "it-req-123.abc_X"})
        self.assertEqual(r.headers.get("X-Request-Id"), "it-req-123.abc_X")
        r = anon().get("/api/v1/nope", headers={"X-Request-Id": "it-404"})
        self.assertEqual(r.headers.get("X-Request-Id"), "it-404")
        a = anon().get("/health").headers.get("X-Request-Id")
        b = anon().get("/health").headers.get("X-Request-Id")
        self.assertTrue(a and b and a != b, (a, b))
        for bad in ("x" * 200, "has space", "<script>"):
            with self.subTest(bad=bad):
                got = anon().get("/health", headers={"X-Request-Id": bad}).headers.get(
                    "X-Request-Id")
                self.assertTrue(got)
                self.assertNotEqual(got, bad)

    def test_cors(self):
        pre = {"Origin": CORS_ORIGIN, "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "content-type"}
        r = anon().request("OPTIONS", LOGIN, headers=pre)
        self.assertIn(r.status, (200, 204), r)
        self.assertEqual(r.headers.get("Access-Control-Allow-Origin"), CORS_ORIGIN)
        self.assertIn("POST", r.headers.get("Access-Control-Allow-Methods", ""))
        self.assertIn("content-type", r.headers.get("Access-Control-Allow-Headers", "").lower())
        r = anon().get("/health", headers={"Origin": CORS_ORIGIN})
        self.assertEqual(r.headers.get("Access-Control-Allow-Origin"), CORS_ORIGIN)
        self.assertEqual(r.headers.get("Access-Control-Allow-Credentials"), "true")
        r = anon().request("OPTIONS", LOGIN, headers=dict(pre, Origin="http://evil.test"))
        self.assertIsNone(r.headers.get("Access-Control-Allow-Origin"))
        r = anon().get("/health", headers={"Origin": "http://evil.test"})
        self.assertIsNone(r.headers.get("Access-Control-Allow-Origin"))

    def test_no_store_on_credentials(self):
        u = shared("alice")
        for r in (u.api().get(ME), anon().get(USERS + "/" + u.id)):
            self.assertEqual(r.headers.get("Cache-Control"), "no-store")
            self.assertEqual(r.headers.get("X-Content-Type-Options"), "nosniff")

    def test_health_ready(self):
        r = anon().get("/health")
        self.assertEqual((r.status, r.json), (200, {"status": "ok"}))
        r = anon().get("/ready")
        self.assertEqual(r.status, 200, r)

    def test_metrics(self):
        u = shared("alice")
        anon().get(USERS + "/" + u.id)
        anon().get(USERS + "/" + NO_SUCH_ID)
        r = anon().get("/metrics")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.content_type.startswith("text/plain"), r.content_type)
        text = r.text
        pat = (r'(?m)^tizza_http_requests_total\{[^}]*route="/api/v1/users/\{id\}"[^}]*'
               r'status="200"[^}]*\} [0-9.e+]+$')
        self.assertRegex(text, pat)
        self.assertRegex(text, r'(?m)^tizza_http_requests_total\{[^}]*route="/api/v1/users/'
                               r'\{id\}"[^}]*status="404"')
        self.assertNotIn(u.id, text, "route labels are patterns, not raw paths")
        self.assertRegex(text, r'(?m)^tizza_http_request_duration_seconds_bucket\{')
        self.assertRegex(text, r'(?m)^# TYPE tizza_http_requests_total counter$')

    def test_info(self):
        r = anon().get("/info")
        self.assertEqual(r.status, 200, r)
        info = r.json
        self.assertEqual(info.get("name"), "auth")
        self.assertEqual(info.get("version"), "0.1.0")
        self.assertIsInstance(info.get("buildtime"), str)
        self.assertEqual(info.get("instance"), socket.gethostname())  # which replica answered
        rows = info.get("api_version")
        self.assertIsInstance(rows, list, info)
        self.assertGreaterEqual(len(rows), 1)
        for row in rows:  # Cloud Native Python `apirelease` rows
            self.assertTrue({"version", "buildtime", "links", "methods"} <= set(row), row)
        self.assertIn("v1", [row["version"] for row in rows])

    def test_openapi_served(self):
        r = anon().get("/openapi.yaml")
        self.assertEqual(r.status, 200, r)
        self.assertIn("yaml", r.content_type)
        self.assertIn("openapi:", r.text)


# ================================================================ readiness

class TestReadiness(ServiceTestCase):

    def test_ready_names_the_broker_when_it_is_down(self):
        dead = "amqp://guest:guest@127.0.0.1:%d/%%2f" % free_port()
        svc = Service(tag="auth-nobroker", env={"AMQP_URL": dead}).start(wait="/health")
        try:
            r = Client(svc).get("/ready")
            body = self.assertProblem(r, 503)
            self.assertIn("broker", body.get("failing", ""), body)
            self.assertEqual(Client(svc).get("/health").status, 200)
            # What does not need the broker still works.
            u = signup(svc, prefix="nb")
            self.assertEqual(u.api().get(ME).status, 200)
        finally:
            svc.stop_and_check(self)


# ================================================================ restart and shutdown

class TestRestart(ServiceTestCase):
    """Signing key and sessions survive a restart on the same store; SIGTERM lets an
    in-flight request finish and exits 0."""

    def test_restart_keeps_key_and_sessions(self):
        store = new_store_url("restart")
        svc = Service(store_url=store, tag="auth-restart").start()
        try:
            u = signup(svc, prefix="rs")
            jwks1 = Client(svc).get(JWKS).json
        finally:
            svc.stop_and_check(self)
        svc2 = Service(store_url=store, tag="auth-restart2", args=["serve"]).start()
        try:
            self.assertEqual(Client(svc2).get(JWKS).json, jwks1)
            me = Client(svc2).get(ME, token=u.token)
            self.assertEqual(me.status, 200, me)
            self.assertEqual(me.json["id"], u.id)
            c = Client(svc2)
            c.jar = dict(u.client.jar)
            r = c.post(REFRESH)
            remember_tokens(c, r.json)
            self.assertEqual(r.status, 200, r)
            _, r = login(svc2, u.username, u.password)
            self.assertEqual(r.status, 200, r)
        finally:
            svc2.stop_and_check(self)

    def test_sigterm_finishes_inflight_request(self):
        svc = Service(tag="auth-drain").start()
        result = {}
        name = unique("inflight")

        def slow():  # a signup takes ~0.1 s (argon2id): still running at SIGTERM
            try:
                result["r"] = Client(svc).post(SIGNUP, {"username": name,
                                                        "email": name + "@example.test",
                                                        "password": new_password()})
            except Exception as e:  # noqa: BLE001 -- reported below
                result["e"] = e
        t = threading.Thread(target=slow)
        try:
            t.start()
            time.sleep(0.04)
        finally:
            svc.stop_and_check(self)
            t.join(30)
        self.assertNotIn("e", result, "the in-flight request got no answer")
        self.assertEqual(result["r"].status, 201, result["r"])
        # It was committed: visible after a restart on the same store.
        svc.start()
        try:
            self.assertEqual(Client(svc).get(USERS + "?username=" + name).json["count"], 1)
        finally:
            svc.stop_and_check(self)


if __name__ == "__main__":
    unittest.main()
