"""Integration tests of the tweets API (SPEC §5 tweets, §3 conventions) over the real
tizza-tweets and tizza-auth binaries and a real RabbitMQ node (cluster.py).

One cluster serves the module: auth runs with a signing key the test knows
(AUTH_SIGNING_KEY), so it can forge correctly signed tokens with wrong claims (expired) and
check that a forged token with right claims is accepted (which makes the expired-token test
meaningful). An admin is created with `tizza-auth create-superuser` before auth starts.
Tests that depend on what the list contains use a fresh author and ?tweetedby=.
When the module ends both services get SIGTERM: exit 0 and no sanitizer report.
"""
import base64
import json
import os
import re
import time
import unittest
import urllib.parse

from cluster import NO_SUCH_ID, Cluster, sqlite_only, unique
from harness import ed25519_public, jwt_build, jwt_sign, kid_of, started

sqlite_only()

TWEETS = "/api/v2/tweets"
SEED = os.urandom(32)
OTHER_SEED = os.urandom(32)
ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
TWEET_KEYS = {"id", "user_id", "tweetedby", "body", "timestamp"}

C = None


def setUpModule():
    global C
    key = base64.urlsafe_b64encode(SEED).rstrip(b"=").decode()
    C = started(Cluster(auth_env={"AUTH_SIGNING_KEY": key}))


def tearDownModule():
    if C is not None:
        C.teardown()


def forge(user, seed=SEED, exp_in=600, iat_in=0, role="user", alg="EdDSA"):
    now = int(time.time())
    claims = {"sub": user.id, "username": user.username, "role": role, "iat": now + iat_in,
              "exp": now + exp_in, "jti": os.urandom(8).hex()}
    header = {"alg": alg, "typ": "JWT", "kid": kid_of(ed25519_public(SEED))}
    return jwt_sign(seed, header, claims)


class TweetsTestCase(unittest.TestCase):
    maxDiff = 4000

    def post(self, body=None, token=None, **kw):
        return C.tweets.req("POST", TWEETS, body, token=token, **kw)

    def get(self, path, **kw):
        return C.tweets.req("GET", path, **kw)

    def assertProblem(self, r, status, field=None):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.content_type, "application/problem+json", r)
        self.assertIsInstance(r.json, dict, r)
        for k in ("type", "title", "detail"):
            self.assertIsInstance(r.json.get(k), str, r)
        self.assertEqual(r.json.get("status"), status, r)
        if field is not None:
            fields = [e.get("field") for e in r.json.get("errors") or []]
            self.assertIn(field, fields, r)
        return r.json

    def assertTweet(self, t, user=None, body=None):
        self.assertIsInstance(t, dict)
        self.assertEqual(set(t), TWEET_KEYS, t)
        self.assertRegex(t["id"], OBJECT_ID)
        self.assertRegex(t["timestamp"], ISO_MS_Z)
        if user is not None:
            self.assertEqual(t["user_id"], user.id, t)
            self.assertEqual(t["tweetedby"], user.username, t)
        if body is not None:
            self.assertEqual(t["body"], body, t)


