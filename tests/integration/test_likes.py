"""Integration tests of the likes service (SPEC §5 likes, proto-docs/likes.openapi.yaml) over the
real tizza-auth, tizza-pizza, tizza-likes and tizza-tweets binaries and a real RabbitMQ node
(constellation.py), on the store backend TIZZA_TEST_BACKEND names.

One constellation serves the module. A chef owns one pizzeria with PIZZA_COUNT approved
pizzas (created by the admin, approved at once) and one unapproved pizza; each test judges
with users of its own, so the lists and counts it reads hold only its own verdicts.
likes runs with REMOTE_BREAKER_COOLDOWN_MS=1000: the test that stops pizza watches likes'
circuit breaker open (metrics) and then close again by itself once pizza is back.
"""
import time
import unittest

from constellation import NO_SUCH_ID, Constellation, wait_for
from harness import ServiceTestCase, path_of, started

LIKES = "/api/v1/likes"
LIKE_KEYS = {"id", "user_id", "pizza_id", "liked", "created_at", "updated_at"}
PIZZA_COUNT = 22
COOLDOWN_S = 1.0

K = None
CHEF = None
PIZZERIA = None
PIZZAS = []        # approved pizzas (dicts), oldest first
UNAPPROVED = None  # the chef's unapproved pizza


def setUpModule():
    global K
    K = started(Constellation(env={"likes": {"REMOTE_BREAKER_COOLDOWN_MS":
                                             str(int(COOLDOWN_S * 1000))}}), fixtures)


def fixtures(k):
    global CHEF, PIZZERIA, UNAPPROVED
    CHEF = k.signup("chef")
    PIZZERIA = k.pizzeria(CHEF, name="Likes test")
    for i in range(PIZZA_COUNT):
        PIZZAS.append(k.new_pizza(k.admin, PIZZERIA["id"], title="L%02d" % i, approved=True))
    UNAPPROVED = k.new_pizza(CHEF, PIZZERIA["id"], title="Chef's secret")


def tearDownModule():
    if K is not None:
        K.teardown()


class LikesTestCase(ServiceTestCase):

    def put(self, user, pizza_id, body, token=None):
        return K.likes.put(LIKES + "/" + pizza_id, body,
                           token=token if token is not None else user.token)

    def assertLike(self, like, user, pizza_id, liked):
        self.assertEqual(set(like), LIKE_KEYS, like)
        self.assertObjectId(like["id"])
        self.assertEqual((like["user_id"], like["pizza_id"], like["liked"]),
                         (user.id, pizza_id, liked))
        self.assertIsoMs(like["created_at"])
        self.assertIsoMs(like["updated_at"])

    def pizza_list_requests(self):
        """pizza's count of answered GET /api/v1/pizzas (the batch route) with 200."""
        return K.pizza.metric("tizza_http_requests_total",
                              {"route": "/api/v1/pizzas", "method": "GET", "status": "200"}) or 0


# ================================================================ PUT / GET / DELETE

