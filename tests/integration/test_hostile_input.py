"""Integration tests of hostile text input (SPEC §3 conventions) over the real tizza-auth,
tizza-pizza, tizza-likes and tizza-tweets binaries and a real RabbitMQ node (constellation.py),
on the store backend TIZZA_TEST_BACKEND names.

Two families of input that C strings and byte-oriented writers get wrong:

* U+0000 and other control characters in JSON strings. cJSON decodes "\\u0000" into a NUL
  byte, which silently ends the C string: "Password1\\u0000-long-tail" would be read as
  "Password1", a member named "kind\\u0000x" as "kind". Every text field refuses NUL (escaped
  or raw, in values and in member names) and the other control characters with a 400 that
  names the field; free text (a tweet, a description) may hold tab and newline. Names,
  titles and addresses made only of white space are refused like blank tweets. Each test
  checks that the refused request changed nothing.
* Invalid UTF-8, sent over a raw socket (http.client will not send such bytes): in the
  request path and query, in member names and values, in headers. A body that is not UTF-8 is
  refused with 400; every problem document is valid UTF-8 JSON; and afterwards every line
  each service wrote to its log (stdout) parses as JSON.

When the module ends every service gets SIGTERM: exit 0 and no sanitizer report.
"""
import json
import os
import unittest
import urllib.parse

from constellation import ADMIN_PASSWORD, Constellation, wait_for
from harness import ServiceTestCase, raw_http, started, unique

SIGNUP = "/api/v1/auth/signup"
LOGIN = "/api/v1/auth/login"
USERS = "/api/v1/users"
PIZZERIAS = "/api/v1/pizzerias"
PIZZAS = "/api/v1/pizzas"
LIKES = "/api/v1/likes"
TWEETS = "/api/v2/tweets"

# Control characters a one-line field refuses (besides NUL, tested on its own).
LINE_CONTROLS = {"bell": "\x07", "escape": "\x1b[31m", "tab": "\t", "newline": "\n",
                 "return": "\r", "delete": "\x7f", "c1 next line": "\x85",
                 "line separator": "\u2028"}
# Those free text (tweets, descriptions) still refuses: tab and newline are allowed there.
TEXT_CONTROLS = {"bell": "\x07", "escape": "\x1b[31m", "return": "\r", "delete": "\x7f",
                 "c1 next line": "\x85", "backspace": "\x08", "form feed": "\x0c"}
BLANKS = {"spaces": "   ", "tab": "\t", "ideographic space": "\u3000",
          "no-break space": "\u00a0 ", "zero width space": "\u200b"}

K = None
OWNER = None
PIZZERIA = None
PIZZA = None


def setUpModule():
    global K
    K = started(Constellation(), fixtures)


def fixtures(k):
    global OWNER, PIZZERIA, PIZZA
    OWNER = k.signup("hostile")
    PIZZERIA = k.pizzeria(OWNER, name="Hostile Pizzeria")
    PIZZA = k.new_pizza(OWNER, PIZZERIA["id"], title="Control")


def tearDownModule():
    if K is not None:
        K.teardown()


def signup_body(who, **change):
    body = {"username": who, "email": who + "@example.org",
            "password": "pw-" + os.urandom(6).hex()}
    body.update(change)
    return body


class HostileTestCase(ServiceTestCase):
    def assertUsernameFree(self, username):
        """Nothing was stored under `username`: signing it up now works."""
        r = K.auth.post(SIGNUP, signup_body(username))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["username"], username, r)

    def tweet_count(self, user):
        r = K.tweets.get(TWEETS + "?tweetedby=" + urllib.parse.quote(user.username))
        self.assertEqual(r.status, 200, r)
        return r.json["count"]

    def pizzeria_count(self):
        r = K.pizza.get(PIZZERIAS + "?owner_id=" + OWNER.id + "&limit=100")
        self.assertEqual(r.status, 200, r)
        return r.json["count"]

    def pizza_count(self):
        r = K.pizza.get(PIZZAS + "?pizzeria_id=" + PIZZERIA["id"] + "&limit=100",
                        token=OWNER.token)
        self.assertEqual(r.status, 200, r)
        return r.json["count"]


# ---------------------------------------------------------------- NUL and control characters

