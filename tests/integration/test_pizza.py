"""Integration tests of the pizza service (SPEC §5 pizza, proto-docs/pizza.openapi.yaml) over the
real tizza-auth, tizza-pizza, tizza-likes and tizza-tweets binaries and a real RabbitMQ node
(constellation.py), on the store backend TIZZA_TEST_BACKEND names.

One constellation serves the module (setUpModule). Tests that depend on what a list holds
work inside a pizzeria of their own (?pizzeria_id=), so they do not see each other's data.
The random-pizza tests look at every approved pizza of the constellation, which they list
first. pizza runs with REMOTE_BREAKER_COOLDOWN_MS=1000 so that after the test that stops
likes, pizza's breaker towards likes closes again quickly. When the module ends every
service gets SIGTERM: exit 0 and no sanitizer report.
"""
import time
import unittest
import urllib.parse

from constellation import NO_SUCH_ID, Constellation, wait_for
from harness import ServiceTestCase, in_parallel, path_of, started

PIZZERIAS = "/api/v1/pizzerias"
PIZZAS = "/api/v1/pizzas"
RANDOM = "/api/v1/pizzas/random"
PIZZERIA_KEYS = {"id", "owner_id", "name", "address", "phone", "created_at", "updated_at"}
PIZZA_KEYS = {"id", "pizzeria_id", "owner_id", "title", "description", "thumbnail_url",
              "kind", "approved", "status", "rejection_reason", "created_at", "updated_at",
              "picture"}

K = None
OWNER = OTHER = ADMIN = None


def setUpModule():
    global K
    K = started(Constellation(env={"pizza": {"REMOTE_BREAKER_COOLDOWN_MS": "1000"}}), fixtures)


def fixtures(k):
    global OWNER, OTHER, ADMIN
    OWNER, OTHER = k.signup_many(2, "pz")
    ADMIN = k.admin


def tearDownModule():
    if K is not None:
        K.teardown()


def approved_ids():
    """Every approved pizza of the constellation (following the pages)."""
    ids, path = [], PIZZAS + "?approved=true&limit=100"
    while path:
        r = K.pizza.get(path)
        if r.status != 200:
            raise AssertionError("list approved pizzas: %r" % r)
        ids += [p["id"] for p in r.json["results"]]
        path = path_of(r.json["next"]) if r.json["next"] else None
    if len(ids) != len(set(ids)):
        raise AssertionError("a pizza listed twice across pages: %s" % ids)
    return set(ids)


class PizzaTestCase(ServiceTestCase):

    def assertPizzeria(self, p, owner=None):
        self.assertIsInstance(p, dict)
        self.assertEqual(set(p), PIZZERIA_KEYS, p)
        self.assertObjectId(p["id"])
        self.assertIsoMs(p["created_at"])
        self.assertIsoMs(p["updated_at"])
        if owner is not None:
            self.assertEqual(p["owner_id"], owner.id)

    def assertPizza(self, p):
        self.assertIsInstance(p, dict)
        self.assertEqual(set(p), PIZZA_KEYS, p)
        self.assertObjectId(p["id"])
        self.assertObjectId(p["pizzeria_id"])
        self.assertIn(p["kind"], ("meat", "vegetarian", "vegan"))
        self.assertIsInstance(p["approved"], bool)
        self.assertIn(p["status"], ("pending", "approved", "rejected"))
        self.assertEqual(p["approved"], p["status"] == "approved", p)
        self.assertEqual(p["rejection_reason"] is None, p["status"] != "rejected", p)
        self.assertIsoMs(p["created_at"])

    def list_ids(self, query, token=None):
        r = K.pizza.get(PIZZAS + "?" + query, token=token)
        self.assertEqual(r.status, 200, r)
        return [p["id"] for p in r.json["results"]]

    def all_approved_ids(self):
        return approved_ids()


# ================================================================ pizzerias