class TestList(TweetsTestCase):
    @classmethod
    def setUpClass(cls):
        cls.author = C.signup(unique("lister"))
        cls.bodies = ["tweet number %d" % i for i in range(7)]
        cls.created = [C.tweet(cls.author, b) for b in cls.bodies]

    def page(self, query):
        r = self.get(TWEETS + "?" + query)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.content_type, "application/json", r)
        self.assertEqual(set(r.json), {"count", "next", "previous", "results"}, r)
        return r.json

    def test_newest_first_with_pagination(self):
        name = urllib.parse.quote(self.author.username)
        base = "http://127.0.0.1:%d%s" % (C.tweets.port, TWEETS)
        p1 = self.page("tweetedby=%s&limit=3" % name)
        self.assertEqual(p1["count"], 7)
        self.assertEqual([t["body"] for t in p1["results"]], self.bodies[::-1][:3])
        self.assertIsNone(p1["previous"])
        self.assertIsInstance(p1["next"], str)
        nxt = urllib.parse.urlsplit(p1["next"])
        self.assertEqual("%s://%s%s" % (nxt.scheme, nxt.netloc, nxt.path), base, p1["next"])
        q = urllib.parse.parse_qs(nxt.query)
        self.assertEqual(q, {"tweetedby": [self.author.username], "limit": ["3"],
                             "offset": ["3"]}, p1["next"])

        seen = list(p1["results"])
        url, pages = p1["next"], [p1]
        while url:
            u = urllib.parse.urlsplit(url)
            p = self.page(u.query)
            self.assertIsNotNone(p["previous"], p)
            pages.append(p)
            seen.extend(p["results"])
            url = p["next"]
        self.assertEqual(len(pages), 3)
        self.assertEqual([len(p["results"]) for p in pages], [3, 3, 1])
        self.assertEqual([t["id"] for t in seen], [t["id"] for t in self.created[::-1]])
        prev = urllib.parse.parse_qs(urllib.parse.urlsplit(pages[2]["previous"]).query)
        self.assertEqual(prev.get("offset"), ["3"], pages[2]["previous"])
        for t in seen:
            self.assertTweet(t, self.author)
        stamps = [t["timestamp"] for t in seen]
        self.assertEqual(stamps, sorted(stamps, reverse=True))

    def test_default_page_size_is_5(self):
        p = self.page("tweetedby=" + urllib.parse.quote(self.author.username))
        self.assertEqual(p["count"], 7)
        self.assertEqual(len(p["results"]), 5)
        self.assertIn("offset=5", p["next"])

    def test_offset_past_the_end(self):
        p = self.page("tweetedby=%s&offset=50" % urllib.parse.quote(self.author.username))
        self.assertEqual(p["count"], 7)
        self.assertEqual(p["results"], [])
        self.assertIsNone(p["next"])

    def test_unfiltered_list_starts_with_the_newest_tweet(self):
        someone = C.signup(unique("newest"))
        t = C.tweet(someone, "the newest of all")
        p = self.page("limit=1")
        self.assertGreaterEqual(p["count"], 8)
        self.assertEqual(p["results"][0]["id"], t["id"], p)
        self.assertIsNotNone(p["next"])

    def test_bad_limit_and_offset(self):
        for q, field in (("limit=0", "limit"), ("limit=101", "limit"), ("limit=abc", "limit"),
                         ("limit=-1", "limit"), ("limit=", "limit"), ("limit=1.5", "limit"),
                         ("offset=-1", "offset"), ("offset=x", "offset"),
                         ("offset=1e3", "offset")):
            with self.subTest(q=q):
                self.assertProblem(self.get(TWEETS + "?" + q), 400, field)

    def test_limit_100_is_allowed(self):
        self.assertEqual(self.get(TWEETS + "?limit=100").status, 200)

    def test_tweetedby_is_case_insensitive(self):
        author = C.signup("MiXeD_" + os.urandom(3).hex())
        C.tweet(author, "one")
        C.tweet(author, "two")
        for name in (author.username, author.username.lower(), author.username.upper()):
            with self.subTest(name=name):
                p = self.page("tweetedby=" + urllib.parse.quote(name))
                self.assertEqual(p["count"], 2, p)
                self.assertEqual([t["body"] for t in p["results"]], ["two", "one"])
                for t in p["results"]:
                    self.assertEqual(t["tweetedby"], author.username)
        p = self.page("tweetedby=" + urllib.parse.quote(unique("nobody")))
        self.assertEqual((p["count"], p["results"], p["next"]), (0, [], None))