class TestNul(HostileTestCase):
    """U+0000 never reaches a C string: refused wherever it appears in a body."""

    def test_signup_password_with_nul_creates_nothing(self):
        name = unique("nulpw")
        r = K.auth.post(SIGNUP, signup_body(name, password="Password1\x00-long-tail"))
        self.assertProblem(r, 400, "password")
        self.assertProblem(K.auth.post(LOGIN, {"username": name, "password": "Password1"}), 401)
        self.assertUsernameFree(name)

    def test_signup_username_with_nul_creates_nothing(self):
        name = unique("nulname")
        r = K.auth.post(SIGNUP, signup_body(name + "\x00-evil"))
        self.assertProblem(r, 400, "username")
        self.assertUsernameFree(name)

    def test_signup_name_and_email_with_nul(self):
        name = unique("nulmore")
        self.assertProblem(K.auth.post(SIGNUP, signup_body(name, name="Eve\x00ADMIN")), 400,
                           "name")
        self.assertProblem(K.auth.post(SIGNUP, signup_body(
            name, email=name + "@example.org\x00.evil")), 400, "email")
        self.assertUsernameFree(name)

    def test_nul_in_a_member_name(self):
        """{"password\\u0000x": ...} must not be read as "password"."""
        name = unique("nulkey")
        body = signup_body(name)
        body["password\x00x"] = body.pop("password")
        self.assertProblem(K.auth.post(SIGNUP, body), 400, "password")
        self.assertUsernameFree(name)

    def test_raw_nul_byte_in_a_string(self):
        name = unique("rawnul")
        raw = json.dumps(signup_body(name, password="Password1-long-tail")).encode()
        raw = raw.replace(b"Password1-long-tail", b"Password1\x00-long-tail")
        r = K.auth.req("POST", SIGNUP, raw=raw, content_type="application/json")
        self.assertProblem(r, 400)
        self.assertUsernameFree(name)

    def test_login_with_nul_in_username_or_password(self):
        r = K.auth.post(LOGIN, {"username": "admin\x00-someone-else",
                                "password": ADMIN_PASSWORD})
        self.assertProblem(r, 400, "username")
        r = K.auth.post(LOGIN, {"username": "admin", "password": ADMIN_PASSWORD + "\x00x"})
        self.assertProblem(r, 400, "password")

    def test_patch_user_name_with_nul_changes_nothing(self):
        url = USERS + "/" + OWNER.id
        before = K.auth.get(url, token=OWNER.token)
        self.assertEqual(before.status, 200, before)
        r = K.auth.patch(url, {"name": "Mallory\x00 the admin"}, token=OWNER.token)
        self.assertProblem(r, 400, "name")
        self.assertEqual(K.auth.get(url, token=OWNER.token).json, before.json)

    def test_tweet_with_nul_creates_nothing(self):
        before = self.tweet_count(OWNER)
        for body in ("hello\x00hidden", "\x00", "a\\\x00"):
            with self.subTest(body=body):
                r = K.tweets.post(TWEETS, {"body": body}, token=OWNER.token)
                self.assertProblem(r, 400, "body")
        self.assertEqual(self.tweet_count(OWNER), before)

    def test_escaped_backslash_before_u0000_is_text(self):
        """JSON "C:\\\\u0000" is a backslash followed by the letters u0000, not a NUL."""
        for body in ("C:\\u0000", "\\\\u0000\\", "\\u0000"):
            with self.subTest(body=body):
                r = K.tweets.post(TWEETS, {"body": body}, token=OWNER.token)
                self.assertEqual(r.status, 201, r)
                self.assertEqual(r.json["body"], body)
                self.assertEqual(K.tweets.get(TWEETS + "/" + r.json["id"]).json["body"], body)

    def test_pizzeria_with_nul_creates_nothing(self):
        before = self.pizzeria_count()
        ok = {"name": "Luigi", "address": "1 Main St", "phone": "+1 555"}
        for field, value in (("name", "Luigi\x00's"), ("address", "\x00"),
                             ("phone", "+1 555\x00 call me")):
            with self.subTest(field=field):
                r = K.pizza.post(PIZZERIAS, dict(ok, **{field: value}), token=OWNER.token)
                self.assertProblem(r, 400, field)
        self.assertEqual(self.pizzeria_count(), before)

    def test_pizza_with_nul_creates_nothing(self):
        before = self.pizza_count()
        ok = {"pizzeria_id": PIZZERIA["id"], "title": "Margherita", "kind": "vegan"}
        for field, value in (("title", "Marg\x00herita"), ("description", "thin\x00crust"),
                             ("kind", "vegan\x00meat"), ("thumbnail_url", "http://x.io/\x00")):
            with self.subTest(field=field):
                r = K.pizza.post(PIZZAS, dict(ok, **{field: value}), token=OWNER.token)
                self.assertProblem(r, 400, field)
        body = dict(ok)
        body["kind\x00x"] = body.pop("kind")
        self.assertProblem(K.pizza.post(PIZZAS, body, token=OWNER.token), 400, "kind")
        self.assertEqual(self.pizza_count(), before)
        url = PIZZAS + "/" + PIZZA["id"]
        r = K.pizza.patch(url, {"title": "Renamed\x00"}, token=OWNER.token)
        self.assertProblem(r, 400, "title")
        self.assertEqual(K.pizza.get(url, token=OWNER.token).json["title"], PIZZA["title"])

    def test_like_with_nul_member_name_stores_nothing(self):
        url = LIKES + "/" + PIZZA["id"]
        r = K.likes.put(url, {"liked\x00x": True}, token=OWNER.token)
        self.assertProblem(r, 400, "liked")
        self.assertProblem(K.likes.get(url, token=OWNER.token), 404)