class TestVerdicts(LikesTestCase):

    def test_first_verdict_201_then_200(self):
        u = K.signup("lk")
        pid = PIZZAS[0]["id"]
        r = self.put(u, pid, {"liked": True})
        self.assertEqual(r.status, 201, r)
        self.assertLike(r.json, u, pid, True)
        first = r.json
        loc = r.headers.get("Location") or ""
        self.assertTrue(loc.endswith(LIKES + "/" + pid), loc)
        got = K.likes.get(path_of(loc), token=u.token)
        self.assertEqual(got.status, 200, got)
        self.assertEqual(got.json, first)
        time.sleep(0.002)  # updated_at has millisecond resolution
        r = self.put(u, pid, {"liked": False})
        self.assertEqual(r.status, 200, r)
        self.assertLike(r.json, u, pid, False)
        self.assertEqual(r.json["id"], first["id"])
        self.assertEqual(r.json["created_at"], first["created_at"])
        self.assertGreaterEqual(r.json["updated_at"], first["updated_at"])
        self.assertIsNone(r.headers.get("Location"))
        r = self.put(u, pid, {"liked": False})  # the same verdict again
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["id"], first["id"])
        self.assertEqual(K.likes.get(LIKES + "/" + pid, token=u.token).json["liked"], False)
        self.assertEqual(K.counts([pid])[pid]["dislikes"] >= 1, True)
        # a verdict is its giver's own
        self.assertProblem(K.likes.get(LIKES + "/" + pid, token=K.signup("lk").token), 404)

    def test_body_validation(self):
        u = K.signup("lk")
        pid = PIZZAS[1]["id"]
        cases = [({}, "liked"), ({"liked": "true"}, "liked"), ({"liked": 1}, "liked"),
                 ({"liked": None}, "liked"), ({"liked": True, "stars": 5}, "stars"),
                 ({"liked": True, "user_id": CHEF.id}, "user_id")]
        for body, field in cases:
            with self.subTest(body=body):
                self.assertProblem(self.put(u, pid, body), 400, field)
        self.assertProblem(self.put(u, pid, [True]), 400)
        r = K.likes.req("PUT", LIKES + "/" + pid, token=u.token, raw=b"{liked: true",
                        content_type="application/json")
        self.assertProblem(r, 400)
        r = K.likes.req("PUT", LIKES + "/" + pid, token=u.token, raw=b'{"liked": true}',
                        content_type="text/plain")
        self.assertProblem(r, 415)
        # nothing was stored
        self.assertProblem(K.likes.get(LIKES + "/" + pid, token=u.token), 404)
        self.assertEqual(K.likes.get(LIKES, token=u.token).json["count"], 0)

    def test_needs_a_token(self):
        pid = PIZZAS[2]["id"]
        self.assertProblem(K.likes.put(LIKES + "/" + pid, {"liked": True}), 401)
        self.assertProblem(K.likes.put(LIKES + "/" + pid, {"liked": True}, token="x.y.z"), 401)
        self.assertProblem(K.likes.delete(LIKES + "/" + pid), 401)
        self.assertProblem(K.likes.get(LIKES + "/" + pid), 401)
        self.assertProblem(K.likes.get(LIKES), 401)
        self.assertProblem(K.likes.get(LIKES + "/seen"), 401)

    def test_pizza_must_exist_for_the_caller(self):
        u = K.signup("lk")
        for pid, why in ((NO_SUCH_ID, "unknown"), ("not-a-pizza-id", "malformed"),
                         ("0123456789ABCDEF01234567", "upper-case hex"),
                         (UNAPPROVED["id"], "another user's unapproved pizza")):
            with self.subTest(why=why):
                self.assertProblem(self.put(u, pid, {"liked": True}), 422)
        self.assertEqual(K.likes.get(LIKES, token=u.token).json["count"], 0)
        # the owner sees their unapproved pizza, so may judge it (the token is forwarded)
        r = self.put(CHEF, UNAPPROVED["id"], {"liked": True})
        self.assertEqual(r.status, 201, r)
        self.assertLike(r.json, CHEF, UNAPPROVED["id"], True)
        # also when signed in with the cookie instead of the Authorization header
        u2 = K.signup("lk")
        pz = K.pizzeria(u2, name="Cookie")
        own = K.new_pizza(u2, pz["id"], title="Cookie's own")
        r = K.likes.put(LIKES + "/" + own["id"], {"liked": True},
                        headers={"Cookie": "tizza_access=" + u2.token})
        self.assertEqual(r.status, 201, r)
        self.assertLike(r.json, u2, own["id"], True)
        # and so may the admin
        r = self.put(K.admin, UNAPPROVED["id"], {"liked": False})
        self.assertIn(r.status, (200, 201), r)

    def test_versions_etags_and_preconditions(self):
        """A verdict answers a strong ETag (1 when created, one more per change); 304 to
        If-None-Match; PUT and DELETE with a stale If-Match are 412 with the current ETag
        and change nothing; If-Match on a verdict that does not exist is 412 too."""
        user, pid = K.signup("lkv"), PIZZAS[1]["id"]
        url = LIKES + "/" + pid
        self.assertProblem(K.likes.put(url, {"liked": True}, token=user.token,
                                       headers={"If-Match": "*"}), 412)
        r = K.likes.put(url, {"liked": True}, token=user.token)
        self.assertEqual((r.status, r.headers.get("ETag")), (201, '"1"'))
        self.assertNotIn("version", r.json)
        self.assertEqual(K.likes.get(url, token=user.token,
                                     headers={"If-None-Match": '"1"'}).status, 304)
        r = K.likes.put(url, {"liked": False}, token=user.token, headers={"If-Match": '"1"'})
        self.assertEqual((r.status, r.headers.get("ETag"), r.json["liked"]), (200, '"2"', False))
        r = K.likes.put(url, {"liked": True}, token=user.token, headers={"If-Match": '"1"'})
        self.assertProblem(r, 412)
        self.assertEqual(r.headers.get("ETag"), '"2"')
        self.assertProblem(K.likes.delete(url, token=user.token, headers={"If-Match": '"1"'}),
                           412)
        self.assertFalse(K.likes.get(url, token=user.token).json["liked"])
        self.assertEqual(K.likes.delete(url, token=user.token,
                                        headers={"If-Match": '"2"'}).status, 204)

    def test_delete_then_404(self):
        u = K.signup("lk")
        pid = PIZZAS[3]["id"]
        before = K.counts([pid])[pid]
        self.assertEqual(self.put(u, pid, {"liked": True}).status, 201)
        self.assertEqual(K.counts([pid])[pid]["likes"], before["likes"] + 1)
        r = K.likes.delete(LIKES + "/" + pid, token=u.token)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.raw, b"")
        self.assertProblem(K.likes.delete(LIKES + "/" + pid, token=u.token), 404)
        self.assertProblem(K.likes.get(LIKES + "/" + pid, token=u.token), 404)
        self.assertEqual(K.counts([pid])[pid], before)
        self.assertProblem(K.likes.delete(LIKES + "/" + NO_SUCH_ID, token=u.token), 404)
        self.assertProblem(K.likes.delete(LIKES + "/bogus", token=u.token), 404)
        # a new verdict after the withdrawal is a first verdict again
        self.assertEqual(self.put(u, pid, {"liked": False}).status, 201)