class TestPizzerias(PizzaTestCase):

    def test_create_get_and_location(self):
        body = {"name": "Da Michele", "address": "Via Cesare Sersale 1, Napoli",
                "phone": "+39 (081) 553-9204"}
        r = K.pizza.post(PIZZERIAS, body, token=OWNER.token)
        self.assertEqual(r.status, 201, r)
        self.assertPizzeria(r.json, OWNER)
        for k, v in body.items():
            self.assertEqual(r.json[k], v)
        loc = r.headers.get("Location") or ""
        self.assertTrue(loc.startswith("http") and loc.endswith(PIZZERIAS + "/" + r.json["id"]),
                        loc)
        got = K.pizza.get(path_of(loc))  # public read
        self.assertEqual(got.status, 200, got)
        self.assertEqual(got.json, r.json)

    def test_phone_is_optional(self):
        r = K.pizza.post(PIZZERIAS, {"name": "No Phone", "address": "x"}, token=OWNER.token)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["phone"], "")

    def test_methods(self):
        r = K.pizza.post(PIZZERIAS + "/" + NO_SUCH_ID, {}, token=OWNER.token)
        self.assertProblem(r, 405)
        allow = {m.strip() for m in (r.headers.get("Allow") or "").split(",")}
        self.assertTrue({"GET", "PUT", "PATCH", "DELETE"} <= allow, allow)
        self.assertNotIn("POST", allow)
        r = K.pizza.req("HEAD", PIZZERIAS)
        self.assertEqual((r.status, r.raw), (200, b""))
        self.assertProblem(K.pizza.req("DELETE", PIZZERIAS, token=OWNER.token), 405)
        self.assertProblem(K.pizza.get("/api/v1/pizzerias-nope"), 404)

    def test_create_needs_a_token(self):
        r = K.pizza.post(PIZZERIAS, {"name": "N", "address": "A"})
        self.assertProblem(r, 401)
        r = K.pizza.post(PIZZERIAS, {"name": "N", "address": "A"}, token="not.a.jwt")
        self.assertProblem(r, 401)

    def test_validation(self):
        ok = {"name": "N", "address": "A", "phone": "0"}
        cases = [
            ({"owner_id": OTHER.id}, "owner_id"),              # unknown field (never taken)
            ({"colour": "red"}, "colour"),
            ({"name": "n" * 121}, "name"),
            ({"name": ""}, "name"),
            ({"name": 5}, "name"),
            ({"address": "a" * 513}, "address"),
            ({"address": ""}, "address"),
            ({"phone": "1" * 41}, "phone"),
            ({"phone": "555-CALL-NOW"}, "phone"),
            ({"phone": "12;34"}, "phone"),
        ]
        for change, field in cases:
            body = dict(ok, **change)
            with self.subTest(body=str(body)[:80]):
                r = K.pizza.post(PIZZERIAS, body, token=OWNER.token)
                self.assertProblem(r, 400, field)
        for missing in ("name", "address"):
            with self.subTest(missing=missing):
                body = {k: v for k, v in ok.items() if k != missing}
                self.assertProblem(K.pizza.post(PIZZERIAS, body, token=OWNER.token), 400,
                                   missing)
        # the limits themselves are fine
        r = K.pizza.post(PIZZERIAS, {"name": "n" * 120, "address": "a" * 512,
                                     "phone": "+() -0123456789" + "1" * 25}, token=OWNER.token)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(len(r.json["phone"]), 40)
        # not JSON / wrong content type
        r = K.pizza.req("POST", PIZZERIAS, token=OWNER.token, raw=b"{nope",
                        content_type="application/json")
        self.assertProblem(r, 400)
        r = K.pizza.req("POST", PIZZERIAS, token=OWNER.token,
                        raw=b'{"name":"N","address":"A"}', content_type="text/plain")
        self.assertProblem(r, 415)

    def test_put_needs_every_field(self):
        pz = K.pizzeria(OWNER, name="Before", address="Old St", phone="1")
        url = PIZZERIAS + "/" + pz["id"]
        r = K.pizza.put(url, {"name": "After"}, token=OWNER.token)
        body = self.assertProblem(r, 400)
        fields = {e["field"] for e in body.get("errors") or []}
        self.assertTrue({"address", "phone"} <= fields, body)
        self.assertEqual(K.pizza.get(url).json["name"], "Before")  # nothing written
        r = K.pizza.put(url, {"name": "After", "address": "New St", "phone": "2"},
                        token=OWNER.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["name"], r.json["address"], r.json["phone"]),
                         ("After", "New St", "2"))
        self.assertEqual(r.json["owner_id"], OWNER.id)
        self.assertEqual(r.json["created_at"], pz["created_at"])
        self.assertEqual(K.pizza.get(url).json, r.json)
        r = K.pizza.put(url, {"name": "After", "address": "New St", "phone": "2",
                              "extra": 1}, token=OWNER.token)
        self.assertProblem(r, 400, "extra")

    def test_patch_is_partial(self):
        pz = K.pizzeria(OWNER, name="Patchy", address="Side St", phone="123")
        url = PIZZERIAS + "/" + pz["id"]
        r = K.pizza.patch(url, {"phone": "456"}, token=OWNER.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["name"], r.json["address"], r.json["phone"]),
                         ("Patchy", "Side St", "456"))
        self.assertEqual(K.pizza.get(url).json, r.json)
        r = K.pizza.patch(url, {}, token=OWNER.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["phone"], "456")
        self.assertProblem(K.pizza.patch(url, {"name": ""}, token=OWNER.token), 400, "name")
        self.assertProblem(K.pizza.patch(url, {"phone": "x"}, token=OWNER.token), 400, "phone")
        self.assertEqual(K.pizza.get(url).json["phone"], "456")

    def test_owner_and_admin_rules(self):
        pz = K.pizzeria(OWNER, name="Mine")
        url = PIZZERIAS + "/" + pz["id"]
        full = {"name": "Theirs", "address": "B", "phone": ""}
        # anonymous: 401; another user: 403; nothing changes
        self.assertProblem(K.pizza.patch(url, {"name": "X"}), 401)
        self.assertProblem(K.pizza.put(url, full), 401)
        self.assertProblem(K.pizza.delete(url), 401)
        self.assertProblem(K.pizza.patch(url, {"name": "X"}, token=OTHER.token), 403)
        self.assertProblem(K.pizza.put(url, full, token=OTHER.token), 403)
        self.assertProblem(K.pizza.delete(url, token=OTHER.token), 403)
        self.assertEqual(K.pizza.get(url).json["name"], "Mine")
        # unknown and malformed ids: 404
        for bad in (NO_SUCH_ID, "nope"):
            with self.subTest(id=bad):
                self.assertProblem(K.pizza.get(PIZZERIAS + "/" + bad), 404)
                self.assertProblem(K.pizza.patch(PIZZERIAS + "/" + bad, {"name": "X"},
                                                 token=OWNER.token), 404)
                self.assertProblem(K.pizza.delete(PIZZERIAS + "/" + bad, token=OWNER.token), 404)
        # the admin may change and delete anyone's pizzeria; it keeps its owner
        r = K.pizza.patch(url, {"name": "Renamed by admin"}, token=ADMIN.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["owner_id"], OWNER.id)
        r = K.pizza.delete(url, token=ADMIN.token)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.raw, b"")
        self.assertProblem(K.pizza.get(url), 404)
        # and the owner may delete their own
        pz2 = K.pizzeria(OWNER)
        self.assertEqual(K.pizza.delete(PIZZERIAS + "/" + pz2["id"], token=OWNER.token).status,
                         204)
        self.assertProblem(K.pizza.delete(PIZZERIAS + "/" + pz2["id"], token=OWNER.token), 404)

    def test_list_owner_filter_and_pagination(self):
        user = K.signup("pzl")
        made = [K.pizzeria(user, name="P%d" % i)["id"] for i in range(4)]
        K.pizzeria(OTHER, name="not theirs")
        r = K.pizza.get(PIZZERIAS + "?owner_id=%s&limit=3" % user.id)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["count"], 4)
        self.assertEqual(len(r.json["results"]), 3)
        self.assertIsNone(r.json["previous"])
        self.assertIn("offset=3", r.json["next"])
        for p in r.json["results"]:
            self.assertPizzeria(p, user)
        r2 = K.pizza.get(path_of(r.json["next"]))
        self.assertEqual(r2.status, 200, r2)
        self.assertIsNone(r2.json["next"])
        self.assertIsNotNone(r2.json["previous"])
        ids = [p["id"] for p in r.json["results"] + r2.json["results"]]
        self.assertEqual(ids, list(reversed(made)))  # newest first, nothing twice
        self.assertProblem(K.pizza.get(PIZZERIAS + "?owner_id=zzz"), 400, "owner_id")
        self.assertProblem(K.pizza.get(PIZZERIAS + "?limit=0"), 400, "limit")
        self.assertProblem(K.pizza.get(PIZZERIAS + "?limit=101"), 400, "limit")
        self.assertProblem(K.pizza.get(PIZZERIAS + "?offset=-1"), 400, "offset")
        r = K.pizza.get(PIZZERIAS + "?owner_id=" + NO_SUCH_ID)
        self.assertEqual((r.status, r.json["count"], r.json["results"]), (200, 0, []))