class TestControlCharacters(HostileTestCase):
    """One-line fields refuse every control character; free text allows tab and newline."""

    def test_signup_line_fields(self):
        name = unique("ctl")
        for what, c in LINE_CONTROLS.items():
            for field, value in (("username", name + c), ("password", "Password1" + c + "x"),
                                 ("name", "Eve" + c + "x"), ("email", c + name + "@x.io")):
                with self.subTest(field=field, control=what):
                    r = K.auth.post(SIGNUP, signup_body(name, **{field: value}))
                    self.assertProblem(r, 400, field)
        self.assertUsernameFree(name)

    def test_blank_user_name(self):
        name = unique("blank")
        for what, blank in BLANKS.items():
            with self.subTest(blank=what):
                self.assertProblem(K.auth.post(SIGNUP, signup_body(name, name=blank)), 400,
                                   "name")
        url = USERS + "/" + OWNER.id
        before = K.auth.get(url, token=OWNER.token).json
        self.assertProblem(K.auth.patch(url, {"name": " \u3000 "}, token=OWNER.token), 400,
                           "name")
        self.assertProblem(K.auth.patch(url, {"name": "Bob\x1b[2J"}, token=OWNER.token), 400,
                           "name")
        self.assertEqual(K.auth.get(url, token=OWNER.token).json, before)
        self.assertUsernameFree(name)

    def test_tweet_controls(self):
        before = self.tweet_count(OWNER)
        for what, c in TEXT_CONTROLS.items():
            with self.subTest(control=what):
                r = K.tweets.post(TWEETS, {"body": "hello" + c + "world"}, token=OWNER.token)
                self.assertProblem(r, 400, "body")
        self.assertEqual(self.tweet_count(OWNER), before)
        body = "line one\nline two\n\tindented \u00e9 \U0001F355"
        r = K.tweets.post(TWEETS, {"body": body}, token=OWNER.token)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(K.tweets.get(TWEETS + "/" + r.json["id"]).json["body"], body)

    def test_pizzeria_controls_and_blanks(self):
        before = self.pizzeria_count()
        ok = {"name": "Luigi", "address": "1 Main St", "phone": "+1 555"}
        for field in ("name", "address"):
            for what, c in LINE_CONTROLS.items():
                with self.subTest(field=field, control=what):
                    r = K.pizza.post(PIZZERIAS, dict(ok, **{field: "A" + c + "B"}),
                                     token=OWNER.token)
                    self.assertProblem(r, 400, field)
            for what, blank in BLANKS.items():
                with self.subTest(field=field, blank=what):
                    r = K.pizza.post(PIZZERIAS, dict(ok, **{field: blank}), token=OWNER.token)
                    self.assertProblem(r, 400, field)
        self.assertEqual(self.pizzeria_count(), before)
        url = PIZZERIAS + "/" + PIZZERIA["id"]
        self.assertProblem(K.pizza.patch(url, {"name": "   "}, token=OWNER.token), 400, "name")
        self.assertEqual(K.pizza.get(url).json["name"], PIZZERIA["name"])

    def test_pizza_controls_and_blanks(self):
        before = self.pizza_count()
        ok = {"pizzeria_id": PIZZERIA["id"], "title": "Margherita", "kind": "vegan"}
        for what, c in LINE_CONTROLS.items():
            with self.subTest(field="title", control=what):
                r = K.pizza.post(PIZZAS, dict(ok, title="Mar" + c + "gherita"),
                                 token=OWNER.token)
                self.assertProblem(r, 400, "title")
        for what, c in TEXT_CONTROLS.items():
            with self.subTest(field="description", control=what):
                r = K.pizza.post(PIZZAS, dict(ok, description="thin" + c + "crust"),
                                 token=OWNER.token)
                self.assertProblem(r, 400, "description")
        for what, blank in BLANKS.items():
            with self.subTest(field="title", blank=what):
                r = K.pizza.post(PIZZAS, dict(ok, title=blank), token=OWNER.token)
                self.assertProblem(r, 400, "title")
        self.assertEqual(self.pizza_count(), before)
        desc = "thin crust\n\tsan marzano"
        r = K.pizza.post(PIZZAS, dict(ok, description=desc), token=OWNER.token)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(K.pizza.get(PIZZAS + "/" + r.json["id"], token=OWNER.token)
                         .json["description"], desc)