class TestGet(TweetsTestCase):
    def test_get_one(self):
        u = C.signup(unique("getter"))
        t = C.tweet(u, "fetch me")
        r = self.get(TWEETS + "/" + t["id"])
        self.assertEqual(r.status, 200, r)
        self.assertTweet(r.json, u, "fetch me")
        self.assertEqual(r.json, t)

    def test_unknown_or_invalid_id_is_404(self):
        for tid in (NO_SUCH_ID, "xyz", "0123456789ABCDEF01234567", "0" * 25, "%20"):
            with self.subTest(id=tid):
                self.assertProblem(self.get(TWEETS + "/" + tid), 404)

    def test_unknown_route_is_404(self):
        self.assertProblem(self.get("/api/v2/tweetz"), 404)


class TestCreate(TweetsTestCase):
    @classmethod
    def setUpClass(cls):
        cls.user = C.signup(unique("writer"))

    def test_created_with_location_and_caller_as_author(self):
        r = self.post({"body": "hello world"}, token=self.user.token)
        self.assertEqual(r.status, 201, r)
        self.assertTweet(r.json, self.user, "hello world")
        loc = r.headers.get("Location")
        self.assertEqual(loc, "http://127.0.0.1:%d%s/%s" % (C.tweets.port, TWEETS, r.json["id"]))
        got = self.get(urllib.parse.urlsplit(loc).path)
        self.assertEqual(got.status, 200, got)
        self.assertEqual(got.json, r.json)

    def test_cookie_token_works_too(self):
        r = self.post({"body": "via cookie"}, headers={"Cookie": "tizza_access=" +
                                                               self.user.token})
        self.assertEqual(r.status, 201, r)
        self.assertTweet(r.json, self.user, "via cookie")

    def test_needs_a_valid_token(self):
        other = forge(self.user, seed=OTHER_SEED)
        h, p, s = forge(self.user).split(".")
        tampered_claims = base64.urlsafe_b64encode(json.dumps(
            {"sub": NO_SUCH_ID, "username": "x", "role": "admin", "iat": int(time.time()),
             "exp": int(time.time()) + 600}).encode()).rstrip(b"=").decode()
        cases = {
            "none": None,
            "garbage": "garbage",
            "three garbage parts": "a.b.c",
            "expired": forge(self.user, exp_in=-60, iat_in=-1000),
            "issued in the future": forge(self.user, exp_in=7200, iat_in=3600),
            "signed with another key": other,
            "tampered claims": ".".join([h, tampered_claims, s]),
            "alg none": jwt_build({"alg": "none", "typ": "JWT"},
                                  {"sub": self.user.id, "username": self.user.username,
                                   "role": "user", "iat": int(time.time()),
                                   "exp": int(time.time()) + 600}),
        }
        before = C.tweets_of(self.user.username)
        for name, tok in cases.items():
            with self.subTest(token=name):
                r = self.post({"body": "should not be stored"}, token=tok)
                self.assertProblem(r, 401)
                self.assertIn("Bearer", r.headers.get("WWW-Authenticate") or "", r)
        garbage_cookie = self.post({"body": "nope"}, headers={"Cookie": "tizza_access=xyz"})
        self.assertProblem(garbage_cookie, 401)
        self.assertEqual(C.tweets_of(self.user.username), before)
        # The forging itself is right: the same construction with valid claims is accepted.
        ok = self.post({"body": "forged but valid"}, token=forge(self.user))
        self.assertEqual(ok.status, 201, ok)
        self.assertTweet(ok.json, self.user)

    def test_body_length_in_characters(self):
        ok = {
            "one char": "x",
            "280 ascii": "a" * 280,
            "280 emoji": "\U0001F355" * 280,
            "280 accented": "\u00e9" * 280,
            "280 cjk": "\u7c73" * 280,
            "mixed": "pizza \U0001F355 caf\u00e9 \u7c73",
        }
        for name, body in ok.items():
            with self.subTest(ok=name):
                r = self.post({"body": body}, token=self.user.token)
                self.assertEqual(r.status, 201, r)
                self.assertEqual(r.json["body"], body)
                self.assertEqual(self.get(TWEETS + "/" + r.json["id"]).json["body"], body)
        bad = {
            "empty": "",
            "281 ascii": "a" * 281,
            "281 emoji": "\U0001F355" * 281,
            "blank": "   ",
            "whitespace": " \t\r\n ",
        }
        for name, body in bad.items():
            with self.subTest(bad=name):
                self.assertProblem(self.post({"body": body}, token=self.user.token), 400,
                                   "body")

    def test_invalid_bodies(self):
        cases = [
            ({}, "body"),
            ({"body": 5}, "body"),
            ({"body": None}, "body"),
            ({"body": ["x"]}, "body"),
            ({"body": True}, "body"),
            ({"body": "x", "tweetedby": "someone_else"}, "tweetedby"),
            ({"body": "x", "user_id": NO_SUCH_ID}, "user_id"),
            ({"body": "x", "extra": 1}, "extra"),
        ]
        before = C.tweets_of(self.user.username)
        for body, field in cases:
            with self.subTest(body=body):
                self.assertProblem(self.post(body, token=self.user.token), 400, field)
        for raw in (b"[]", b'"just a string"', b"42", b"null", b"{", b'{"body":"x",}',
                    b'{"body":"\xff\xfe"}', b""):
            with self.subTest(raw=raw):
                r = self.post(token=self.user.token, raw=raw,
                              headers={"Content-Type": "application/json"})
                self.assertProblem(r, 400)
        self.assertEqual(C.tweets_of(self.user.username), before)

    def test_tweetedby_in_body_never_impersonates(self):
        victim = C.signup(unique("victim"))
        r = self.post({"body": "hi", "tweetedby": victim.username}, token=self.user.token)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(C.tweets_of(victim.username), 0)

    def test_415_413(self):
        r = self.post(token=self.user.token, raw=b'{"body":"x"}',
                      headers={"Content-Type": "text/plain"})
        self.assertProblem(r, 415)
        r = self.post(token=self.user.token, raw=b'{"body":"x"}')  # no Content-Type
        self.assertProblem(r, 415)
        big = json.dumps({"body": "x" * (70 * 1024)}).encode()
        r = self.post(token=self.user.token, raw=big,
                      headers={"Content-Type": "application/json"})
        self.assertProblem(r, 413)