# ================================================================ lists, seen, counts

class TestLists(LikesTestCase):

    @classmethod
    def setUpClass(cls):
        cls.user = K.signup("lst")
        cls.verdicts = []  # (pizza_id, liked) in the order given
        for i, p in enumerate(PIZZAS[:7]):
            liked = i % 2 == 0  # 4 likes, 3 dislikes
            K.judge(cls.user, p["id"], liked)
            cls.verdicts.append((p["id"], liked))
            time.sleep(0.002)  # distinct updated_at
        K.judge(CHEF, PIZZAS[0]["id"], False)  # somebody else's verdict: never listed

    def test_list_newest_first_and_pagination(self):
        want = [pid for pid, _ in reversed(self.verdicts)]
        got, path, pages = [], LIKES + "?limit=3", 0
        while path:
            r = K.likes.get(path, token=self.user.token)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["count"], 7)
            self.assertEqual(r.json["previous"] is None, pages == 0)
            self.assertNotIn("pizza_expanded", r.json)
            for like in r.json["results"]:
                self.assertEqual(set(like), LIKE_KEYS)
                self.assertEqual(like["user_id"], self.user.id)
            got += [like["pizza_id"] for like in r.json["results"]]
            path = path_of(r.json["next"]) if r.json["next"] else None
            pages += 1
        self.assertEqual(pages, 3)
        self.assertEqual(got, want)
        r = K.likes.get(LIKES, token=self.user.token)
        self.assertEqual(len(r.json["results"]), 5)  # default page size
        self.assertProblem(K.likes.get(LIKES + "?limit=0", token=self.user.token), 400, "limit")
        self.assertProblem(K.likes.get(LIKES + "?limit=101", token=self.user.token), 400,
                           "limit")

    def test_liked_filter(self):
        for value, want in (("true", True), ("false", False)):
            with self.subTest(liked=value):
                r = K.likes.get(LIKES + "?limit=100&liked=" + value, token=self.user.token)
                self.assertEqual(r.status, 200, r)
                expected = [pid for pid, liked in reversed(self.verdicts) if liked is want]
                self.assertEqual([x["pizza_id"] for x in r.json["results"]], expected)
                self.assertEqual(r.json["count"], len(expected))
                self.assertTrue(all(x["liked"] is want for x in r.json["results"]))
        r = K.likes.get(LIKES + "?liked=true&limit=2", token=self.user.token)
        self.assertEqual((r.json["count"], len(r.json["results"])), (4, 2))
        self.assertIn("liked=true", r.json["next"])
        for bad in ("yes", "1", ""):
            with self.subTest(bad=bad):
                self.assertProblem(K.likes.get(LIKES + "?liked=" + bad, token=self.user.token),
                                   400, "liked")
        self.assertProblem(K.likes.get(LIKES + "?expand=pizzeria", token=self.user.token), 400,
                           "expand")

    def test_changing_a_verdict_moves_it_to_the_top(self):
        u = K.signup("top")
        for p in PIZZAS[:3]:
            K.judge(u, p["id"], True)
            time.sleep(0.002)
        K.judge(u, PIZZAS[0]["id"], False)
        r = K.likes.get(LIKES, token=u.token)
        self.assertEqual([x["pizza_id"] for x in r.json["results"]],
                         [PIZZAS[0]["id"], PIZZAS[2]["id"], PIZZAS[1]["id"]])

    def test_seen(self):
        r = K.likes.get(LIKES + "/seen", token=self.user.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(sorted(r.json["pizza_ids"]), sorted(pid for pid, _ in self.verdicts))
        fresh = K.signup("seen")
        r = K.likes.get(LIKES + "/seen", token=fresh.token)
        self.assertEqual((r.status, r.json), (200, {"pizza_ids": []}))

    def test_counts(self):
        a, b = (K.new_pizza(K.admin, PIZZERIA["id"], title=t, approved=True)["id"]
                for t in ("Counted A", "Counted B"))
        users = K.signup_many(3, "cnt")
        K.judge(users[0], a, True)
        K.judge(users[1], a, True)
        K.judge(users[2], a, False)
        K.judge(users[0], b, False)
        r = K.likes.get(LIKES + "/counts?pizza_ids=%s,%s,%s,%s" % (a, b, NO_SUCH_ID, a))
        self.assertEqual(r.status, 200, r)  # public: no token
        self.assertEqual(r.json, {"counts": {a: {"likes": 2, "dislikes": 1},
                                             b: {"likes": 0, "dislikes": 1},
                                             NO_SUCH_ID: {"likes": 0, "dislikes": 0}}})
        hundred = ",".join("%024x" % i for i in range(100))
        r = K.likes.get(LIKES + "/counts?pizza_ids=" + hundred)
        self.assertEqual((r.status, len(r.json["counts"])), (200, 100))
        for bad in (hundred + ",%024x" % 100, "abc", a + ",", a + ",,," + b, ""):
            with self.subTest(bad=bad[:40] + "... (%d)" % len(bad)):
                self.assertProblem(K.likes.get(LIKES + "/counts?pizza_ids=" + bad), 400,
                                   "pizza_ids")
        self.assertProblem(K.likes.get(LIKES + "/counts"), 400, "pizza_ids")


class TestExpand(LikesTestCase):

    def test_expand_pizza_is_one_batched_request(self):
        u = K.signup("exp")
        for p in PIZZAS[:21]:
            K.judge(u, p["id"], True)
        before = self.pizza_list_requests()
        r = K.likes.get(LIKES + "?expand=pizza&limit=20", token=u.token)
        after = self.pizza_list_requests()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(after - before, 1, "pizza's GET /api/v1/pizzas requests for one page "
                                            "of 20 expanded likes")
        self.assertIs(r.json["pizza_expanded"], True)
        self.assertEqual((r.json["count"], len(r.json["results"])), (21, 20))
        by_id = {p["id"]: p for p in PIZZAS}
        for like in r.json["results"]:
            self.assertEqual(set(like), LIKE_KEYS | {"pizza"})
            self.assertEqual(like["pizza"]["id"], like["pizza_id"])
            self.assertEqual(like["pizza"]["title"], by_id[like["pizza_id"]]["title"])
        self.assertIn("expand=pizza", r.json["next"])
        # the second page: one more request
        r = K.likes.get(path_of(r.json["next"]), token=u.token)
        self.assertEqual(len(r.json["results"]), 1)
        self.assertEqual(self.pizza_list_requests() - after, 1)
        # without expand: no request to pizza at all
        after = self.pizza_list_requests()
        K.likes.get(LIKES + "?limit=20", token=u.token)
        self.assertEqual(self.pizza_list_requests(), after)

    def test_expand_shows_null_for_a_pizza_no_longer_visible(self):
        u = K.signup("exp2")
        p = K.new_pizza(K.admin, PIZZERIA["id"], title="Soon hidden", approved=True)
        K.judge(u, PIZZAS[0]["id"], True)
        K.judge(u, p["id"], True)
        K.approve(p["id"], False)  # the chef's again, invisible to u
        r = K.likes.get(LIKES + "?expand=pizza", token=u.token)
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json["pizza_expanded"], True)
        got = {x["pizza_id"]: x["pizza"] for x in r.json["results"]}
        self.assertIsNone(got[p["id"]])
        self.assertEqual(got[PIZZAS[0]["id"]]["id"], PIZZAS[0]["id"])


