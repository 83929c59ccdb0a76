"""Integration tests of secrets at rest and of token lifetimes, on the real binaries.

TestStoreFiles (SQLite): the store's files -- the database and the -wal and -shm files
SQLite adds next to it -- are 0600 whatever the umask the binary was started with, and a
database left group/world-readable by an older version is made 0600 at start.

TestTokenLifetime (either backend): a token whose lifetime (exp - iat) exceeds ACCESS_TTL, or
that has no iat, is refused by auth, pizza, likes and tweets alike, even though correctly
signed (the test signs with the AUTH_SIGNING_KEY it gave auth); the verifiers learn the
maximum from their own ACCESS_TTL.
"""
import os
import stat
import time
import unittest

import harness
from constellation import Constellation
from harness import (Client, Service, ServiceTestCase, b64url_encode, ed25519_public, jwt_sign,
                     kid_of, new_store_url, run_cli, started)

ME = "/api/v1/auth/me"
SIGNUP = "/api/v1/auth/signup"
YEAR_9999 = 253402300799  # 9999-12-31T23:59:59Z


def sqlite_path(store_url):
    return store_url[len("sqlite://"):]


def claims_for(user_id, username, issued, expires, **over):
    c = {"sub": user_id, "username": username, "role": "user", "iat": issued, "exp": expires,
         "jti": b64url_encode(os.urandom(12))}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def mint(seed, user_id, username, issued, expires, **over):
    """A token signed with `seed`; `over` replaces claims (None removes one)."""
    header = {"alg": "EdDSA", "typ": "JWT", "kid": kid_of(ed25519_public(seed))}
    return jwt_sign(seed, header, claims_for(user_id, username, issued, expires, **over))


class UmaskedTestCase(ServiceTestCase):

    def with_umask(self, mask, fn):
        old = os.umask(mask)
        try:
            return fn()
        finally:
            os.umask(old)

    def assertMode0600(self, path, what):
        self.assertTrue(os.path.exists(path), "%s: %s does not exist" % (what, path))
        mode = stat.S_IMODE(os.stat(path).st_mode)
        self.assertEqual(mode, 0o600, "%s: %s is %o, want 600" % (what, path, mode))


# ================================================================ store files

@unittest.skipUnless(harness.BACKEND == "sqlite", "SQLite files only")
class TestStoreFiles(UmaskedTestCase):

    def test_service_files_are_0600_whatever_the_umask(self):
        for mask in (0o000, 0o022):
            with self.subTest(umask="%03o" % mask):
                svc = self.with_umask(mask, lambda: Service(
                    tag="secrets-umask-%03o" % mask).start())
                try:
                    r = Client(svc).post(SIGNUP, {"username": harness.unique("perm"),
                                                  "email": "p%d@example.test" % mask,
                                                  "password": "pw-" + os.urandom(6).hex()})
                    self.assertEqual(r.status, 201, r)
                    path = sqlite_path(svc.store_url)
                    # While the service runs, SQLite keeps the -wal and -shm files.
                    for suffix in ("", "-wal", "-shm"):
                        self.assertMode0600(path + suffix, "auth (umask %03o)" % mask)
                finally:
                    svc.stop_and_check(self)

    def test_cli_creates_a_0600_database(self):
        for name in ("auth", "pizza", "likes", "tweets"):
            with self.subTest(service=name):
                url = new_store_url("secrets-" + name)
                p = self.with_umask(0, lambda: run_cli(["migrate"], store_url=url, name=name))
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertMode0600(sqlite_path(url), "tizza-%s migrate" % name)

    def test_existing_files_are_made_0600(self):
        url = new_store_url("secrets-old")
        path = sqlite_path(url)
        p = run_cli(["migrate"], store_url=url)
        self.assertEqual(p.returncode, 0, p.stderr)
        for suffix in ("", "-wal", "-shm"):  # as an older version left them
            with open(path + suffix, "ab"):
                pass
            os.chmod(path + suffix, 0o644)
        svc = self.with_umask(0o022, lambda: Service(store_url=url, tag="secrets-old").start())
        try:
            for suffix in ("", "-wal", "-shm"):
                self.assertMode0600(path + suffix, "existing database")
        finally:
            svc.stop_and_check(self)


# ================================================================ token lifetime

class TestTokenLifetime(ServiceTestCase):
    """All four services; auth signs with a seed the test knows."""

    SEED = os.urandom(32)

    @classmethod
    def setUpClass(cls):
        cls.k = started(Constellation(
            env={"auth": {"AUTH_SIGNING_KEY": b64url_encode(cls.SEED)}}))
        cls.user = cls.k.signup("ttl")

    @classmethod
    def tearDownClass(cls):
        cls.k.teardown()

    def calls(self):
        """(service, an authenticated request answering 2xx for a good token)."""
        k = self.k
        return [
            ("auth", lambda tok: k.auth.get(ME, token=tok)),
            ("pizza", lambda tok: k.pizza.get("/api/v1/pizzas", token=tok)),
            ("likes", lambda tok: k.likes.get("/api/v1/likes", token=tok)),
            ("tweets", lambda tok: k.tweets.post("/api/v2/tweets", {"body": "ttl"}, token=tok)),
        ]

    def token(self, iat_in=0, lifetime=900, **over):
        now = int(time.time())
        return mint(self.SEED, self.user.id, self.user.username, now + iat_in,
                    now + iat_in + lifetime, **over)

    def test_issued_and_normal_tokens_accepted(self):
        for name, call in self.calls():
            for what, tok in (("issued by auth", self.user.token),
                              ("lifetime ACCESS_TTL", self.token()),
                              ("issued a while ago", self.token(iat_in=-600))):
                with self.subTest(service=name, token=what):
                    r = call(tok)
                    self.assertIn(r.status, (200, 201), r)

    def test_overlong_lifetimes_refused_everywhere(self):
        now = int(time.time())
        cases = {
            "exp in year 9999": mint(self.SEED, self.user.id, self.user.username, now,
                                     YEAR_9999),
            "lifetime a day": self.token(lifetime=86400),
            "lifetime ACCESS_TTL + 5 min": self.token(lifetime=900 + 300),
            "no iat": self.token(iat=None),
            "iat not a number": self.token(iat=str(now)),
            "no iat, exp in year 9999": mint(self.SEED, self.user.id, self.user.username,
                                             None, YEAR_9999),
        }
        for name, call in self.calls():
            for what, tok in cases.items():
                with self.subTest(service=name, token=what):
                    r = call(tok)
                    self.assertProblem(r, 401)
                    self.assertIn("Bearer", r.headers.get("WWW-Authenticate") or "", r)

    def test_verifiers_read_access_ttl(self):
        pizza = self.k.pizza
        pizza.stop()
        pizza.extra["ACCESS_TTL"] = "120"
        try:
            pizza.start()
            r = pizza.get("/api/v1/pizzas", token=self.token(lifetime=120))
            self.assertEqual(r.status, 200, r)
            self.assertProblem(pizza.get("/api/v1/pizzas", token=self.token(lifetime=900)), 401)
        finally:
            pizza.stop()
            del pizza.extra["ACCESS_TTL"]
            pizza.start()


if __name__ == "__main__":
    unittest.main()