class TestDelete(TweetsTestCase):
    @classmethod
    def setUpClass(cls):
        cls.author = C.signup(unique("author"))
        cls.other = C.signup(unique("other"))

    def delete(self, tid, token=None):
        return C.tweets.req("DELETE", TWEETS + "/" + tid, token=token)

    def test_author_deletes(self):
        t = C.tweet(self.author, "short-lived")
        r = self.delete(t["id"], self.author.token)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.raw, b"")
        self.assertProblem(self.get(TWEETS + "/" + t["id"]), 404)
        self.assertProblem(self.delete(t["id"], self.author.token), 404)

    def test_other_user_is_403(self):
        t = C.tweet(self.author, "mine")
        self.assertProblem(self.delete(t["id"], self.other.token), 403)
        self.assertEqual(self.get(TWEETS + "/" + t["id"]).status, 200)

    def test_no_or_bad_token_is_401(self):
        t = C.tweet(self.author, "still mine")
        self.assertProblem(self.delete(t["id"]), 401)
        self.assertProblem(self.delete(t["id"], "garbage"), 401)
        self.assertProblem(self.delete(t["id"], forge(self.author, exp_in=-10, iat_in=-100)),
                           401)
        self.assertEqual(self.get(TWEETS + "/" + t["id"]).status, 200)

    def test_admin_deletes_anyones_tweet(self):
        t = C.tweet(self.author, "moderated")
        r = self.delete(t["id"], C.admin.token)
        self.assertEqual(r.status, 204, r)
        self.assertProblem(self.get(TWEETS + "/" + t["id"]), 404)

    def test_forged_admin_role_needs_the_real_key(self):
        t = C.tweet(self.author, "guarded")
        fake_admin = forge(self.other, seed=OTHER_SEED, role="admin")
        self.assertProblem(self.delete(t["id"], fake_admin), 401)
        self.assertEqual(self.get(TWEETS + "/" + t["id"]).status, 200)

    def test_unknown_ids(self):
        for tid in (NO_SUCH_ID, "not-an-id"):
            with self.subTest(id=tid):
                self.assertProblem(self.delete(tid, self.author.token), 404)


