"""The proto-docs of pizza, likes and tweets (proto-docs/<name>.openapi.yaml) are kept true to
the running services, the way test_openapi.py keeps auth's true (whose functions this module
reuses: the $ref resolver, the operation finder and the small JSON-schema checker).

For each of the three documents, against one running constellation (constellation.py):
- it is OpenAPI 3.1.x, its local $refs resolve, its error responses are problem details, and
  the service serves exactly this file at GET /openapi.yaml;
- every documented path + method is routed (OPTIONS lists it in Allow, calling it answers
  neither 405 nor the router's own 404), and the service routes no method the document does
  not list for that path (Allow); every route known to exist (SPEC §5 and the common
  operational routes) is documented;
- a set of observed answers (successes and errors of every kind the tests can provoke,
  including likes' 503 while pizza is stopped) has a status documented for its operation,
  the documented content type, and a body matching the documented schema.

test_openapi.py's helpers read the document from its module global SPEC; `using(doc)` points
it at one of ours for the duration of a check and puts the old value back.
"""
import contextlib
import os
import unittest

import yaml

import test_openapi as oa
from constellation import NO_SUCH_ID, Constellation, wait_for
from harness import _NOBODY, REPO, ServiceTestCase, started

K = None
USERS = {}

OPERATIONAL = [("GET", "/health"), ("GET", "/ready"), ("GET", "/metrics"), ("GET", "/info"),
               ("GET", "/openapi.yaml")]
KNOWN_ROUTES = {
    "pizza": [("GET", "/api/v1/pizzerias"), ("POST", "/api/v1/pizzerias"),
              ("GET", "/api/v1/pizzerias/{id}"), ("PUT", "/api/v1/pizzerias/{id}"),
              ("PATCH", "/api/v1/pizzerias/{id}"), ("DELETE", "/api/v1/pizzerias/{id}"),
              ("GET", "/api/v1/pizzas"), ("POST", "/api/v1/pizzas"),
              ("GET", "/api/v1/pizzas/random"),
              ("GET", "/api/v1/pizzas/{id}"), ("PUT", "/api/v1/pizzas/{id}"),
              ("PATCH", "/api/v1/pizzas/{id}"), ("DELETE", "/api/v1/pizzas/{id}")],
    "likes": [("GET", "/api/v1/likes"), ("GET", "/api/v1/likes/seen"),
              ("GET", "/api/v1/likes/counts"), ("PUT", "/api/v1/likes/{pizza_id}"),
              ("GET", "/api/v1/likes/{pizza_id}"), ("DELETE", "/api/v1/likes/{pizza_id}")],
    "tweets": [("GET", "/api/v2/tweets"), ("POST", "/api/v2/tweets"),
               ("GET", "/api/v2/tweets/{id}"), ("DELETE", "/api/v2/tweets/{id}")],
}


def setUpModule():
    global K
    K = started(Constellation(env={"likes": {"REMOTE_BREAKER_COOLDOWN_MS": "1000"}}), fixtures)


def fixtures(k):
    USERS["a"], USERS["b"] = k.signup_many(2, "oas")


def tearDownModule():
    if K is not None:
        K.teardown()


@contextlib.contextmanager
def using(doc):
    saved = oa.SPEC
    oa.SPEC = doc
    try:
        yield
    finally:
        oa.SPEC = saved