# ================================================================ pizzas: writes

class TestPizzaWrites(PizzaTestCase):

    @classmethod
    def setUpClass(cls):
        cls.pz = K.pizzeria(OWNER, name="Writes")

    def body(self, **kw):
        b = {"pizzeria_id": self.pz["id"], "title": "Diavola", "kind": "meat"}
        b.update(kw)
        return b

    def test_create_by_owner(self):
        r = K.pizza.post(PIZZAS, self.body(description="spicy",
                                           thumbnail_url="https://img.example/d.png"),
                         token=OWNER.token)
        self.assertEqual(r.status, 201, r)
        self.assertPizza(r.json)
        p = r.json
        self.assertEqual((p["pizzeria_id"], p["owner_id"], p["title"], p["kind"],
                          p["description"], p["thumbnail_url"], p["approved"]),
                         (self.pz["id"], OWNER.id, "Diavola", "meat", "spicy",
                          "https://img.example/d.png", False))
        loc = r.headers.get("Location") or ""
        self.assertTrue(loc.endswith(PIZZAS + "/" + p["id"]), loc)
        got = K.pizza.get(path_of(loc), token=OWNER.token)
        self.assertEqual(got.status, 200, got)
        self.assertEqual(got.json, p)
        r = K.pizza.post(PIZZAS, self.body(), token=OWNER.token)
        self.assertEqual((r.json["description"], r.json["thumbnail_url"]), ("", ""))

    def test_create_refusals(self):
        before = len(self.list_ids("pizzeria_id=" + self.pz["id"] + "&limit=100", ADMIN.token))
        self.assertProblem(K.pizza.post(PIZZAS, self.body()), 401)
        self.assertProblem(K.pizza.post(PIZZAS, self.body(), token=OTHER.token), 403)
        self.assertProblem(K.pizza.post(PIZZAS, self.body(pizzeria_id=NO_SUCH_ID),
                                        token=OWNER.token), 422)
        for approved in (True, False):
            with self.subTest(approved=approved):
                self.assertProblem(K.pizza.post(PIZZAS, self.body(approved=approved),
                                                token=OWNER.token), 403)
        self.assertEqual(len(self.list_ids("pizzeria_id=" + self.pz["id"] + "&limit=100",
                                           ADMIN.token)), before)  # nothing was created
        # the admin may add to anyone's pizzeria, approved at once
        r = K.pizza.post(PIZZAS, self.body(title="Quattro", approved=True), token=ADMIN.token)
        self.assertEqual(r.status, 201, r)
        self.assertEqual((r.json["owner_id"], r.json["approved"]), (OWNER.id, True))

    def test_create_validation(self):
        cases = [
            (self.body(owner_id=OTHER.id), "owner_id"),
            (self.body(topping="ham"), "topping"),
            (self.body(title="t" * 121), "title"),
            (self.body(title=""), "title"),
            (self.body(description="d" * 241), "description"),
            (self.body(kind="pasta"), "kind"),
            (self.body(thumbnail_url="ftp://x/y.png"), "thumbnail_url"),
            (self.body(thumbnail_url="not a url"), "thumbnail_url"),
            (self.body(approved="yes"), "approved"),
            (self.body(pizzeria_id="xyz"), "pizzeria_id"),
            ({"pizzeria_id": self.pz["id"], "kind": "meat"}, "title"),
            ({"pizzeria_id": self.pz["id"], "title": "T"}, "kind"),
            ({"title": "T", "kind": "meat"}, "pizzeria_id"),
        ]
        for body, field in cases:
            with self.subTest(body=str(body)[:90]):
                self.assertProblem(K.pizza.post(PIZZAS, body, token=OWNER.token), 400, field)
        r = K.pizza.post(PIZZAS, self.body(title="t" * 120, description="d" * 240),
                         token=OWNER.token)
        self.assertEqual(r.status, 201, r)
        # lengths are characters, not bytes
        r = K.pizza.post(PIZZAS, self.body(title="\u00e9" * 120, description="\u00fc" * 240),
                         token=OWNER.token)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["title"], "\u00e9" * 120)
        self.assertProblem(K.pizza.post(PIZZAS, self.body(title="\u00e9" * 121),
                                        token=OWNER.token), 400, "title")

    def test_approval_is_admin_only(self):
        p = K.new_pizza(OWNER, self.pz["id"], title="Approve me")
        url = PIZZAS + "/" + p["id"]
        self.assertProblem(K.pizza.patch(url, {"approved": True}, token=OWNER.token), 403)
        self.assertFalse(K.pizza.get(url, token=OWNER.token).json["approved"])
        r = K.pizza.patch(url, {"approved": True}, token=ADMIN.token)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json["approved"])
        self.assertTrue(K.pizza.get(url).json["approved"])  # now public
        # its owner may still change what needs no review (the kind) and it stays public
        r = K.pizza.patch(url, {"kind": "vegan"}, token=OWNER.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["approved"], r.json["status"]), (True, "approved"))
        # un-approving hides it again from the public
        K.approve(p["id"], False)
        self.assertProblem(K.pizza.get(url), 404)
        self.assertEqual(K.pizza.get(url, token=OWNER.token).status, 200)

    def test_review_round_trip(self):
        """Pending until approved; an owner's change of what people judge (title, description,
        picture) sends it back to review and out of public view; a rejection carries its
        reason to the owner; the admin's queue is ?status=pending."""
        p = K.new_pizza(OWNER, self.pz["id"], title="Review me", description="first")
        url, mine = PIZZAS + "/" + p["id"], "pizzeria_id=" + self.pz["id"] + "&limit=100&status="
        self.assertEqual((p["status"], p["rejection_reason"]), ("pending", None))
        self.assertIn(p["id"], self.list_ids(mine + "pending", ADMIN.token))
        K.approve(p["id"])
        self.assertEqual(K.pizza.get(url).json["status"], "approved")
        self.assertNotIn(p["id"], self.list_ids(mine + "pending", ADMIN.token))
        self.assertIn(p["id"], self.list_ids(mine + "approved"))
        for change in ({"title": "Renamed"}, {"description": "second"},
                       {"thumbnail_url": "https://img.example/new.png"}):
            with self.subTest(change=change):
                r = K.pizza.patch(url, change, token=OWNER.token)
                self.assertEqual(r.status, 200, r)
                self.assertPizza(r.json)
                self.assertEqual(r.json["status"], "pending")
                self.assertProblem(K.pizza.get(url), 404)  # out of public view
                self.assertIn(p["id"], self.list_ids(mine + "pending", ADMIN.token))
                K.approve(p["id"])
        # repeating the current values (a PUT of the same pizza) is no change
        cur = K.pizza.get(url).json
        same = {k: cur[k] for k in ("title", "description", "thumbnail_url", "kind")}
        self.assertEqual(K.pizza.put(url, same, token=OWNER.token).json["status"], "approved")
        # an admin's own edit needs no review
        r = K.pizza.patch(url, {"title": "Admin's title"}, token=ADMIN.token)
        self.assertEqual(r.json["status"], "approved")
        # a rejection and its reason, seen by the owner and in ?status=rejected
        r = K.pizza.patch(url, {"approved": False, "rejection_reason": "the photo is blurry"},
                          token=ADMIN.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["status"], r.json["approved"], r.json["rejection_reason"]),
                         ("rejected", False, "the photo is blurry"))
        self.assertProblem(K.pizza.get(url), 404)
        self.assertEqual(K.pizza.get(url, token=OWNER.token).json["rejection_reason"],
                         "the photo is blurry")
        self.assertEqual(self.list_ids(mine + "rejected", OWNER.token), [p["id"]])
        self.assertNotIn(p["id"], self.list_ids(mine + "pending", ADMIN.token))
        # the owner fixes it: back to the queue, the reason gone
        r = K.pizza.patch(url, {"thumbnail_url": "https://img.example/sharp.png"},
                          token=OWNER.token)
        self.assertEqual((r.json["status"], r.json["rejection_reason"]), ("pending", None))
        self.assertIn(p["id"], self.list_ids(mine + "pending", ADMIN.token))

    def test_review_refusals_change_nothing(self):
        p = K.new_pizza(OWNER, self.pz["id"], title="Strict")
        url = PIZZAS + "/" + p["id"]
        reject = {"approved": False, "rejection_reason": "no"}
        self.assertProblem(K.pizza.patch(url, reject, token=OWNER.token), 403)
        for body in ({"rejection_reason": "no"}, {"approved": True, "rejection_reason": "no"},
                     {"approved": False, "rejection_reason": "  "},
                     {"approved": False, "rejection_reason": "x" * 241},
                     {"approved": False, "rejection_reason": 5}):
            with self.subTest(body=body):
                self.assertProblem(K.pizza.patch(url, body, token=ADMIN.token), 400,
                                   "rejection_reason")
        self.assertProblem(K.pizza.post(PIZZAS, self.body(rejection_reason="no"),
                                        token=ADMIN.token), 400, "rejection_reason")
        self.assertProblem(K.pizza.get(PIZZAS + "?status=waiting", token=ADMIN.token), 400,
                           "status")
        got = K.pizza.get(url, token=OWNER.token).json
        self.assertEqual((got["status"], got["rejection_reason"], got["updated_at"]),
                         ("pending", None, p["updated_at"]))

    def test_put_and_patch(self):
        p = K.new_pizza(OWNER, self.pz["id"], title="Old", kind="meat", description="d0")
        url = PIZZAS + "/" + p["id"]
        r = K.pizza.put(url, {"title": "New"}, token=OWNER.token)
        body = self.assertProblem(r, 400)
        fields = {e["field"] for e in body.get("errors") or []}
        self.assertTrue({"description", "thumbnail_url", "kind"} <= fields, body)
        full = {"title": "New", "description": "d1", "thumbnail_url": "", "kind": "vegan"}
        r = K.pizza.put(url, full, token=OWNER.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["title"], r.json["description"], r.json["kind"]),
                         ("New", "d1", "vegan"))
        r = K.pizza.patch(url, {"kind": "vegetarian"}, token=OWNER.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["title"], r.json["description"], r.json["kind"]),
                         ("New", "d1", "vegetarian"))
        self.assertEqual(K.pizza.get(url, token=OWNER.token).json, r.json)
        other_pz = K.pizzeria(OWNER, name="Another")
        self.assertProblem(K.pizza.patch(url, {"pizzeria_id": other_pz["id"]},
                                         token=OWNER.token), 400, "pizzeria_id")
        self.assertEqual(K.pizza.patch(url, {"pizzeria_id": self.pz["id"]},
                                       token=OWNER.token).status, 200)
        self.assertProblem(K.pizza.patch(url, {"kind": "pasta"}, token=OWNER.token), 400, "kind")

    def test_write_rules_on_pizzas(self):
        hidden = K.new_pizza(OWNER, self.pz["id"], title="Hidden")
        public = K.new_pizza(OWNER, self.pz["id"], title="Public", approve=True)
        for p, status in ((hidden, 404), (public, 403)):  # invisible is 404 for every method
            url = PIZZAS + "/" + p["id"]
            with self.subTest(pizza=p["title"]):
                self.assertProblem(K.pizza.patch(url, {"title": "X"}, token=OTHER.token), status)
                self.assertProblem(K.pizza.delete(url, token=OTHER.token), status)
                self.assertProblem(K.pizza.patch(url, {"title": "X"}), 401)
                self.assertProblem(K.pizza.delete(url), 401)
        self.assertEqual(K.pizza.get(PIZZAS + "/" + public["id"]).json["title"], "Public")
        self.assertProblem(K.pizza.get(PIZZAS + "/" + NO_SUCH_ID, token=ADMIN.token), 404)
        self.assertProblem(K.pizza.get(PIZZAS + "/not-an-id"), 404)
        r = K.pizza.delete(PIZZAS + "/" + hidden["id"], token=ADMIN.token)
        self.assertEqual(r.status, 204, r)
        r = K.pizza.delete(PIZZAS + "/" + public["id"], token=OWNER.token)
        self.assertEqual(r.status, 204, r)
        for p in (hidden, public):
            self.assertProblem(K.pizza.get(PIZZAS + "/" + p["id"], token=ADMIN.token), 404)