class TestHttpBasics(TweetsTestCase):
    def test_405_with_allow(self):
        for method, path, allowed in (("PUT", TWEETS, {"GET", "POST"}),
                                      ("DELETE", TWEETS, {"GET", "POST"}),
                                      ("PATCH", TWEETS + "/" + NO_SUCH_ID, {"GET", "DELETE"}),
                                      ("POST", TWEETS + "/" + NO_SUCH_ID, {"GET", "DELETE"})):
            with self.subTest(method=method, path=path):
                r = C.tweets.req(method, path, {"body": "x"}, token=C.admin.token)
                self.assertProblem(r, 405)
                allow = {m.strip() for m in (r.headers.get("Allow") or "").split(",")}
                self.assertTrue(allowed <= allow, r.headers.get("Allow"))
                self.assertNotIn(method, allow)

    def test_head_and_options(self):
        u = C.signup(unique("header"))
        t = C.tweet(u, "head me")
        get = self.get(TWEETS + "/" + t["id"])
        head = C.tweets.req("HEAD", TWEETS + "/" + t["id"])
        self.assertEqual(head.status, 200, head)
        self.assertEqual(head.raw, b"")
        self.assertEqual(head.headers.get("Content-Type"), get.headers.get("Content-Type"))
        self.assertEqual(C.tweets.req("HEAD", TWEETS + "/" + NO_SUCH_ID).status, 404)
        for path, allowed in ((TWEETS, {"GET", "HEAD", "POST", "OPTIONS"}),
                              (TWEETS + "/" + t["id"], {"GET", "HEAD", "DELETE", "OPTIONS"})):
            with self.subTest(path=path):
                r = C.tweets.req("OPTIONS", path)
                self.assertIn(r.status, (200, 204), r)
                allow = {m.strip() for m in (r.headers.get("Allow") or "").split(",")}
                self.assertEqual(allow, allowed, r.headers.get("Allow"))

    def test_request_id(self):
        r = self.get(TWEETS, headers={"X-Request-Id": "test-req-42"})
        self.assertEqual(r.headers.get("X-Request-Id"), "test-req-42")
        a, b = self.get(TWEETS), self.get(TWEETS + "/" + NO_SUCH_ID)
        ida, idb = a.headers.get("X-Request-Id"), b.headers.get("X-Request-Id")
        self.assertTrue(ida and idb, (ida, idb))
        self.assertNotEqual(ida, idb)
        bad = self.get(TWEETS, headers={"X-Request-Id": "bad id with spaces"})
        self.assertNotEqual(bad.headers.get("X-Request-Id"), "bad id with spaces")
        self.assertTrue(bad.headers.get("X-Request-Id"))
        post = self.post({"body": ""}, token=C.admin.token, headers={"X-Request-Id": "p-1"})
        self.assertEqual(post.headers.get("X-Request-Id"), "p-1")

    def test_operational_routes(self):
        self.assertEqual(self.get("/health").json, {"status": "ok"})
        self.assertEqual(self.get("/ready").status, 200)
        self.assertIsNotNone(C.tweets.metric("tizza_outbox_backlog"))
        doc = self.get("/openapi.yaml")
        self.assertEqual(doc.status, 200)
        self.assertIn("/api/v2/tweets", doc.text)


if __name__ == "__main__":
    unittest.main()