class DocumentChecks:
    """The checks; a subclass names SERVICE and defines key_calls()."""
    SERVICE = None

    @classmethod
    def setUpClass(cls):
        cls.path = os.path.join(REPO, "proto-docs", "%s.openapi.yaml" % cls.SERVICE)
        with open(cls.path, encoding="utf-8") as f:
            cls.doc = yaml.safe_load(f)
        cls.proc = K.procs[cls.SERVICE]

    def allow(self, path):
        r = self.proc.req("OPTIONS", path)
        if r.status == 404:
            return None
        self.assertIn(r.status, (200, 204), r)
        return {m.strip().upper() for m in (r.headers.get("Allow") or "").split(",")
                if m.strip()}

    # -- the document
    def test_openapi_version(self):
        self.assertRegex(str(self.doc.get("openapi")), r"^3\.1\.\d+$")
        self.assertTrue(self.doc.get("info", {}).get("title"))
        self.assertTrue(self.doc.get("info", {}).get("version"))
        self.assertTrue(self.doc.get("paths"))

    def test_served_document_is_the_file(self):
        r = self.proc.get("/openapi.yaml")
        self.assertEqual(r.status, 200, r)
        with open(self.path, "rb") as f:
            want = f.read()
        self.assertEqual(r.raw, want, "GET /openapi.yaml must be proto-docs/%s.openapi.yaml "
                                      "(rebuild after editing the file)" % self.SERVICE)

    def test_refs_resolve(self):
        with using(self.doc):
            for ref in oa.all_refs(self.doc, []):
                with self.subTest(ref=ref):
                    oa.resolve({"$ref": ref})

    def test_errors_are_problem_details(self):
        with using(self.doc):
            for method, path, op in oa.operations():
                for code, resp in (op.get("responses") or {}).items():
                    if str(code)[0] not in "45":
                        continue
                    content = oa.resolve(resp).get("content") or {}
                    with self.subTest(op="%s %s" % (method, path), status=code):
                        self.assertIn("application/problem+json", content)

    # -- document <-> routes
    def test_every_documented_operation_is_routed(self):
        unrouted = self.proc.get("/definitely/not/a/route")
        self.assertEqual(unrouted.status, 404, unrouted)
        with using(self.doc):
            ops = oa.operations()
        self.assertTrue(ops)
        for method, tmpl, _op in ops:
            if method in ("HEAD", "OPTIONS"):
                continue
            path = oa.concrete(tmpl)
            with self.subTest(op="%s %s" % (method, tmpl)):
                allow = self.allow(path)
                self.assertIsNotNone(allow, "OPTIONS %s: 404, path not routed" % path)
                self.assertIn(method, allow)
                body = {} if method in ("POST", "PUT", "PATCH") else _NOBODY
                r = self.proc.req(method, path, body)
                self.assertNotEqual(r.status, 405, r)
                self.assertLess(r.status, 500, r)
                if r.status == 404:  # a missing resource, not the router's "no such route"
                    self.assertNotEqual((r.json or {}).get("detail"),
                                        unrouted.json["detail"], r)

    def test_no_undocumented_methods(self):
        by_path = {}
        with using(self.doc):
            for method, tmpl, _ in oa.operations():
                by_path.setdefault(tmpl, set()).add(method)
        for tmpl, methods in by_path.items():
            with self.subTest(path=tmpl):
                allow = self.allow(oa.concrete(tmpl)) or set()
                self.assertEqual(allow - {"HEAD", "OPTIONS"}, methods - {"HEAD", "OPTIONS"})

    def test_known_routes_are_documented(self):
        with using(self.doc):
            documented = {(m, oa.normalise_template(t)) for m, t, _ in oa.operations()}
        for method, tmpl in KNOWN_ROUTES[self.SERVICE] + OPERATIONAL:
            with self.subTest(route="%s %s" % (method, tmpl)):
                allow = self.allow(oa.concrete(tmpl))
                self.assertIsNotNone(allow, "the service does not route %s" % tmpl)
                self.assertIn(method, allow)
                self.assertIn((method, oa.normalise_template(tmpl)), documented,
                              "routed by the service but not in the proto-doc")

    # -- observed answers
    def test_observed_answers(self):
        observed = []

        def call(method, path, body=_NOBODY, token=None, proc=None, **kw):
            r = (proc or self.proc).req(method, path, body, token=token, **kw)
            observed.append((method, path, r))
            return r

        self.key_calls(call)
        for path in ("/health", "/ready", "/info", "/metrics", "/openapi.yaml"):
            call("GET", path)
        statuses = set()
        with using(self.doc):
            for method, path, r in observed:
                statuses.add(r.status)
                with self.subTest(call="%s %s -> %d" % (method, path[:70], r.status)):
                    tmpl, op = oa.find_operation(method, path)
                    self.assertIsNotNone(op, "%s %s is not documented" % (method, path))
                    self.assertTrue(oa.status_documented(op, r.status),
                                    "%d not documented for %s %s (has %s)" % (
                                        r.status, method, tmpl,
                                        sorted(oa.documented_statuses(op))))
                    resp = oa.response_for(op, r.status) or {}
                    content = resp.get("content") or {}
                    if not r.raw:
                        self.assertFalse(content, "documented a body, answered none: %r" % r)
                        continue
                    self.assertIn(r.content_type, content,
                                  "answered %s, documented %s" % (r.content_type, list(content)))
                    schema = (content[r.content_type] or {}).get("schema")
                    if schema is not None and r.json is not None:
                        self.assertEqual(oa.schema_errors(schema, r.json), [], r)
                    for h in (resp.get("headers") or {}):
                        if h == "Location" and r.status == 201:
                            self.assertTrue(r.headers.get(h), "%s missing: %r" % (h, r))
        self.assertTrue({200, 400, 401, 404} <= statuses, sorted(statuses))


