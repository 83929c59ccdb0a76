"""The auth proto-doc (proto-docs/auth.openapi.yaml) is kept true to the running service.

- The document is OpenAPI 3.1.x, its local $refs resolve, and the service serves exactly
  this file at GET /openapi.yaml.
- Every documented path + method is routed by the service (OPTIONS lists the method in
  Allow, and calling it does not answer 405), and the service routes no method that the
  document does not list for that path.
- Conversely every route known to exist (AUTH-API.md and the common operational routes)
  is documented.
- For a set of key calls, the status the service answers is documented for that operation,
  with the content type it answers, and the body matches the documented schema (a small
  JSON-schema subset checker: $ref, allOf/anyOf/oneOf, type, enum, const, required,
  properties, additionalProperties, items, pattern, minimum/maximum, min/maxLength).
"""
import os
import re
import unittest
import urllib.parse

import yaml

from harness import REPO, Client, Service, ServiceTestCase, unique

SPEC_PATH = os.path.join(REPO, "proto-docs", "auth.openapi.yaml")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
NO_SUCH_ID = "0123456789abcdef01234567"

# Routes that exist (SPEC §5 and libcommon's operational routes).
KNOWN_ROUTES = [
    ("POST", "/api/v1/auth/signup"), ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"), ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/auth/me"), ("GET", "/api/v1/auth/jwks"),
    ("GET", "/api/v1/users"), ("POST", "/api/v1/users"),
    ("GET", "/api/v1/users/{id}"), ("PATCH", "/api/v1/users/{id}"),
    ("DELETE", "/api/v1/users/{id}"), ("GET", "/api/v1/users/{id}/erasure"),
    ("GET", "/health"), ("GET", "/ready"), ("GET", "/metrics"), ("GET", "/info"),
    ("GET", "/openapi.yaml"),
]
# Routes that may or may not exist yet; documented whenever the service routes them.
MAYBE_ROUTES = []

SPEC = None
SVC = None


def setUpModule():
    global SPEC, SVC
    with open(SPEC_PATH, encoding="utf-8") as f:
        SPEC = yaml.safe_load(f)
    SVC = Service(tag="auth-openapi").start()


def tearDownModule():
    if SVC is not None:
        SVC.stop_and_check()


# ---------------------------------------------------------------- spec helpers

def server_prefix():
    servers = SPEC.get("servers") or []
    if not servers:
        return ""
    return urllib.parse.urlsplit(servers[0].get("url", "")).path.rstrip("/")


def operations():
    """[(METHOD, full path template, operation)]"""
    out = []
    for path, item in (SPEC.get("paths") or {}).items():
        for m in METHODS:
            if m in item:
                out.append((m.upper(), server_prefix() + path, item[m]))
    return out


def template_regex(template):
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")


def find_operation(method, concrete_path):
    path = concrete_path.split("?", 1)[0]
    best = None
    for m, tmpl, op in operations():
        if m == method and template_regex(tmpl).match(path):
            literal = len(re.sub(r"\{[^}]+\}", "", tmpl))  # literal segments win
            if best is None or literal > best[0]:
                best = (literal, tmpl, op)
    return (best[1], best[2]) if best else (None, None)


def concrete(template):
    return re.sub(r"\{[^}]+\}", NO_SUCH_ID, template)


def normalise_template(t):
    return re.sub(r"\{[^}]+\}", "{}", t)


def resolve(node, seen=None):
    """Follows local $refs ("#/a/b")."""
    seen = seen or set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if ref in seen or not ref.startswith("#/"):
            raise AssertionError("unresolvable or cyclic $ref %r" % ref)
        seen.add(ref)
        target = SPEC
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                raise AssertionError("$ref %r does not resolve" % ref)
            target = target[part]
        node = target
    return node


def all_refs(node, out):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            out.append(node["$ref"])
        for v in node.values():
            all_refs(v, out)
    elif isinstance(node, list):
        for v in node:
            all_refs(v, out)
    return out


def documented_statuses(op):
    return {str(k) for k in (op.get("responses") or {})}