# ================================================================ pizza down

class TestTop(LikesTestCase):
    """GET /api/v1/likes/top: the most liked pizzas of the last days, counted by likes."""

    def top(self, query="", token=None):
        r = K.likes.get(LIKES + "/top" + query, token=token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json) - {"pizza_expanded"}, {"days", "since", "partial",
                                                             "results"}, r.json)
        self.assertIs(r.json["partial"], False)
        return r.json

    def test_most_liked_first_dislikes_not_counted(self):
        a, b, c = (K.new_pizza(K.admin, PIZZERIA["id"], title="Top " + t, approved=True)["id"]
                   for t in "ABC")
        fans = K.signup_many(3, "top")
        for i, u in enumerate(fans):
            K.judge(u, a, True)
            if i < 2:
                K.judge(u, b, True)
        K.judge(fans[0], c, True)
        K.judge(fans[1], c, False)
        K.judge(fans[2], c, False)
        body = self.top("?limit=50")
        self.assertEqual(body["days"], 7)
        self.assertIsoMs(body["since"])
        got = {r["pizza_id"]: r["likes"] for r in body["results"]}
        self.assertEqual((got.get(a), got.get(b), got.get(c)), (3, 2, 1))
        order = [r["pizza_id"] for r in body["results"]]
        self.assertLess(order.index(a), order.index(b))
        self.assertLess(order.index(b), order.index(c))
        counts = [r["likes"] for r in body["results"]]
        self.assertEqual(counts, sorted(counts, reverse=True))
        self.assertLessEqual(len(self.top("?limit=2")["results"]), 2)
        # a like turned into a dislike leaves the count
        K.judge(fans[2], a, False)
        got = {r["pizza_id"]: r["likes"] for r in self.top("?limit=50")["results"]}
        self.assertEqual(got.get(a), 2)

    def test_expand_embeds_and_leaves_out_what_pizza_does_not_show(self):
        seen = K.new_pizza(K.admin, PIZZERIA["id"], title="Top shown", approved=True)["id"]
        cook = K.signup("cook")
        hidden = K.new_pizza(cook, K.pizzeria(cook, name="Cook's")["id"], title="Secret")["id"]
        K.judge(cook, hidden, True)  # an owner may like their own, unapproved pizza
        K.judge(cook, seen, True)
        self.assertIn(hidden, {r["pizza_id"] for r in self.top("?limit=50")["results"]})
        body = self.top("?limit=50&expand=pizza")
        self.assertIs(body["pizza_expanded"], True)
        rows = {r["pizza_id"]: r for r in body["results"]}
        self.assertIn(seen, rows)
        self.assertEqual(rows[seen]["pizza"]["title"], "Top shown")
        self.assertNotIn(hidden, rows)  # not public: left out
        for r in body["results"]:
            self.assertEqual(r["pizza"]["id"], r["pizza_id"])
        # its owner sees it, as pizza shows it to them
        mine = self.top("?limit=50&expand=pizza", token=cook.token)
        self.assertIn(hidden, {r["pizza_id"] for r in mine["results"]})

    def test_bad_parameters(self):
        for q in ("?days=0", "?days=366", "?days=x", "?days=-1", "?limit=0", "?limit=51",
                  "?limit=1.5", "?expand=pizzas", "?expand="):
            with self.subTest(q=q):
                self.assertProblem(K.likes.get(LIKES + "/top" + q), 400)
        self.assertEqual(self.top("?days=365&limit=50")["days"], 365)