# ================================================================ pizzas: reading

class TestPizzaReading(PizzaTestCase):

    @classmethod
    def setUpClass(cls):
        cls.pz = K.pizzeria(OWNER, name="Reading")
        pid = cls.pz["id"]
        cls.unapproved = K.new_pizza(OWNER, pid, title="Secret", kind="vegan")
        cls.approved = K.new_pizza(OWNER, pid, title="Margherita", kind="vegetarian",
                                   approve=True)
        cls.marinara = K.new_pizza(OWNER, pid, title="Marinara", kind="vegan", approve=True)
        cls.lower = K.new_pizza(OWNER, pid, title="margherita bianca", kind="vegetarian",
                                approve=True)
        cls.meat = K.new_pizza(OWNER, pid, title="Capricciosa", kind="meat", approve=True)

    def test_visibility_get(self):
        url = PIZZAS + "/" + self.unapproved["id"]
        self.assertEqual(K.pizza.get(url, token=OWNER.token).status, 200)
        self.assertEqual(K.pizza.get(url, token=ADMIN.token).status, 200)
        self.assertProblem(K.pizza.get(url, token=OTHER.token), 404)
        self.assertProblem(K.pizza.get(url), 404)
        url = PIZZAS + "/" + self.approved["id"]
        for who, token in (("owner", OWNER.token), ("admin", ADMIN.token),
                           ("other", OTHER.token), ("anonymous", None)):
            with self.subTest(who=who):
                r = K.pizza.get(url, token=token)
                self.assertEqual(r.status, 200, r)
                self.assertPizza(r.json)
        self.assertProblem(K.pizza.get(url, token="bad.token.here"), 401)

    def test_visibility_list(self):
        q = "pizzeria_id=%s&limit=100" % self.pz["id"]
        public = {self.approved["id"], self.marinara["id"], self.lower["id"], self.meat["id"]}
        everything = public | {self.unapproved["id"]}
        self.assertEqual(set(self.list_ids(q, OWNER.token)), everything)
        self.assertEqual(set(self.list_ids(q, ADMIN.token)), everything)
        self.assertEqual(set(self.list_ids(q, OTHER.token)), public)
        self.assertEqual(set(self.list_ids(q)), public)
        r = K.pizza.get(PIZZAS + "?" + q)
        self.assertEqual(r.json["count"], 4)
        for p in r.json["results"]:
            self.assertPizza(p)
            self.assertTrue(p["approved"])
        # not in anybody else's unfiltered list either
        self.assertNotIn(self.unapproved["id"], self.list_ids("approved=false&limit=100",
                                                              OTHER.token))

    def test_filters(self):
        base = "pizzeria_id=%s&limit=100&" % self.pz["id"]
        cases = [
            ("kind=vegan", None, {self.marinara["id"]}),
            ("kind=vegan", OWNER.token, {self.marinara["id"], self.unapproved["id"]}),
            ("kind=meat", None, {self.meat["id"]}),
            ("approved=false", OWNER.token, {self.unapproved["id"]}),
            ("approved=false", None, set()),
            ("approved=true", OWNER.token, {self.approved["id"], self.marinara["id"],
                                            self.lower["id"], self.meat["id"]}),
            ("title__startswith=Mar", None, {self.approved["id"], self.marinara["id"]}),
            ("title__startswith=mar", None, {self.lower["id"]}),
            ("title__startswith=Margherita", None, {self.approved["id"]}),
            ("title__startswith=Margherita%20", None, set()),
            ("title__startswith=Mar&kind=vegan", None, {self.marinara["id"]}),
            ("ids=%s,%s" % (self.meat["id"], self.unapproved["id"]), None, {self.meat["id"]}),
            ("ids=%s,%s" % (self.meat["id"], self.unapproved["id"]), OWNER.token,
             {self.meat["id"], self.unapproved["id"]}),
            ("ids=" + NO_SUCH_ID, None, set()),
        ]
        for query, token, want in cases:
            with self.subTest(query=query, signed_in=token is not None):
                self.assertEqual(set(self.list_ids(base + query, token)), want)

    def test_title_prefix_is_literal(self):
        """No wildcard or pattern syntax leaks through to the store (SQL LIKE, regex)."""
        pz = K.pizzeria(OWNER, name="Literal")
        titles = ["A.B", "AxB", "A_B", "A%B", "A(B", "A*B", "A\\B", "a.b", "[A]B", "Ünï"]
        for t in titles:
            K.new_pizza(K.admin, pz["id"], title=t, approved=True)
        base = "pizzeria_id=%s&limit=100&title__startswith=" % pz["id"]
        cases = [("A.", {"A.B"}), ("A_", {"A_B"}), ("A%", {"A%B"}), ("A(", {"A(B"}),
                 ("A*", {"A*B"}), ("A\\", {"A\\B"}), ("[A]", {"[A]B"}), ("Ü", {"Ünï"}),
                 ("a", {"a.b"}), (".*", set()), ("^A", set()), ("%", set()), ("_", set()),
                 ("A", {t for t in titles if t.startswith("A")})]
        by_id = {}
        r = K.pizza.get(PIZZAS + "?" + base)
        for p in r.json["results"]:
            by_id[p["id"]] = p["title"]
        self.assertEqual(sorted(by_id.values()), sorted(titles))
        for prefix, want in cases:
            with self.subTest(prefix=prefix):
                ids = self.list_ids(base + urllib.parse.quote(prefix))
                self.assertEqual({by_id[i] for i in ids}, want)

    def test_versions_etags_and_preconditions(self):
        """GET answers a strong ETag and 304 to If-None-Match; a write with a stale If-Match
        is a 412 carrying the current ETag and changes nothing; the right one goes through
        and moves the version on; If-Match: * needs the resource to exist."""
        pz = K.pizzeria(OWNER, name="Versions")
        p = K.new_pizza(OWNER, pz["id"], title="V1")
        url = PIZZAS + "/" + p["id"]
        r = K.pizza.get(url, token=OWNER.token)
        self.assertEqual(r.headers.get("ETag"), '"1"')
        self.assertNotIn("version", r.json)
        r304 = K.pizza.get(url, token=OWNER.token, headers={"If-None-Match": 'W/"1"'})
        self.assertEqual((r304.status, r304.raw, r304.headers.get("ETag")), (304, b"", '"1"'))
        self.assertEqual(K.pizza.get(url, token=OWNER.token,
                                     headers={"If-None-Match": '"7", "1"'}).status, 304)
        self.assertEqual(K.pizza.get(url, token=OWNER.token,
                                     headers={"If-None-Match": '"2"'}).status, 200)
        r = K.pizza.patch(url, {"title": "V2"}, token=OWNER.token, headers={"If-Match": '"1"'})
        self.assertEqual((r.status, r.headers.get("ETag"), r.json["title"]), (200, '"2"', "V2"))
        for stale in ('"1"', 'W/"2"', '"3"'):
            with self.subTest(stale=stale):
                r = K.pizza.patch(url, {"title": "lost"}, token=OWNER.token,
                                  headers={"If-Match": stale})
                self.assertProblem(r, 412)
                self.assertEqual(r.headers.get("ETag"), '"2"')
                self.assertProblem(K.pizza.delete(url, token=OWNER.token,
                                                  headers={"If-Match": stale}), 412)
        self.assertEqual(K.pizza.get(url, token=OWNER.token).json["title"], "V2")
        r = K.pizza.put(url, {"title": "V3", "description": "", "thumbnail_url": "",
                              "kind": "vegan"}, token=OWNER.token, headers={"If-Match": "*"})
        self.assertEqual((r.status, r.headers.get("ETag")), (200, '"3"'))
        # an unconditional write still works and moves the version on
        self.assertEqual(K.pizza.patch(url, {"title": "V4"}, token=OWNER.token)
                         .headers.get("ETag"), '"4"')
        self.assertEqual(K.pizza.delete(url, token=OWNER.token,
                                        headers={"If-Match": '"4"'}).status, 204)
        # pizzerias alike
        purl = PIZZERIAS + "/" + pz["id"]
        self.assertEqual(K.pizza.get(purl).headers.get("ETag"), '"1"')
        self.assertProblem(K.pizza.patch(purl, {"name": "x"}, token=OWNER.token,
                                         headers={"If-Match": '"9"'}), 412)
        r = K.pizza.patch(purl, {"name": "Versions 2"}, token=OWNER.token,
                          headers={"If-Match": '"1"'})
        self.assertEqual((r.status, r.headers.get("ETag")), (200, '"2"'))
        self.assertNotIn("version", r.json)
        self.assertEqual(K.pizza.get(purl, headers={"If-None-Match": '"2"'}).status, 304)
        self.assertProblem(K.pizza.delete(purl, token=OWNER.token,
                                          headers={"If-Match": '"1"'}), 412)
        self.assertEqual(K.pizza.delete(purl, token=OWNER.token,
                                        headers={"If-Match": '"2"'}).status, 204)

    def test_two_concurrent_edits_exactly_one_wins(self):
        """Both sent with the ETag they read: one is applied, the other is a 412, and the
        stored pizza is the winner's, round after round."""
        pz = K.pizzeria(OWNER, name="Races")
        p = K.new_pizza(OWNER, pz["id"], title="Start")
        url = PIZZAS + "/" + p["id"]
        for rnd in range(12):
            etag = K.pizza.get(url, token=OWNER.token).headers.get("ETag")
            titles = ["A%d" % rnd, "B%d" % rnd]
            out = in_parallel(2, 2, lambda i=iter(titles): K.pizza.patch(
                url, {"title": next(i)}, token=OWNER.token, headers={"If-Match": etag}))
            statuses = sorted(r.status for r in out)
            with self.subTest(round=rnd):
                self.assertEqual(statuses, [200, 412], [r.raw[:120] for r in out])
                winner = [r for r in out if r.status == 200][0]
                stored = K.pizza.get(url, token=OWNER.token)
                self.assertEqual(stored.json["title"], winner.json["title"])
                self.assertEqual(stored.headers.get("ETag"), winner.headers.get("ETag"))

    def test_title_search_ignores_case_and_accents(self):
        """?title__icontains= finds a piece anywhere in the title, whatever its case or
        accents (both sides folded, fold.h), literally, among what the caller may see; it
        follows a rename at once."""
        pz = K.pizzeria(OWNER, name="Search")
        titles = ["Crème Fraîche", "CREME BRULEE", "Straße Special", "Diavola", "A.B (x)",
                  "ＰＩＺＺＡ Fullwidth"]
        ids = {t: K.new_pizza(K.admin, pz["id"], title=t, approved=True)["id"] for t in titles}
        hidden = K.new_pizza(OWNER, pz["id"], title="Creme Secret")["id"]
        base = "pizzeria_id=%s&limit=100&title__icontains=" % pz["id"]
        cases = [("creme", {"Crème Fraîche", "CREME BRULEE"}), ("CRÈME", {"Crème Fraîche",
                 "CREME BRULEE"}), ("fraiche", {"Crème Fraîche"}), ("STRASSE", {"Straße Special"}),
                 ("avol", {"Diavola"}), ("pizza", {"ＰＩＺＺＡ Fullwidth"}), (".b (", {"A.B (x)"}),
                 (".*", set()), ("%", set()), ("zzz", set())]
        names = {v: k for k, v in ids.items()}
        for q, want in cases:
            with self.subTest(q=q):
                self.assertEqual({names[i] for i in self.list_ids(base + urllib.parse.quote(q))},
                                 want)
        # the owner also finds their pending one; the public does not
        self.assertIn(hidden, self.list_ids(base + "secret", OWNER.token))
        self.assertEqual(self.list_ids(base + "secret"), [])
        r = K.pizza.patch(PIZZAS + "/" + ids["Diavola"], {"title": "Diavola Piccante"},
                          token=K.admin.token)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("title_search", r.json)
        self.assertEqual(self.list_ids(base + "PICCANTE"), [ids["Diavola"]])
        self.assertEqual(K.pizza.get(PIZZAS + "?title__icontains=" + "%C3%A9" * 120).status, 200)
        for bad in ("%FF", "x" * 121, "%C3%A9" * 121):
            with self.subTest(bad=bad):
                self.assertProblem(K.pizza.get(PIZZAS + "?title__icontains=" + bad), 400,
                                   "title__icontains")

    def test_ids_ignores_limit(self):
        ids = [self.approved["id"], self.marinara["id"], self.lower["id"], self.meat["id"]]
        r = K.pizza.get(PIZZAS + "?limit=1&ids=" + ",".join(ids))
        self.assertEqual(r.status, 200, r)
        self.assertEqual({p["id"] for p in r.json["results"]}, set(ids))

    def test_bad_filter_values(self):
        cases = [("kind=pasta", "kind"), ("approved=yes", "approved"), ("approved=", "approved"),
                 ("pizzeria_id=abc", "pizzeria_id"), ("ids=abc", "ids"),
                 ("ids=%s,,%s" % (NO_SUCH_ID, NO_SUCH_ID), "ids"),
                 ("ids=" + ",".join([NO_SUCH_ID] * 101), "ids"),
                 ("limit=0", "limit"), ("limit=abc", "limit"), ("offset=x", "offset")]
        for query, field in cases:
            with self.subTest(query=query[:60]):
                self.assertProblem(K.pizza.get(PIZZAS + "?" + query), 400, field)
        r = K.pizza.get(PIZZAS + "?ids=" + ",".join([NO_SUCH_ID] * 100))
        self.assertEqual(r.status, 200, r)

    def test_pagination(self):
        pz = K.pizzeria(OWNER, name="Paged")
        made = [K.new_pizza(OWNER, pz["id"], title="P%d" % i, approve=True)["id"]
                for i in range(7)]
        seen, path, pages = [], PIZZAS + "?pizzeria_id=%s&limit=3" % pz["id"], 0
        prev_was_none = True
        while path:
            r = K.pizza.get(path)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["count"], 7)
            self.assertLessEqual(len(r.json["results"]), 3)
            self.assertEqual(r.json["previous"] is None, prev_was_none)
            prev_was_none = False
            seen += [p["id"] for p in r.json["results"]]
            path = path_of(r.json["next"]) if r.json["next"] else None
            if path:
                self.assertTrue(r.json["next"].startswith("http"), r.json["next"])
                self.assertIn("pizzeria_id=" + pz["id"], path)
            pages += 1
        self.assertEqual(pages, 3)
        self.assertEqual(seen, list(reversed(made)))  # newest first
        r = K.pizza.get(PIZZAS + "?pizzeria_id=%s&limit=3&offset=6" % pz["id"])
        self.assertEqual(len(r.json["results"]), 1)
        self.assertIsNone(r.json["next"])
        r = K.pizza.get(PIZZAS + "?pizzeria_id=%s" % pz["id"])
        self.assertEqual(len(r.json["results"]), 5)  # default page size
        r = K.pizza.get(PIZZAS + "?pizzeria_id=%s&offset=50" % pz["id"])
        self.assertEqual((r.json["count"], r.json["results"]), (7, []))