class TestPizzaDocument(DocumentChecks, ServiceTestCase):
    SERVICE = "pizza"

    def key_calls(self, call):
        a, b, admin = USERS["a"].token, USERS["b"].token, K.admin.token
        r = call("POST", "/api/v1/pizzerias", {"name": "Doc", "address": "1 Doc St",
                                               "phone": "+1 555"}, a)
        self.assertEqual(r.status, 201, r)
        pz = r.json["id"]
        call("POST", "/api/v1/pizzerias", {"name": "", "address": "x", "bad": 1}, a)   # 400
        call("POST", "/api/v1/pizzerias", {"name": "N", "address": "x"})               # 401
        call("POST", "/api/v1/pizzerias", token=a, raw=b'{"name":"N","address":"x"}',
             content_type="text/plain")                                              # 415
        call("GET", "/api/v1/pizzerias")
        call("GET", "/api/v1/pizzerias?owner_id=" + USERS["a"].id + "&limit=1")
        call("GET", "/api/v1/pizzerias?owner_id=nope")                                 # 400
        call("GET", "/api/v1/pizzerias/" + pz)
        call("GET", "/api/v1/pizzerias/" + NO_SUCH_ID)                                 # 404
        call("PUT", "/api/v1/pizzerias/" + pz, {"name": "Doc2", "address": "2", "phone": ""}, a)
        call("PUT", "/api/v1/pizzerias/" + pz, {"name": "Doc2"}, a)                    # 400
        call("PATCH", "/api/v1/pizzerias/" + pz, {"phone": "1"}, b)                    # 403
        call("PATCH", "/api/v1/pizzerias/" + pz, {"phone": "1"}, a)
        call("PATCH", "/api/v1/pizzerias/" + pz, {"phone": "1"})                       # 401
        r = call("POST", "/api/v1/pizzas", {"pizzeria_id": pz, "title": "Doc pizza",
                                            "kind": "vegan"}, a)
        self.assertEqual(r.status, 201, r)
        p = r.json["id"]
        call("POST", "/api/v1/pizzas", {"pizzeria_id": pz, "title": "T", "kind": "x"}, a)  # 400
        call("POST", "/api/v1/pizzas", {"pizzeria_id": pz, "title": "T", "kind": "meat"}, b)  # 403
        call("POST", "/api/v1/pizzas", {"pizzeria_id": NO_SUCH_ID, "title": "T",
                                        "kind": "meat"}, a)                          # 422
        call("PATCH", "/api/v1/pizzas/" + p, {"approved": True}, a)                    # 403
        call("GET", "/api/v1/pizzas/" + p)                                             # 404
        call("GET", "/api/v1/pizzas/" + p, token=a)
        call("GET", "/api/v1/pizzas/" + p, token="bad.token.x")                        # 401
        r = call("PATCH", "/api/v1/pizzas/" + p, {"approved": True}, admin)
        self.assertEqual(r.status, 200, r)
        call("PUT", "/api/v1/pizzas/" + p, {"title": "Doc pizza", "description": "d",
                                            "thumbnail_url": "https://x.io/p.png",
                                            "kind": "meat"}, a)
        call("GET", "/api/v1/pizzas")
        call("GET", "/api/v1/pizzas?kind=meat&approved=true&title__startswith=Doc")
        call("GET", "/api/v1/pizzas?ids=%s,%s" % (p, NO_SUCH_ID), token=a)
        call("GET", "/api/v1/pizzas?kind=pasta")                                       # 400
        call("GET", "/api/v1/pizzas/random")
        call("GET", "/api/v1/pizzas/random?count=15", token=b)
        call("GET", "/api/v1/pizzas/random?count=16")                                  # 400
        call("DELETE", "/api/v1/pizzas/" + p, token=b)                                 # 403
        call("DELETE", "/api/v1/pizzas/" + p, token=a)                                 # 204
        call("DELETE", "/api/v1/pizzas/" + p, token=a)                                 # 404
        call("DELETE", "/api/v1/pizzerias/" + pz, token=b)                             # 403
        call("DELETE", "/api/v1/pizzerias/" + pz)                                      # 401
        call("DELETE", "/api/v1/pizzerias/" + pz, token=a)                             # 204