class TestPizzaDown(LikesTestCase):

    def remote(self, result):
        return K.likes.metric("tizza_remote_requests_total",
                              {"target": K.pizza.base, "result": result}) or 0

    def breaker(self):
        return K.likes.metric("tizza_remote_breaker_open", {"target": K.pizza.base})

    def test_breaker_opens_and_closes_by_itself(self):
        u = K.signup("down")
        K.judge(u, PIZZAS[0]["id"], True)
        self.assertEqual(self.breaker(), 0)
        K.stop_service("pizza")
        try:
            # every PUT needs pizza: 503 + Retry-After, until the breaker opens
            for i in range(8):
                r = self.put(u, PIZZAS[1]["id"], {"liked": True})
                self.assertProblem(r, 503)
                self.assertRegex(r.headers.get("Retry-After") or "", r"^\d+$", r)
                if self.breaker() == 1:
                    break
            self.assertEqual(self.breaker(), 1, "breaker still closed after %d failures" % (i + 1))
            fast = self.remote("breaker_open")
            t0 = time.monotonic()
            r = self.put(u, PIZZAS[1]["id"], {"liked": True})
            self.assertProblem(r, 503)
            self.assertTrue(r.headers.get("Retry-After"), r)
            self.assertLess(time.monotonic() - t0, 1.0)  # failed fast
            self.assertEqual(self.remote("breaker_open"), fast + 1)
            # lists still answer, without pizzas
            r = K.likes.get(LIKES + "?expand=pizza", token=u.token)
            self.assertEqual(r.status, 200, r)
            self.assertIs(r.json["pizza_expanded"], False)
            self.assertEqual(len(r.json["results"]), 1)
            self.assertIsNone(r.json["results"][0]["pizza"])
            self.assertEqual(K.likes.get(LIKES, token=u.token).status, 200)
            # what needs no pizza still works
            self.assertEqual(K.likes.delete(LIKES + "/" + PIZZAS[0]["id"], token=u.token).status,
                             204)
            self.assertEqual(K.likes.get(LIKES + "/seen", token=u.token).json,
                             {"pizza_ids": []})
        finally:
            K.start_service("pizza")
        t0 = time.monotonic()
        ok = wait_for(lambda: self.put(u, PIZZAS[1]["id"], {"liked": True}).status == 201,
                      COOLDOWN_S + 4.0, 0.1, "PUT to succeed again after pizza restarted")
        self.assertTrue(ok)
        self.assertLess(time.monotonic() - t0, COOLDOWN_S + 4.0)
        self.assertEqual(self.breaker(), 0)
        r = K.likes.get(LIKES + "?expand=pizza", token=u.token)
        self.assertIs(r.json["pizza_expanded"], True)
        self.assertEqual(r.json["results"][0]["pizza"]["id"], PIZZAS[1]["id"])


if __name__ == "__main__":
    unittest.main()