# ================================================================ random

class TestRandom(PizzaTestCase):

    @classmethod
    def setUpClass(cls):
        pz = K.pizzeria(OTHER, name="Random")
        for i in range(max(3, 18 - len(approved_ids()))):  # more than one page of 15
            K.new_pizza(OTHER, pz["id"], title="R%d" % i, approve=True)
        cls.hidden = K.new_pizza(OTHER, pz["id"], title="R hidden")

    def test_count_bounds(self):
        for bad in ("0", "16", "abc", "-1", "1.5", "", "3x"):
            with self.subTest(count=bad):
                self.assertProblem(K.pizza.get(RANDOM + "?count=" + bad), 400, "count")
        r = K.pizza.get(RANDOM)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.json["results"]), 1)  # default 1 (there are approved ones)
        self.assertIs(r.json["excluded_seen"], False)  # anonymous
        r = K.pizza.get(RANDOM + "?count=15")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.json["results"]), min(15, len(self.all_approved_ids())))

    def test_only_approved_no_duplicates(self):
        approved = self.all_approved_ids()
        for token in (None, OTHER.token, ADMIN.token):  # OTHER owns the hidden one
            with self.subTest(signed_in=token is not None):
                for _ in range(3):
                    r = K.pizza.get(RANDOM + "?count=15", token=token)
                    self.assertEqual(r.status, 200, r)
                    ids = [p["id"] for p in r.json["results"]]
                    self.assertEqual(len(ids), len(set(ids)), "duplicates: %s" % ids)
                    self.assertLessEqual(set(ids), approved)
                    self.assertNotIn(self.hidden["id"], ids)
                    for p in r.json["results"]:
                        self.assertPizza(p)
                        self.assertTrue(p["approved"])

    def test_judged_pizzas_are_left_out(self):
        """A signed-in caller gets only pizzas they have not judged, until none is left."""
        user = K.signup("rnd")
        approved = self.all_approved_ids()
        self.assertGreater(len(approved), 15)  # so that it takes more than one round
        served = []
        for _round in range(len(approved) // 15 + 2):
            r = K.pizza.get(RANDOM + "?count=15", token=user.token)
            self.assertEqual(r.status, 200, r)
            self.assertIs(r.json["excluded_seen"], True, r)
            ids = [p["id"] for p in r.json["results"]]
            self.assertEqual(len(set(ids)), len(ids))
            self.assertFalse(set(ids) & set(served), "a judged pizza came back: %s" % (
                set(ids) & set(served)))
            self.assertEqual(len(ids), min(15, len(approved) - len(served)))
            if not ids:
                break
            for i, pid in enumerate(ids):
                K.judge(user, pid, liked=i % 2 == 0)
            served += ids
        else:
            self.fail("random never ran out of unjudged pizzas")
        self.assertEqual(set(served), approved)
        self.assertEqual(len(served), len(approved))
        # a pizza approved afterwards is the only one offered
        pz = K.pizzeria(OWNER, name="Late")
        late = K.new_pizza(OWNER, pz["id"], title="Late", approve=True)
        r = K.pizza.get(RANDOM + "?count=15", token=user.token)
        self.assertEqual([p["id"] for p in r.json["results"]], [late["id"]])
        self.assertIs(r.json["excluded_seen"], True)
        # withdrawing a verdict makes the pizza eligible again
        self.assertEqual(K.likes.delete("/api/v1/likes/" + served[0], token=user.token).status,
                         204)
        r = K.pizza.get(RANDOM + "?count=15", token=user.token)
        self.assertEqual({p["id"] for p in r.json["results"]}, {late["id"], served[0]})

    def test_likes_down_still_answers(self):
        user = K.signup("rnd2")
        approved = self.all_approved_ids()
        for pid in approved:
            K.judge(user, pid)
        r = K.pizza.get(RANDOM + "?count=15", token=user.token)
        self.assertEqual((r.status, r.json["results"], r.json["excluded_seen"]), (200, [], True))
        K.stop_service("likes")
        try:
            t0 = time.monotonic()
            r = K.pizza.get(RANDOM + "?count=15", token=user.token)
            self.assertEqual(r.status, 200, r)
            self.assertIs(r.json["excluded_seen"], False, r)
            self.assertEqual(len(r.json["results"]), min(15, len(approved)))
            self.assertLessEqual({p["id"] for p in r.json["results"]}, approved)
            self.assertLess(time.monotonic() - t0, 5.0)
            r = K.pizza.get(RANDOM + "?count=2", token=user.token)
            self.assertEqual((r.status, len(r.json["results"])), (200, 2))
            self.assertIs(r.json["excluded_seen"], False)
        finally:
            K.start_service("likes")
        # once likes is back (and pizza's breaker half-opened), exclusion applies again

        def excluded():
            r = K.pizza.get(RANDOM + "?count=15", token=user.token)
            return r.status == 200 and r.json["excluded_seen"] and r.json["results"] == []
        wait_for(excluded, 10.0, 0.2, "random to exclude judged pizzas again")


# ================================================================ deletion and likes

class TestDeletionRemovesLikes(PizzaTestCase):

    def test_deleting_a_pizzeria_deletes_its_pizzas_and_their_likes(self):
        pz = K.pizzeria(OWNER, name="Doomed")
        keep_pz = K.pizzeria(OWNER, name="Kept")
        p1 = K.new_pizza(OWNER, pz["id"], title="Doomed 1", approve=True)
        p2 = K.new_pizza(OWNER, pz["id"], title="Doomed 2")  # unapproved: only owner/admin
        kept = K.new_pizza(OWNER, keep_pz["id"], title="Kept", approve=True)
        K.judge(OTHER, p1["id"], True)
        K.judge(ADMIN, p1["id"], False)
        K.judge(OWNER, p2["id"], True)
        K.judge(ADMIN, p2["id"], True)
        K.judge(OTHER, kept["id"], True)
        ids = [p1["id"], p2["id"], kept["id"]]
        self.assertEqual(K.counts(ids), {p1["id"]: {"likes": 1, "dislikes": 1},
                                         p2["id"]: {"likes": 2, "dislikes": 0},
                                         kept["id"]: {"likes": 1, "dislikes": 0}})
        r = K.pizza.delete(PIZZERIAS + "/" + pz["id"], token=OWNER.token)
        self.assertEqual(r.status, 204, r)
        self.assertProblem(K.pizza.get(PIZZERIAS + "/" + pz["id"]), 404)
        for p in (p1, p2):
            self.assertProblem(K.pizza.get(PIZZAS + "/" + p["id"], token=ADMIN.token), 404)
        r = K.pizza.get(PIZZAS + "?pizzeria_id=" + pz["id"], token=ADMIN.token)
        self.assertEqual((r.status, r.json["count"]), (200, 0))
        zero = {"likes": 0, "dislikes": 0}
        wait_for(lambda: K.counts(ids[:2]) == {p1["id"]: zero, p2["id"]: zero}, 5.0, 0.1,
                 "the likes of the deleted pizzas to go (pizza.deleted)")
        self.assertEqual(K.counts([kept["id"]])[kept["id"]], {"likes": 1, "dislikes": 0})
        r = K.likes.get("/api/v1/likes/" + p1["id"], token=OTHER.token)
        self.assertProblem(r, 404)
        r = K.likes.get("/api/v1/likes/" + kept["id"], token=OTHER.token)
        self.assertEqual(r.status, 200, r)

    def test_deleting_a_pizza_deletes_its_likes(self):
        pz = K.pizzeria(OWNER, name="One goes")
        p = K.new_pizza(OWNER, pz["id"], title="Goner", approve=True)
        K.judge(OTHER, p["id"], False)
        self.assertEqual(K.counts([p["id"]])[p["id"]], {"likes": 0, "dislikes": 1})
        self.assertEqual(K.pizza.delete(PIZZAS + "/" + p["id"], token=OWNER.token).status, 204)
        wait_for(lambda: K.counts([p["id"]])[p["id"]] == {"likes": 0, "dislikes": 0}, 5.0,
                 0.1, "the likes of the deleted pizza to go (pizza.deleted)")


if __name__ == "__main__":
    unittest.main()