# ---------------------------------------------------------------- invalid UTF-8

BAD_UTF8 = (b"\xff", b"\xfe\xfe", b"\xc3\x28", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
            b"\xe2\x82")


def raw_request(port, method, target, body=None, headers=()):
    """One HTTP/1.1 request written byte for byte; returns (status, {lower name: value
    bytes}, body bytes). The connection is closed by the server (Connection: close)."""
    head = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1",
            b"Connection: close"]
    head += list(headers)
    if body is not None:
        head += [b"Content-Type: application/json", b"Content-Length: %d" % len(body)]
    data = b"\r\n".join(head) + b"\r\n\r\n" + (body or b"")
    raw_head, rest = raw_http(port, data, timeout=30)
    lines = raw_head.split(b"\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        hdrs[k.strip().lower().decode("latin-1")] = v.strip()
    return status, hdrs, rest


class TestInvalidUtf8(HostileTestCase):
    """Raw bytes that are not UTF-8 never reach a problem document or a log line as such."""

    def assertJsonDocument(self, hdrs, body, what):
        """A JSON answer is strict UTF-8 and parses."""
        ctype = hdrs.get("content-type", b"").decode("latin-1")
        if "json" not in ctype or not body:
            return None
        try:
            return json.loads(body.decode("utf-8", "strict"))
        except ValueError as e:
            self.fail("%s: the %s answer is not UTF-8 JSON (%s): %r" % (what, ctype, e,
                                                                         body[:300]))

    def test_body_that_is_not_utf8_is_refused(self):
        before = (self.tweet_count(OWNER), self.pizzeria_count())
        for bad in BAD_UTF8:
            cases = [
                (K.tweets, TWEETS, b'{"body":"ok","' + bad + b'":1}'),
                (K.tweets, TWEETS, b'{"body":"ok", "x' + bad + b'y":"v"}'),
                (K.tweets, TWEETS, b'{"body":"ok ' + bad + b'"}'),
                (K.pizza, PIZZERIAS, b'{"name":"N","address":"A","' + bad + b'":true}'),
                (K.likes, LIKES + "/" + PIZZA["id"], b'{"liked":true,"' + bad + b'":0}'),
                (K.auth, LOGIN, b'{"username":"admin","password":"x","' + bad + b'":1}'),
                (K.auth, SIGNUP, b'{"username":"abc","email":"a@b.io","password":"pw-pw-pw",'
                                 b'"' + bad + b'":1}'),
            ]
            for proc, path, body in cases:
                with self.subTest(path=path, body=body):
                    method = "PUT" if path.startswith(LIKES) else "POST"
                    status, hdrs, answer = raw_request(
                        proc.port, method, path.encode(), body,
                        [b"Authorization: Bearer " + OWNER.token.encode()])
                    self.assertEqual(status, 400, answer)
                    doc = self.assertJsonDocument(hdrs, answer, path)
                    self.assertEqual(hdrs.get("content-type"), b"application/problem+json")
                    self.assertEqual(doc["status"], 400, doc)
        self.assertEqual((self.tweet_count(OWNER), self.pizzeria_count()), before)
        self.assertProblem(K.likes.get(LIKES + "/" + PIZZA["id"], token=OWNER.token), 404)

    def test_text_filter_that_is_not_utf8_is_refused(self):
        """A query filter compared with stored text: never a match, and not for the store."""
        cases = [(K.tweets, "/api/v2/tweets?tweetedby=", "tweetedby"),
                 (K.auth, "/api/v1/users?username=", "username"),
                 (K.pizza, "/api/v1/pizzas?title__startswith=", "title__startswith")]
        for proc, prefix, field in cases:
            for bad in BAD_UTF8:
                for value in (bad, urllib.parse.quote_from_bytes(bad).encode()):
                    with self.subTest(path=prefix, value=value):
                        status, hdrs, body = raw_request(proc.port, "GET",
                                                         prefix.encode() + value)
                        self.assertEqual(status, 400, body)
                        doc = self.assertJsonDocument(hdrs, body, prefix)
                        self.assertIn(field, [e["field"] for e in doc.get("errors", [])], doc)
            with self.subTest(path=prefix, value="UTF-8"):
                r = proc.get(prefix + urllib.parse.quote("caf\u00e9 \U0001F355"))
                self.assertEqual(r.status, 200, r)

    def test_paths_queries_and_headers_then_every_log_line_is_json(self):
        targets = []
        for bad in BAD_UTF8:
            targets += [
                b"/api/v1/pizzas/" + bad,
                b"/api/v1/" + bad + b"/x?y=" + bad,
                b"/health?" + bad + b"=" + bad,
                b"/api/v2/tweets?tweetedby=" + bad + b"&limit=2",
                b"/api/v1/users?username=%" + bad.hex().encode()[:2],
                b"/api/v1/pizzas?title__startswith=" + bad,
                b"/api/v1/users?ids=" + bad,
                b"/api/v1/pizzas?pizzeria_id=" + bad,
                b"/api/v1/likes/counts?pizza_ids=" + bad,
                b"/api/v1/pizzas/%" + bad.hex().encode()[:2] + b"%ff",
                b"/" + bad + b"%00%ff%c0%af",
                b"/api/v1/pizzerias?owner_id=%ff%fe&limit=%c3%28",
            ]
        procs = (K.auth, K.pizza, K.likes, K.tweets)
        for proc in procs:
            for target in targets:
                for method in ("GET", "DELETE"):
                    with self.subTest(service=proc.name, target=target, method=method):
                        status, hdrs, body = raw_request(
                            proc.port, method, target,
                            headers=[b"X-Request-Id: req-" + BAD_UTF8[0],
                                     b"X-Forwarded-For: 10.0.0.1" + BAD_UTF8[2],
                                     b"Authorization: Bearer " + OWNER.token.encode()])
                        self.assertNotEqual(status, 0)
                        self.assertJsonDocument(hdrs, body, "%s %r" % (proc.name, target))
        # the log lines of those requests (and of every request of the module so far)
        marker = "/hostile-marker-" + os.urandom(4).hex()
        for proc in procs:
            self.assertProblem(proc.get(marker), 404)
        for proc in procs:
            wait_for(lambda: marker.encode() in self.stdout_bytes(proc), 10,
                     what="%s logs the marker request" % proc.name)
            self.assertEveryLineIsJson(proc)

    def stdout_bytes(self, proc):
        out = b""
        for i in range(1, proc.starts + 1):
            with open(os.path.join(proc.dir, "stdout-%d.log" % i), "rb") as f:
                out += f.read()
        return out

    def assertEveryLineIsJson(self, proc):
        lines = self.stdout_bytes(proc).split(b"\n")
        self.assertEqual(lines[-1], b"", "%s: the log ends mid-line" % proc.name)
        bad = []
        for n, line in enumerate(lines[:-1], 1):
            try:
                doc = json.loads(line.decode("utf-8", "strict"))
                if not isinstance(doc, dict):
                    raise ValueError("not an object")
            except ValueError as e:
                bad.append("line %d: %s: %r" % (n, e, line[:200]))
        self.assertEqual(bad, [], "%s: %d of %d log lines are not JSON" % (
            proc.name, len(bad), len(lines) - 1))


if __name__ == "__main__":
    unittest.main()
