"""Integration tests of secrets at rest and of token lifetimes, on the real binaries.

TestStoreFiles (SQLite): the store's files -- the database and the -wal and -shm files
SQLite adds next to it -- are 0600 whatever the umask the binary was started with, and a
database left group/world-readable by an older version is made 0600 at start.

TestSigningKeyAtRest (SQLite: it reads auth's database file): auth keeps its generated
signing key in the store only encrypted with AUTH_KEY_ENCRYPTION_KEY. Nothing read from the
store signs a token auth accepts, a clear seed left by an older version is encrypted at the
first start with a key (and gone from the file afterwards), and a missing, malformed or wrong
key stops auth at start with one config line and exit status 2.

TestTokenLifetime (either backend): a token whose lifetime (exp - iat) exceeds ACCESS_TTL, or
that has no iat, is refused by auth, pizza, likes and tweets alike, even though correctly
signed (the test signs with the AUTH_SIGNING_KEY it gave auth); the verifiers learn the
maximum from their own ACCESS_TTL.
"""
import base64
import json
import os
import sqlite3
import stat
import time
import unittest

import harness
from constellation import Constellation
from harness import (Client, Service, ServiceTestCase, b64url_decode, b64url_encode,
                     ed25519_public, jwt_sign, kid_of, new_store_url, run_cli, started)

ME = "/api/v1/auth/me"
JWKS = "/api/v1/auth/jwks"
SIGNUP = "/api/v1/auth/signup"
KEK_VAR = "AUTH_KEY_ENCRYPTION_KEY"
YEAR_9999 = 253402300799  # 9999-12-31T23:59:59Z


def new_kek():
    return b64url_encode(os.urandom(32))


def sqlite_path(store_url):
    return store_url[len("sqlite://"):]


def file_bytes(path):
    """The database file and its -wal/-shm files, concatenated (missing ones are empty)."""
    data = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            with open(path + suffix, "rb") as f:
                data += f.read()
        except FileNotFoundError:
            pass
    return data


def encodings(seed):
    """The forms a 32-byte seed could be written in."""
    return {"raw": seed,
            "base64url": b64url_encode(seed).encode(),
            "base64": base64.b64encode(seed),
            "base64 unpadded": base64.b64encode(seed).rstrip(b"="),
            "hex": seed.hex().encode()}


def key_docs(path):
    """The documents of auth's "keys" collection, read straight from the SQLite file."""
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        try:
            rows = db.execute('SELECT doc FROM "keys"').fetchall()
        except sqlite3.OperationalError:  # no such table
            return []
        return [json.loads(r[0]) for r in rows]
    finally:
        db.close()


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings_in(v)


def seed_candidates(docs):
    """Every 32 bytes some string of the documents decodes to (base64url, base64, hex), and
    every 32-byte run inside a longer decoded value: what someone reading the store would
    try as a signing seed."""
    out = set()
    for s in (x for d in docs for x in strings_in(d)):
        for decode in (b64url_decode,
                       lambda t: base64.b64decode(t + "=" * (-len(t) % 4), validate=True),
                       bytes.fromhex):
            try:
                raw = decode(s)
            except (ValueError, TypeError):
                continue
            out.update(raw[i:i + 32] for i in range(len(raw) - 31))
    return out


def published_key(svc):
    keys = Client(svc).get(JWKS).json["keys"]
    assert len(keys) == 1, keys
    return b64url_decode(keys[0]["x"])


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


# ================================================================ the signing key

