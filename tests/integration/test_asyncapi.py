"""proto-docs/events.asyncapi.yaml is kept true to the running system (SPEC §6).

Static part: the file is AsyncAPI 3.0.x, every $ref resolves, channels and operations carry
the AMQP bindings the rest of the checks rely on.

Live part: one cluster (real RabbitMQ, tizza-auth, tizza-tweets). What the services declare
(rabbitmqctl list_queues / list_bindings / list_exchanges in the cluster's vhost, read
before the test adds a queue of its own) must match the document both ways; then a queue
bound to exchange `users` with `#` observes a real account deletion, and every message seen
must travel on a documented routing key, validate against the documented payload schema
(a small validator for the JSON Schema subset the document uses: type, required,
properties, additionalProperties, pattern, enum, const, minimum, format date-time, items,
allOf, $ref) and carry the documented AMQP properties. The validator is itself tested
against payloads that must fail, so a schema check cannot pass vacuously.
"""
import copy
import datetime
import json
import os
import re
import unittest

import yaml

from cluster import REPO, Cluster, sqlite_only, wait_for
from constellation import SERVICES

sqlite_only()

DOC_PATH = os.path.join(REPO, "proto-docs", "events.asyncapi.yaml")
OBSERVE = "test.observe"


def load_doc():
    with open(DOC_PATH) as f:
        return yaml.safe_load(f)


DOC = load_doc()


# ---------------------------------------------------------------- $ref and the validator

def resolve(ref, doc=DOC):
    if not ref.startswith("#/"):
        raise ValueError("only local $refs are supported: %r" % ref)
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise KeyError("unresolvable $ref %r" % ref)
        node = node[part]
    return node


def deref(node, doc=DOC):
    while isinstance(node, dict) and "$ref" in node:
        node = resolve(node["$ref"], doc)
    return node