class TestLikesDocument(DocumentChecks, ServiceTestCase):
    SERVICE = "likes"

    def key_calls(self, call):
        a, b = USERS["a"].token, USERS["b"].token
        pz = K.pizzeria(USERS["a"], name="Likes doc")
        p = K.new_pizza(K.admin, pz["id"], title="Liked in doc", approved=True)["id"]
        hidden = K.new_pizza(USERS["a"], pz["id"], title="Hidden in doc")["id"]
        lk = "/api/v1/likes/"
        self.assertEqual(call("PUT", lk + p, {"liked": True}, a).status, 201)
        call("PUT", lk + p, {"liked": False}, a)                                       # 200
        call("PUT", lk + p, {"liked": "no"}, a)                                        # 400
        call("PUT", lk + p, {"liked": True})                                           # 401
        call("PUT", lk + NO_SUCH_ID, {"liked": True}, a)                               # 422
        call("PUT", lk + hidden, {"liked": True}, b)                                   # 422
        call("PUT", lk + p, token=a, raw=b'{"liked":true}', content_type="text/plain")  # 415
        call("GET", lk + p, token=a)
        call("GET", lk + p, token=b)                                                   # 404
        call("GET", lk + p)                                                            # 401
        call("GET", "/api/v1/likes", token=a)
        call("GET", "/api/v1/likes?liked=false&limit=1", token=a)
        call("GET", "/api/v1/likes?expand=pizza", token=a)
        call("GET", "/api/v1/likes?liked=maybe", token=a)                              # 400
        call("GET", "/api/v1/likes")                                                   # 401
        call("GET", "/api/v1/likes/seen", token=a)
        call("GET", "/api/v1/likes/seen")                                              # 401
        call("GET", "/api/v1/likes/counts?pizza_ids=%s,%s" % (p, NO_SUCH_ID))
        call("GET", "/api/v1/likes/counts?pizza_ids=bad")                              # 400
        call("DELETE", lk + p, token=b)                                                # 404
        call("DELETE", lk + p)                                                         # 401
        self.assertEqual(call("PUT", lk + p, {"liked": True}, b).status, 201)
        # pizza down: PUT 503 (+ Retry-After), the expanded list without pizzas
        K.stop_service("pizza")
        try:
            r = call("PUT", lk + p, {"liked": True}, a)
            self.assertEqual(r.status, 503, r)
            self.assertTrue(r.headers.get("Retry-After"), r)
            r = call("GET", "/api/v1/likes?expand=pizza", token=b)
            self.assertIs(r.json.get("pizza_expanded"), False, r)
        finally:
            K.start_service("pizza")
        wait_for(lambda: K.likes.put(lk + p, {"liked": False}, token=b).status == 200, 6.0,
                 0.1, "likes to reach pizza again")
        call("DELETE", lk + p, token=a)                                                # 204


class TestTweetsDocument(DocumentChecks, ServiceTestCase):
    SERVICE = "tweets"

    def key_calls(self, call):
        a, b = USERS["a"], USERS["b"]
        r = call("POST", "/api/v2/tweets", {"body": "documented"}, a.token)
        self.assertEqual(r.status, 201, r)
        t = r.json["id"]
        call("POST", "/api/v2/tweets", {"body": ""}, a.token)                          # 400
        call("POST", "/api/v2/tweets", {"body": "x", "tweetedby": "b"}, a.token)       # 400
        call("POST", "/api/v2/tweets", {"body": "x"})                                  # 401
        call("POST", "/api/v2/tweets", token=a.token, raw=b'{"body":"x"}',
             content_type="text/plain")                                              # 415
        call("GET", "/api/v2/tweets")
        call("GET", "/api/v2/tweets?limit=1&tweetedby=" + a.username)
        call("GET", "/api/v2/tweets?limit=0")                                          # 400
        call("GET", "/api/v2/tweets/" + t)
        call("GET", "/api/v2/tweets/" + NO_SUCH_ID)                                    # 404
        call("DELETE", "/api/v2/tweets/" + t, token=b.token)                           # 403
        call("DELETE", "/api/v2/tweets/" + t)                                          # 401
        call("DELETE", "/api/v2/tweets/" + t, token=a.token)                           # 204
        call("DELETE", "/api/v2/tweets/" + t, token=a.token)                           # 404


if __name__ == "__main__":
    unittest.main()