def status_documented(op, status):
    codes = documented_statuses(op)
    return str(status) in codes or ("%dXX" % (status // 100)) in codes


def response_for(op, status):
    responses = op.get("responses") or {}
    for key in (str(status), "%dXX" % (status // 100)):
        for k, v in responses.items():
            if str(k) == key:
                return resolve(v)
    return None


# ---------------------------------------------------------------- tiny schema checker

JSON_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "null": lambda v: v is None,
}


def schema_errors(schema, value, where="$"):
    schema = resolve(schema)
    if schema is True or schema is None or schema == {}:
        return []
    if schema is False:
        return ["%s: not allowed" % where]
    errs = []
    for sub in schema.get("allOf", []):
        errs += schema_errors(sub, value, where)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            alts = [schema_errors(s, value, where) for s in schema[key]]
            if all(alts):
                errs.append("%s: matches none of %s: %s" % (where, key, alts))
    t = schema.get("type")
    if t is not None:
        types = t if isinstance(t, list) else [t]
        if schema.get("nullable"):
            types = types + ["null"]
        if not any(JSON_TYPES[x](value) for x in types):
            return errs + ["%s: %r is not %s" % (where, value, t)]
    if "enum" in schema and value not in schema["enum"]:
        errs.append("%s: %r not in enum %r" % (where, value, schema["enum"]))
    if "const" in schema and value != schema["const"]:
        errs.append("%s: %r != const %r" % (where, value, schema["const"]))
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errs.append("%s: %r does not match %r" % (where, value, schema["pattern"]))
        if "minLength" in schema and len(value) < schema["minLength"]:
            errs.append("%s: shorter than %d" % (where, schema["minLength"]))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errs.append("%s: longer than %d" % (where, schema["maxLength"]))
    if JSON_TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            errs.append("%s: %r < minimum %r" % (where, value, schema["minimum"]))
        if "maximum" in schema and value > schema["maximum"]:
            errs.append("%s: %r > maximum %r" % (where, value, schema["maximum"]))
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for name in schema.get("required") or []:
            if name not in value:
                errs.append("%s: missing required %r" % (where, name))
        for name, v in value.items():
            if name in props:
                errs += schema_errors(props[name], v, "%s.%s" % (where, name))
            else:
                extra = schema.get("additionalProperties", True)
                if extra is False:
                    errs.append("%s: undocumented property %r" % (where, name))
                elif isinstance(extra, dict):
                    errs += schema_errors(extra, v, "%s.%s" % (where, name))
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            errs += schema_errors(schema["items"], v, "%s[%d]" % (where, i))
    return errs


# ================================================================ the document itself

class TestDocument(ServiceTestCase):

    def test_openapi_version(self):
        self.assertRegex(str(SPEC.get("openapi")), r"^3\.1\.\d+$")
        self.assertIsInstance(SPEC.get("info"), dict)
        self.assertTrue(SPEC["info"].get("title"))
        self.assertTrue(SPEC["info"].get("version"))
        self.assertTrue(SPEC.get("paths"))

    def test_served_document_is_the_file(self):
        r = Client(SVC).get("/openapi.yaml")
        self.assertEqual(r.status, 200, r)
        with open(SPEC_PATH, "rb") as f:
            want = f.read()
        self.assertEqual(r.raw, want, "GET /openapi.yaml must be proto-docs/auth.openapi.yaml "
                                      "(rebuild after editing the file)")
        self.assertEqual(yaml.safe_load(r.text), SPEC)

    def test_refs_resolve(self):
        for ref in all_refs(SPEC, []):
            with self.subTest(ref=ref):
                resolve({"$ref": ref})

    def test_operation_ids_unique(self):
        ids = [op.get("operationId") for _, _, op in operations() if op.get("operationId")]
        self.assertEqual(len(ids), len(set(ids)), ids)

    def test_errors_are_problem_details(self):
        for method, path, op in operations():
            for code, resp in (op.get("responses") or {}).items():
                code = str(code)
                if not code[0] in "45":
                    continue
                content = resolve(resp).get("content") or {}
                with self.subTest(op="%s %s" % (method, path), status=code):
                    self.assertIn("application/problem+json", content,
                                  "error responses are RFC 9457 problem details")

    def test_rate_limited_operations_document_429(self):
        for path in ("/api/v1/auth/login", "/api/v1/auth/signup"):
            with self.subTest(path=path):
                _, op = find_operation("POST", path)
                self.assertIsNotNone(op, path)
                self.assertTrue(status_documented(op, 429), documented_statuses(op))


# ================================================================ document <-> routes

class TestRoutes(ServiceTestCase):

    def allow(self, path):
        r = Client(SVC).request("OPTIONS", path)
        if r.status == 404:
            return None
        self.assertIn(r.status, (200, 204), r)
        return {m.strip().upper() for m in (r.headers.get("Allow") or "").split(",") if m.strip()}

    def test_every_documented_operation_is_routed(self):
        unrouted = Client(SVC).get("/definitely/not/a/route")
        self.assertEqual(unrouted.status, 404, unrouted)
        for method, tmpl, op in operations():
            if method in ("HEAD", "OPTIONS"):
                continue
            path = concrete(tmpl)
            with self.subTest(op="%s %s" % (method, tmpl)):
                allow = self.allow(path)
                self.assertIsNotNone(allow, "OPTIONS %s: 404, path not routed" % path)
                self.assertIn(method, allow)
                kw = {"json_body": {}} if method in ("POST", "PUT", "PATCH") else {}
                r = Client(SVC).request(method, path, **kw)
                self.assertNotEqual(r.status, 405, r)
                self.assertLess(r.status, 500, r)
                if r.status == 404:  # a missing resource, not the router's "no such route"
                    self.assertNotEqual(r.json.get("detail"), unrouted.json["detail"], r)

    def test_no_undocumented_methods(self):
        by_path = {}
        for method, tmpl, _ in operations():
            by_path.setdefault(tmpl, set()).add(method)
        for tmpl, methods in by_path.items():
            with self.subTest(path=tmpl):
                allow = self.allow(concrete(tmpl)) or set()
                self.assertEqual(allow - {"HEAD", "OPTIONS"}, methods - {"HEAD", "OPTIONS"})

    def test_known_routes_are_documented(self):
        documented = {(m, normalise_template(t)) for m, t, _ in operations()}
        routes = list(KNOWN_ROUTES)
        for method, tmpl in MAYBE_ROUTES:
            allow = self.allow(concrete(tmpl))
            if allow and method in allow:
                routes.append((method, tmpl))
        for method, tmpl in routes:
            with self.subTest(route="%s %s" % (method, tmpl)):
                allow = self.allow(concrete(tmpl))
                self.assertIsNotNone(allow, "the service does not route %s" % tmpl)
                self.assertIn(method, allow)
                self.assertIn((method, normalise_template(tmpl)), documented,
                              "routed by the service but not in the proto-doc")


# ================================================================ observed answers

class TestObservedAnswers(ServiceTestCase):
    """Drives the key calls and checks each answer against the document."""

    @classmethod
    def setUpClass(cls):
        cls.observed = []  # (method, path, Response)

    def call(self, client, method, path, **kw):
        r = client.request(method, path, **kw)
        self.observed.append((method, path, r))
        return r

    def check_all(self):
        for method, path, r in self.observed:
            with self.subTest(call="%s %s -> %d" % (method, path, r.status)):
                tmpl, op = find_operation(method, path)
                self.assertIsNotNone(op, "%s %s is not documented" % (method, path))
                self.assertTrue(status_documented(op, r.status),
                                "%d not documented for %s %s (has %s)" % (
                                    r.status, method, tmpl, sorted(documented_statuses(op))))
                resp = response_for(op, r.status)
                content = resp.get("content") or {}
                if not r.raw:
                    continue
                self.assertIn(r.content_type, content,
                              "answered %s, documented %s" % (r.content_type, list(content)))
                schema = (content[r.content_type] or {}).get("schema")
                if schema is not None and r.json is not None:
                    errs = schema_errors(schema, r.json)
                    self.assertEqual(errs, [], r)

    def test_key_calls(self):
        a = Client(SVC)
        name, pw = unique("oa"), "pw-" + os.urandom(8).hex()
        email = name + "@example.test"
        r = self.call(a, "POST", "/api/v1/auth/signup",
                      json_body={"username": name, "email": email, "password": pw})
        self.assertEqual(r.status, 201, r)
        uid = r.json["id"]
        self.call(Client(SVC), "POST", "/api/v1/auth/signup",
                  json_body={"username": name, "email": email, "password": pw})      # 409
        self.call(Client(SVC), "POST", "/api/v1/auth/signup", json_body={})          # 400
        self.call(Client(SVC), "POST", "/api/v1/auth/signup", body="x",
                  content_type="text/plain")                                         # 415
        self.call(Client(SVC), "POST", "/api/v1/auth/signup",
                  json_body={"username": "n" * 70000})                               # 413
        b = Client(SVC)
        r = self.call(b, "POST", "/api/v1/users",
                      json_body={"username": unique("ob"), "email": unique("ob") + "@x.test",
                                 "password": pw})
        self.assertEqual(r.status, 201, r)
        other = r.json["id"]
        self.call(Client(SVC), "POST", "/api/v1/users", json_body={"username": 1})  # 400

        c = Client(SVC)
        r = self.call(c, "POST", "/api/v1/auth/login",
                      json_body={"username": name, "password": pw})
        self.assertEqual(r.status, 200, r)
        token = r.json["access_token"]
        self.call(Client(SVC), "POST", "/api/v1/auth/login",
                  json_body={"username": name, "password": "wrong-pass"})           # 401
        self.call(Client(SVC), "POST", "/api/v1/auth/login", json_body={})          # 400
        self.call(c, "POST", "/api/v1/auth/refresh")                                # 200
        self.call(Client(SVC), "POST", "/api/v1/auth/refresh")                      # 401
        self.call(c, "POST", "/api/v1/auth/logout")                                 # 204

        self.call(Client(SVC), "GET", "/api/v1/auth/me", token=token)               # 200
        self.call(Client(SVC), "GET", "/api/v1/auth/me")                            # 401
        self.call(Client(SVC), "GET", "/api/v1/auth/jwks")
        self.call(Client(SVC), "GET", "/api/v1/users")
        self.call(Client(SVC), "GET", "/api/v1/users?limit=0")                      # 400
        self.call(Client(SVC), "GET", "/api/v1/users?ids=" + uid)
        self.call(Client(SVC), "GET", "/api/v1/users/" + uid)                       # public
        self.call(Client(SVC), "GET", "/api/v1/users/" + uid, token=token)          # private
        self.call(Client(SVC), "GET", "/api/v1/users/" + NO_SUCH_ID)                # 404
        self.call(Client(SVC), "PATCH", "/api/v1/users/" + uid, json_body={"name": "N"},
                  token=token)                                                       # 200
        self.call(Client(SVC), "PATCH", "/api/v1/users/" + uid, json_body={"email": "x"},
                  token=token)                                                       # 400
        self.call(Client(SVC), "PATCH", "/api/v1/users/" + other, json_body={"name": "N"},
                  token=token)                                                       # 403
        self.call(Client(SVC), "PATCH", "/api/v1/users/" + uid, json_body={"name": "N"})  # 401
        self.call(Client(SVC), "DELETE", "/api/v1/users/" + other, token=token)      # 403
        self.call(Client(SVC), "DELETE", "/api/v1/users/" + other)                   # 401
        r = self.call(Client(SVC), "DELETE", "/api/v1/users/" + uid, token=token)    # 202
        self.assertEqual(r.status, 202, r)
        for path in ("/health", "/ready", "/info", "/metrics"):
            self.call(Client(SVC), "GET", path)
        self.check_all()


if __name__ == "__main__":
    unittest.main()