ISO_DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool) or
    (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
_KNOWN = {"$ref", "allOf", "type", "required", "properties", "additionalProperties",
          "pattern", "enum", "const", "minimum", "format", "items", "description", "title"}


def validate(value, schema, path="$", doc=DOC):
    """A list of error strings (empty when value conforms)."""
    errors = []
    if "$ref" in schema:
        return validate(value, resolve(schema["$ref"], doc), path, doc)
    unknown = set(schema) - _KNOWN
    if unknown:  # the validator must not silently ignore a constraint
        return ["%s: schema uses unsupported keywords %s" % (path, sorted(unknown))]
    for sub in schema.get("allOf", []):
        errors += validate(value, sub, path, doc)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](value) for t in types):
            return errors + ["%s: %r is not of type %s" % (path, value, "/".join(types))]
    if "const" in schema and value != schema["const"]:
        errors.append("%s: %r != const %r" % (path, value, schema["const"]))
    if "enum" in schema and value not in schema["enum"]:
        errors.append("%s: %r not in %r" % (path, value, schema["enum"]))
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append("%s: %r does not match %s" % (path, value, schema["pattern"]))
        if schema.get("format") == "date-time" and not ISO_DATE_TIME.match(value):
            errors.append("%s: %r is not a date-time" % (path, value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append("%s: %r < minimum %r" % (path, value, schema["minimum"]))
    if isinstance(value, dict):
        for r in schema.get("required", []):
            if r not in value:
                errors.append("%s: missing required %r" % (path, r))
        props = schema.get("properties", {})
        for k, v in value.items():
            if k in props:
                errors += validate(v, props[k], "%s.%s" % (path, k), doc)
            elif "additionalProperties" in schema:
                extra = schema["additionalProperties"]
                if extra is False:
                    errors.append("%s: unexpected property %r" % (path, k))
                elif isinstance(extra, dict):
                    errors += validate(v, extra, "%s.%s" % (path, k), doc)
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            errors += validate(v, schema["items"], "%s[%d]" % (path, i), doc)
    return errors


def topic_matches(binding, key):
    """AMQP topic matching: '*' one word, '#' zero or more words."""
    def match(b, k):
        if not b:
            return not k
        if b[0] == "#":
            return any(match(b[1:], k[i:]) for i in range(len(k) + 1))
        return bool(k) and (b[0] == "*" or b[0] == k[0]) and match(b[1:], k[1:])
    return match(binding.split("."), key.split("."))


def channels_by_kind(kind):
    """{channel id: channel} whose amqp binding `is` == kind ("routingKey" or "queue")."""
    return {cid: ch for cid, ch in DOC["channels"].items()
            if ch.get("bindings", {}).get("amqp", {}).get("is") == kind}


def channel_of(op):
    ref = op["channel"]["$ref"]
    return ref.rsplit("/", 1)[-1], resolve(ref)


def message_names(channel):
    return sorted(deref(m)["name"] for m in channel["messages"].values())


def payload_schema(channel):
    (msg,) = channel["messages"].values()
    return deref(msg)["payload"], deref(msg)


SAMPLE_DELETED = {"event_id": "6b069df07cd9a9241e0b9592", "type": "user.deleted",
                  "version": "1.0.0", "occurred_at": "2026-01-02T03:04:05.678Z",
                  "producer": "auth", "user_id": "6b069df07cd9a9241e0b9593"}
SAMPLE_ERASED = {"event_id": "6b069df07cd9a9241e0b9594", "type": "user.erased",
                 "version": "1.0.0", "occurred_at": "2026-01-02T03:04:05.678Z",
                 "producer": "tweets", "user_id": "6b069df07cd9a9241e0b9593",
                 "service": "tweets", "removed": {"tweets": 3}}


# ---------------------------------------------------------------- static checks

class TestDocument(unittest.TestCase):
    maxDiff = 4000

    def test_is_asyncapi_3_0(self):
        self.assertRegex(str(DOC.get("asyncapi")), r"^3\.0\.\d+$")
        self.assertIsInstance(DOC["info"]["title"], str)
        self.assertIsInstance(DOC["info"]["version"], str)
        self.assertEqual(DOC.get("defaultContentType"), "application/json")
        for name, server in DOC["servers"].items():
            self.assertEqual(server["protocol"], "amqp", name)
        self.assertTrue(DOC["channels"])
        self.assertTrue(DOC["operations"])

    def test_every_ref_resolves(self):
        refs = []

        def walk(node):
            if isinstance(node, dict):
                if "$ref" in node:
                    refs.append(node["$ref"])
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(DOC)
        self.assertTrue(refs)
        for ref in refs:
            with self.subTest(ref=ref):
                resolve(ref)

    def test_channels_and_operations_are_well_formed(self):
        for cid, ch in DOC["channels"].items():
            with self.subTest(channel=cid):
                amqp = ch["bindings"]["amqp"]
                self.assertIn(amqp["is"], ("routingKey", "queue"))
                self.assertTrue(ch["messages"])
                for m in ch["messages"].values():
                    msg = deref(m)
                    self.assertEqual(msg["contentType"], "application/json")
                    self.assertEqual(msg["bindings"]["amqp"]["messageType"], msg["name"])
                    self.assertIn("payload", msg)
                if amqp["is"] == "routingKey":
                    ex = amqp["exchange"]
                    self.assertEqual((ex["type"], ex["durable"]), ("topic", True))
                    name = message_names(ch)
                    self.assertEqual(len(name), 1)
                    # Routing keys are <type>.<semver> (SPEC §6).
                    self.assertRegex(ch["address"], r"^%s\.\d+\.\d+\.\d+$" %
                                     re.escape(name[0]))
                else:
                    self.assertEqual(amqp["queue"]["name"], ch["address"])
        for oid, op in DOC["operations"].items():
            with self.subTest(operation=oid):
                self.assertIn(op["action"], ("send", "receive"))
                cid, ch = channel_of(op)
                kind = ch["bindings"]["amqp"]["is"]
                if op["action"] == "send":
                    self.assertEqual(kind, "routingKey")
                    self.assertIn(op["x-producer"], SERVICES)
                    self.assertEqual(op["bindings"]["amqp"]["deliveryMode"], 2)
                else:
                    self.assertEqual(kind, "queue")
                    self.assertEqual(op["x-dead-letter-queue"], ch["address"] + ".dlq")
                    self.assertIs(op["bindings"]["amqp"]["ack"], True)

    def test_queue_channels_carry_what_their_binding_routes(self):
        """A consumer's binding key selects routing-key channels; the queue channel must
        document exactly their messages."""
        keys = channels_by_kind("routingKey")
        for oid, op in DOC["operations"].items():
            if op["action"] != "receive":
                continue
            with self.subTest(operation=oid):
                _, queue_ch = channel_of(op)
                routed = [ch for ch in keys.values()
                          if ch["bindings"]["amqp"]["exchange"]["name"] == op["x-exchange"] and
                          topic_matches(op["x-binding-key"], ch["address"])]
                self.assertTrue(routed, "binding %s routes no documented channel" %
                                op["x-binding-key"])
                self.assertEqual(message_names(queue_ch),
                                 sorted({n for ch in routed for n in message_names(ch)}))

    def test_topic_matching_helper(self):
        self.assertTrue(topic_matches("user.deleted.1.#", "user.deleted.1.0.0"))
        self.assertTrue(topic_matches("#", "user.erased.1.0.0"))
        self.assertTrue(topic_matches("user.*.1.#", "user.erased.1"))
        self.assertFalse(topic_matches("user.deleted.1.#", "user.deleted.2.0.0"))
        self.assertFalse(topic_matches("user.deleted.1.#", "user.erased.1.0.0"))

    def test_validator_accepts_good_and_rejects_bad_payloads(self):
        deleted = payload_schema(DOC["channels"]["userDeleted"])[0]
        erased = payload_schema(DOC["channels"]["userErased"])[0]
        self.assertEqual(validate(SAMPLE_DELETED, deleted), [])
        self.assertEqual(validate(SAMPLE_ERASED, erased), [])

        def broken(sample, **change):
            s = copy.deepcopy(sample)
            for k, v in change.items():
                if v is KeyError:
                    s.pop(k)
                else:
                    s[k] = v
            return s

        bad = [
            (deleted, broken(SAMPLE_DELETED, user_id=KeyError)),
            (deleted, broken(SAMPLE_DELETED, event_id=KeyError)),
            (deleted, broken(SAMPLE_DELETED, user_id="not-an-id")),
            (deleted, broken(SAMPLE_DELETED, user_id=12)),
            (deleted, broken(SAMPLE_DELETED, type="user.erased")),
            (deleted, broken(SAMPLE_DELETED, version="1.0")),
            (deleted, broken(SAMPLE_DELETED, producer="someone")),
            (deleted, broken(SAMPLE_DELETED, occurred_at="yesterday")),
            (deleted, "not an object"),
            (erased, broken(SAMPLE_ERASED, removed={"tweets": -1})),
            (erased, broken(SAMPLE_ERASED, removed={"tweets": "3"})),
            (erased, broken(SAMPLE_ERASED, removed=KeyError)),
            (erased, broken(SAMPLE_ERASED, service="auth")),
            (erased, broken(SAMPLE_ERASED, type="user.deleted")),
        ]
        for schema, payload in bad:
            with self.subTest(payload=payload):
                self.assertNotEqual(validate(payload, schema), [])
        self.assertNotEqual(validate({}, {"unsupportedKeyword": 1}), [])


# ---------------------------------------------------------------- the running system

class TestRunningSystem(unittest.TestCase):
    maxDiff = 4000
    c = None

    @classmethod
    def setUpClass(cls):
        c = cls.c = Cluster()
        try:
            c.start()

            def ctl(cmd, *items):
                return json.loads(c.broker.ctl(cmd, "-p", c.vhost, "--formatter", "json",
                                               *items))

            cls.queues = {q["name"]: q for q in ctl("list_queues", "name", "durable",
                                                    "auto_delete", "exclusive", "arguments")}
            cls.bindings = ctl("list_bindings", "source_name", "destination_name",
                               "destination_kind", "routing_key")
            cls.exchanges = {e["name"]: e for e in ctl("list_exchanges", "name", "type",
                                                       "durable", "auto_delete")}
            c.amqp.declare(OBSERVE, "users", "#")
            u = c.signup()
            c.tweet(u, "observed")
            c.tweet(u, "observed too")
            r = c.delete_user(u)
            assert r.status == 202, r
            cls.user = u
            cls.erasure = c.wait_erased([u.id], 20)[u.id]
            cls.seen = []

            def both():
                cls.seen += c.amqp.get(OBSERVE, 10, 200)
                kinds = {m["routing_key"].split(".")[1] for m in cls.seen}
                return {"deleted", "erased"} <= kinds

            wait_for(both, 15, what="a user.deleted and a user.erased on exchange users")
        except BaseException:
            c.teardown()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.c is not None:
            cls.c.teardown()

    def documented_queues(self):
        """{queue name: (what documents it, documented properties)}."""
        out = {}
        for cid, ch in channels_by_kind("queue").items():
            out[ch["address"]] = ("channel " + cid, ch["bindings"]["amqp"]["queue"])
        for oid, op in DOC["operations"].items():
            if op["action"] == "receive":
                _, ch = channel_of(op)
                out.setdefault(op["x-dead-letter-queue"], (
                    "x-dead-letter-queue of " + oid,
                    {"durable": True, "exclusive": False, "autoDelete": False}))
        return out

    def test_every_declared_queue_is_documented(self):
        self.assertTrue(self.queues, "the services declared no queue")
        documented = self.documented_queues()
        queue_channels = {ch["address"] for ch in channels_by_kind("queue").values()}
        for name, q in self.queues.items():
            with self.subTest(queue=name):
                self.assertIn(name, documented, "queue %s is not in the AsyncAPI" % name)
                if not name.endswith(".dlq"):  # consumer queues: an amqp queue channel each
                    self.assertIn(name, queue_channels)
                props = documented[name][1]
                self.assertEqual(q["durable"], props["durable"])
                self.assertEqual(q["exclusive"], props["exclusive"])
                self.assertEqual(q["auto_delete"], props["autoDelete"])

    def test_every_documented_queue_exists(self):
        for name, (where, _) in self.documented_queues().items():
            with self.subTest(queue=name):
                self.assertIn(name, self.queues, "%s (%s) was not declared" % (name, where))

    def test_dead_lettering_is_wired_as_documented(self):
        for oid, op in DOC["operations"].items():
            if op["action"] != "receive":
                continue
            with self.subTest(operation=oid):
                _, ch = channel_of(op)
                args = {a[0]: a[2] for a in self.queues[ch["address"]]["arguments"]}
                self.assertEqual(args.get("x-dead-letter-exchange"), "")
                self.assertEqual(args.get("x-dead-letter-routing-key"),
                                 op["x-dead-letter-queue"])

    def test_bindings_match_documented_consumers(self):
        actual = {(b["source_name"], b["destination_name"], b["routing_key"])
                  for b in self.bindings
                  if b["source_name"] and b["destination_kind"] == "queue"}
        documented = set()
        for op in DOC["operations"].values():
            if op["action"] == "receive":
                _, ch = channel_of(op)
                documented.add((op["x-exchange"], ch["address"], op["x-binding-key"]))
        self.assertEqual(actual, documented)

    def test_documented_exchanges_exist(self):
        for cid, ch in channels_by_kind("routingKey").items():
            ex = ch["bindings"]["amqp"]["exchange"]
            with self.subTest(channel=cid):
                self.assertIn(ex["name"], self.exchanges)
                e = self.exchanges[ex["name"]]
                self.assertEqual((e["type"], e["durable"], e["auto_delete"]),
                                 (ex["type"], ex["durable"], ex["autoDelete"]))

    def channel_for(self, msg):
        for cid, ch in channels_by_kind("routingKey").items():
            if (ch["address"] == msg["routing_key"] and
                    ch["bindings"]["amqp"]["exchange"]["name"] == msg["exchange"]):
                return cid, ch
        return None, None

    def test_published_routing_keys_are_documented(self):
        self.assertGreaterEqual(len(self.seen), 2)
        for m in self.seen:
            with self.subTest(key=m["routing_key"]):
                cid, _ = self.channel_for(m)
                self.assertIsNotNone(cid, "routing key %s on exchange %s is not documented" %
                                     (m["routing_key"], m["exchange"]))

    def test_bodies_validate_against_the_payload_schemas(self):
        for m in self.seen:
            with self.subTest(key=m["routing_key"]):
                cid, ch = self.channel_for(m)
                self.assertIsNotNone(cid)
                body = json.loads(m["body"])
                schema, msg = payload_schema(ch)
                self.assertEqual(validate(body, schema), [], body)
                self.assertEqual(body["type"], msg["name"])
                self.assertEqual(body["user_id"], self.user.id)
        erased = [json.loads(m["body"]) for m in self.seen if ".erased." in m["routing_key"]]
        self.assertEqual([(e["service"], e["removed"]) for e in erased], [("tweets",
                                                                          {"tweets": 2})])

    def test_amqp_properties(self):
        producers = {}
        for op in DOC["operations"].values():
            if op["action"] == "send":
                producers.setdefault(channel_of(op)[0], set()).add(op["x-producer"])
        for m in self.seen:
            with self.subTest(key=m["routing_key"]):
                cid, ch = self.channel_for(m)
                self.assertIsNotNone(cid)
                body, p = json.loads(m["body"]), m["properties"]
                _, msg = payload_schema(ch)
                self.assertEqual(p.get("message_id"), body["event_id"])
                self.assertEqual(p.get("content_type"), "application/json")
                self.assertEqual(p.get("type"), msg["bindings"]["amqp"]["messageType"])
                self.assertEqual(p.get("type"), body["type"])
                self.assertEqual(p.get("delivery_mode"), 2)
                self.assertEqual(p.get("app_id"), body["producer"])
                self.assertIn(p.get("app_id"), producers.get(cid, set()),
                              "no documented send operation of %s on %s" % (p.get("app_id"),
                                                                           cid))
                occurred = datetime.datetime.strptime(
                    body["occurred_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                    tzinfo=datetime.timezone.utc).timestamp()
                self.assertLessEqual(abs(p.get("timestamp", 0) - occurred), 2, (p, body))


if __name__ == "__main__":
    unittest.main()
