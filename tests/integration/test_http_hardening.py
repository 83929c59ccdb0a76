"""What the HTTP layer (libcommon/http.c, conn.c, wire.c) answers to requests crafted
against it: request-smuggling building blocks and malformed requests, CORS with a wildcard,
a forged Host header. One tizza-auth per class on SQLite; the store is not the point here.
"""
import json
import os
import unittest
import urllib.parse

from cluster import sqlite_only
from harness import Client, Service, unique
from hostile import PROBES, TAIL, assert_problem, exchange

sqlite_only()

USERS = "/api/v1/users"
SIGNUP = "/api/v1/auth/signup"
APP = "https://app.example"


def start(env):
    svc = Service("auth", env=env).start()
    c = Client(svc)
    for _ in range(2):  # so a page of one has a next link
        name = unique("h")
        r = c.post(SIGNUP, {"username": name, "email": name.lower() + "@example.test",
                            "password": "pw-" + os.urandom(9).hex()})
        assert r.status == 201, r
    return svc


class Framing(unittest.TestCase):
    """RFC 9112: each probe gets one problem+json answer with its status, the connection
    closes, and the request sent after it on the same connection is never answered."""

    @classmethod
    def setUpClass(cls):
        cls.svc = Service("auth").start()

    @classmethod
    def tearDownClass(cls):
        cls.svc.stop_and_check()

    def test_probes_refused_with_a_problem_and_closed(self):
        for name, (data, status) in PROBES.items():
            with self.subTest(probe=name):
                answers, closed = exchange(self.svc.port, data)
                self.assertEqual(len(answers), 1, "%s: %r" % (name, answers))
                assert_problem(self, answers[0], status)
                self.assertTrue(answers[0][1].get("x-request-id"))
                self.assertEqual(answers[0][1].get("connection"), "close")
                self.assertTrue(closed, name)

    def test_good_requests_still_pipeline(self):
        answers, _ = exchange(self.svc.port, TAIL + TAIL)
        self.assertEqual([a[0] for a in answers], [200, 200])

    def test_refusals_are_counted(self):
        exchange(self.svc.port, PROBES["obs-fold"][0])
        r = Client(self.svc).get("/metrics")
        self.assertRegex(r.text, r'tizza_http_connections_refused_total\{reason="bad_request"\} [1-9]')


class Cors(unittest.TestCase):
    """CORS_ORIGINS names one origin and has "*": the named one gets credentials, any other
    gets "*" without them, and "null" nothing (a wildcard never goes with credentials)."""

    @classmethod
    def setUpClass(cls):
        cls.svc = start({"CORS_ORIGINS": APP + ",*"})

    @classmethod
    def tearDownClass(cls):
        cls.svc.stop_and_check()

    def get(self, origin, method="GET", path="/health", **hdrs):
        h = dict(hdrs)
        if origin is not None:
            h["Origin"] = origin
        return Client(self.svc).request(method, path, headers=h, cookies=False)

    def test_named_origin_gets_credentials(self):
        r = self.get(APP)
        self.assertEqual(r.headers.get("Access-Control-Allow-Origin"), APP)
        self.assertEqual(r.headers.get("Access-Control-Allow-Credentials"), "true")
        self.assertIn("Origin", r.headers.get("Vary", ""))

    def test_wildcard_never_with_credentials(self):
        for origin in ("https://evil.example", "http://localhost:1234"):
            r = self.get(origin)
            self.assertEqual(r.headers.get("Access-Control-Allow-Origin"), "*", origin)
            self.assertIsNone(r.headers.get("Access-Control-Allow-Credentials"), origin)
            pre = self.get(origin, "OPTIONS", SIGNUP, **{"Access-Control-Request-Method": "POST"})
            self.assertEqual(pre.headers.get("Access-Control-Allow-Origin"), "*")
            self.assertIsNone(pre.headers.get("Access-Control-Allow-Credentials"))

    def test_null_origin_never_allowed(self):
        r = self.get("null")
        self.assertIsNone(r.headers.get("Access-Control-Allow-Origin"))
        self.assertIsNone(r.headers.get("Access-Control-Allow-Credentials"))
        pre = self.get("null", "OPTIONS", SIGNUP, **{"Access-Control-Request-Method": "POST"})
        self.assertIsNone(pre.headers.get("Access-Control-Allow-Origin"))
        self.assertIsNone(pre.headers.get("Access-Control-Allow-Methods"))


class AbsoluteUrls(unittest.TestCase):
    """next/previous links are built from PUBLIC_URL, a trusted proxy's X-Forwarded-*, or the
    address the client connected to; never from a Host header."""

    def page_links(self, svc, headers):
        r = Client(svc).request("GET", USERS + "?limit=1&offset=1", headers=headers,
                                cookies=False)
        self.assertEqual(r.status, 200, r)
        return [r.json[k] for k in ("next", "previous") if r.json.get(k)]

    def test_host_header_not_reflected(self):
        svc = start({})
        try:
            links = self.page_links(svc, {"Host": "evil.example"})
            self.assertTrue(links)
            for url in links:
                u = urllib.parse.urlsplit(url)
                self.assertEqual((u.scheme, u.netloc), ("http", "127.0.0.1:%d" % svc.port), url)
            # X-Forwarded-* from a peer that is not a trusted proxy: ignored too
            links = self.page_links(svc, {"X-Forwarded-Host": "evil.example",
                                          "X-Forwarded-Proto": "https"})
            self.assertNotIn("evil.example", json.dumps(links))
        finally:
            svc.stop_and_check(self)

    def test_trusted_proxy_and_public_url(self):
        svc = start({"TRUSTED_PROXIES": "127.0.0.1"})
        try:
            links = self.page_links(svc, {"X-Forwarded-Host": "tizza.example:8443",
                                          "X-Forwarded-Proto": "https", "Host": "evil.example"})
            self.assertTrue(all(u.startswith("https://tizza.example:8443/") for u in links), links)
        finally:
            svc.stop_and_check(self)
        svc = start({"PUBLIC_URL": "https://api.example/", "TRUSTED_PROXIES": "127.0.0.1"})
        try:
            links = self.page_links(svc, {"X-Forwarded-Host": "other.example",
                                          "Host": "evil.example"})
            self.assertTrue(all(u.startswith("https://api.example/api/v1/users?") for u in links),
                            links)
        finally:
            svc.stop_and_check(self)

    def test_bad_public_url_stops_the_binary(self):
        for bad in ("ftp://x.example", "https://u:p@x.example", "https://x.example/?q=1", "x"):
            svc = Service("auth", env={"PUBLIC_URL": bad})
            with self.assertRaises(RuntimeError, msg=bad):
                svc.start(timeout=5)
            self.assertIn("config: PUBLIC_URL", svc.stderr())
            svc.stop()


if __name__ == "__main__":
    unittest.main()