@unittest.skipUnless(harness.BACKEND == "sqlite", "reads auth's SQLite file")
class TestSigningKeyAtRest(ServiceTestCase):

    def start(self, url, tag, **env):
        return Service(store_url=url, env=env, tag=tag).start()

    def signup(self, svc):
        username = harness.unique("key")
        r = Client(svc).post(SIGNUP, {"username": username,
                                      "email": username + "@example.test",
                                      "password": "pw-" + os.urandom(6).hex()})
        self.assertEqual(r.status, 201, r)
        return r.json["id"], username

    def assertConfigExit(self, url, env, var=KEK_VAR):
        p = run_cli([], store_url=url, env=dict(env, PORT=str(harness.free_port())), timeout=20)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertTrue(lines[0].startswith("tizza-auth: config: %s: " % var), lines[0])
        self.assertFalse(harness.sanitizer_findings(p.stderr), p.stderr)
        return lines[0]

    def assertNoSeedIn(self, path, seed):
        data = file_bytes(path)
        self.assertGreater(len(data), 0)
        for form, text in encodings(seed).items():
            self.assertNotIn(text, data, "the seed (%s) is in %s" % (form, path))

    def test_generated_key_is_stored_encrypted(self):
        url = new_store_url("secrets-gen")
        path = sqlite_path(url)
        kek = new_kek()
        svc = self.start(url, "secrets-gen", **{KEK_VAR: kek})
        try:
            user_id, username = self.signup(svc)
            pk = published_key(svc)
            docs = key_docs(path)
            self.assertEqual([d.get("id") for d in docs], ["signing"], docs)
            self.assertNotIn("seed", docs[0], "the seed is stored in clear")
            # Whatever someone who reads the store tries as the seed signs no token that
            # auth accepts.
            candidates = seed_candidates(docs)
            self.assertTrue(candidates, "nothing that decodes to 32 bytes or more: %r" % docs)
            now = int(time.time())
            for seed in candidates:
                self.assertNotEqual(ed25519_public(seed), pk, "the store holds the seed")
                tok = mint(seed, user_id, username, now, now + 300)
                self.assertProblem(Client(svc).get(ME, token=tok), 401)
            # The key is kept: a restart with the same key-encryption key publishes it again.
            svc.stop_and_check(self)
            svc.start()
            self.assertEqual(published_key(svc), pk)
        finally:
            svc.stop_and_check(self)
        self.assertNotIn("seed", key_docs(path)[0])

    def test_clear_seed_of_an_older_version_is_encrypted(self):
        url = new_store_url("secrets-migrate")
        path = sqlite_path(url)
        p = run_cli(["migrate"], store_url=url)
        self.assertEqual(p.returncode, 0, p.stderr)
        # What an older tizza-auth kept: the seed in clear.
        seed = os.urandom(32)
        db = sqlite3.connect(path)
        db.execute('INSERT INTO "keys"(id, doc) VALUES (?, ?)', ("signing", json.dumps(
            {"id": "signing", "seed": b64url_encode(seed),
             "created_at": "2024-01-01T00:00:00.000Z"})))
        db.commit()
        db.close()
        svc = self.start(url, "secrets-migrate", **{KEK_VAR: new_kek()})
        try:
            # The same key goes on signing: tokens issued before the upgrade stay valid.
            self.assertEqual(published_key(svc), ed25519_public(seed))
            user_id, username = self.signup(svc)
            now = int(time.time())
            r = Client(svc).get(ME, token=mint(seed, user_id, username, now, now + 300))
            self.assertEqual(r.status, 200, r)
        finally:
            svc.stop_and_check(self)
        docs = key_docs(path)
        self.assertEqual(len(docs), 1, docs)
        self.assertNotIn("seed", docs[0])
        self.assertFalse(seed_candidates(docs) & {seed})
        self.assertNoSeedIn(path, seed)

    def test_key_encryption_key_required_for_a_stored_key(self):
        url = new_store_url("secrets-nokek")
        line = self.assertConfigExit(url, {KEK_VAR: None, "AUTH_SIGNING_KEY": None})
        self.assertIn("AUTH_SIGNING_KEY", line, "the line names the alternative")
        self.assertEqual(key_docs(sqlite_path(url)), [], "nothing stored")

    def test_malformed_key_encryption_key(self):
        for bad in ("CHANGE_ME", b64url_encode(os.urandom(16)), b64url_encode(bytes(32))):
            with self.subTest(value=bad):
                self.assertConfigExit(new_store_url("secrets-badkek"), {KEK_VAR: bad})

    def test_wrong_or_altered_key_refused(self):
        url = new_store_url("secrets-wrong")
        path = sqlite_path(url)
        kek = new_kek()
        svc = self.start(url, "secrets-wrong", **{KEK_VAR: kek})
        pk = published_key(svc)
        svc.stop_and_check(self)
        before = key_docs(path)
        self.assertConfigExit(url, {KEK_VAR: new_kek()})
        self.assertEqual(key_docs(path), before, "a refused start changes nothing")
        # One character of the stored document changed: refused as well.
        doc = dict(before[0])
        name = next(k for k, v in doc.items() if k not in ("id", "created_at", "kid") and
                    isinstance(v, str) and len(v) > 40)
        v = doc[name]
        doc[name] = v[:20] + ("A" if v[20] != "A" else "B") + v[21:]
        db = sqlite3.connect(path)
        db.execute('UPDATE "keys" SET doc = ? WHERE id = ?', (json.dumps(doc), "signing"))
        db.commit()
        db.close()
        self.assertConfigExit(url, {KEK_VAR: kek})
        # The right key on the intact document still works.
        db = sqlite3.connect(path)
        db.execute('UPDATE "keys" SET doc = ? WHERE id = ?', (json.dumps(before[0]), "signing"))
        db.commit()
        db.close()
        svc = self.start(url, "secrets-right", **{KEK_VAR: kek})
        try:
            self.assertEqual(published_key(svc), pk)
        finally:
            svc.stop_and_check(self)

    def test_signing_key_from_the_environment_is_not_stored(self):
        url = new_store_url("secrets-env")
        seed = os.urandom(32)
        svc = self.start(url, "secrets-env", AUTH_SIGNING_KEY=b64url_encode(seed),
                         **{KEK_VAR: None})
        try:
            self.assertEqual(published_key(svc), ed25519_public(seed))
            self.signup(svc)
        finally:
            svc.stop_and_check(self)
        self.assertEqual(key_docs(sqlite_path(url)), [])
        self.assertNoSeedIn(sqlite_path(url), seed)


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
