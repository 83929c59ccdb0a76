"""Integration tests of distributed tracing (W3C Trace Context, OTLP/HTTP JSON export) over the
real binaries (constellation.py), on the store backend TIZZA_TEST_BACKEND names.

A small OTLP/HTTP JSON receiver (a thread with http.server, below) collects what the services
POST to <OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces. One constellation runs with every service
pointed at it; `GET /api/v1/likes?expand=pizza` (likes asks pizza for the pizzas) is then one
trace: likes' server span, its client span, pizza's server span below that. A second
constellation runs with OTEL_EXPORTER_OTLP_ENDPOINT unset: nothing is sent, requests work.
"""
import http.server
import json
import os
import threading
import unittest

import harness
from constellation import SERVICES, Constellation, wait_for
from harness import ServiceTestCase, started

LIKES = "/api/v1/likes"
SERVER, CLIENT = 2, 3  # OTLP SpanKind

K = None
RECEIVER = None
USER = None


class Receiver:
    """Collects the spans POSTed to /v1/traces, each with its resource's service.name."""

    def __init__(self):
        self.spans, self.posts, self.lock = [], [], threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    doc = json.loads(body)
                    ok = self.path == "/v1/traces" and \
                        self.headers.get("Content-Type") == "application/json"
                except ValueError:
                    doc, ok = None, False
                if ok:
                    receiver.add(doc)
                self.send_response(200 if ok else 400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add(self, doc):
        with self.lock:
            self.posts.append(doc)
            for rs in doc.get("resourceSpans", []):
                attrs = {a["key"]: a["value"] for a in rs["resource"]["attributes"]}
                service = attrs["service.name"]["stringValue"]
                for ss in rs["scopeSpans"]:
                    for sp in ss["spans"]:
                        self.spans.append(dict(sp, service=service))

    def trace(self, trace_id):
        with self.lock:
            return [s for s in self.spans if s["traceId"] == trace_id]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def attrs(span):
    out = {}
    for a in span.get("attributes", []):
        v = a["value"]
        out[a["key"]] = int(v["intValue"]) if "intValue" in v else v.get("stringValue")
    return out


def setUpModule():
    global K, RECEIVER
    RECEIVER = Receiver()
    env = {s: {"OTEL_EXPORTER_OTLP_ENDPOINT": RECEIVER.url} for s in SERVICES}
    K = started(Constellation(env=env), fixtures)


def fixtures(k):
    global USER
    USER = k.signup("trace")
    pizzeria = k.pizzeria(USER, name="Traced")
    pizza = k.new_pizza(k.admin, pizzeria["id"], title="T1", approved=True)
    k.judge(USER, pizza["id"], True)


def tearDownModule():
    if K is not None:
        K.teardown()
    if RECEIVER is not None:
        RECEIVER.close()


def access_line(proc, request_id):
    """The access-log line (msg "request") of `request_id` in proc's stdout."""
    with open(proc.out_path, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("msg") == "request" and rec.get("request_id") == request_id:
                return rec
    return None


class TestTracing(ServiceTestCase):

    def expand(self, headers=None):
        r = K.likes.get(LIKES + "?expand=pizza", token=USER.token, headers=headers or {})
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json["pizza_expanded"], True)
        self.assertEqual(r.json["count"], 1)
        self.assertIsNotNone(r.json["results"][0]["pizza"])
        return r

    def one_trace(self, trace_id):
        """likes' server span, its client span and pizza's server span of trace_id."""
        def complete():
            spans = RECEIVER.trace(trace_id)
            ls = [s for s in spans if s["service"] == "likes" and s["kind"] == SERVER]
            lc = [s for s in spans if s["service"] == "likes" and s["kind"] == CLIENT]
            ps = [s for s in spans if s["service"] == "pizza" and s["kind"] == SERVER]
            return (ls[0], lc, ps) if ls and lc and ps else None
        return wait_for(complete, 15, what="likes and pizza spans of trace " + trace_id)

    def assertTrace(self, trace_id, tracestate=None):
        server, clients, pizza = self.one_trace(trace_id)
        self.assertEqual(server["name"], "GET " + LIKES)
        self.assertEqual(attrs(server), {"http.request.method": "GET", "http.route": LIKES,
                                         "http.response.status_code": 200})
        self.assertNotIn("code", server["status"])
        for c in clients:  # children of the server span, within it
            self.assertEqual(c["parentSpanId"], server["spanId"])
            self.assertEqual(attrs(c)["http.response.status_code"], 200)
            self.assertLessEqual(int(server["startTimeUnixNano"]), int(c["startTimeUnixNano"]))
            self.assertLessEqual(int(c["endTimeUnixNano"]), int(server["endTimeUnixNano"]))
        client_ids = {c["spanId"] for c in clients}
        for p in pizza:  # pizza's server span is the child of likes' client span
            self.assertIn(p["parentSpanId"], client_ids)
            self.assertTrue(attrs(p)["http.route"].startswith("/api/v1/pizzas"), p)
        ids = [s["spanId"] for s in [server] + clients + pizza]
        self.assertEqual(len(set(ids)), len(ids))
        for s in [server] + clients + pizza:
            self.assertRegex(s["spanId"], "^[0-9a-f]{16}$")
            self.assertRegex(s["startTimeUnixNano"], "^[0-9]{19}$")
            self.assertEqual(s.get("traceState"), tracestate)
        return server

    def assertLogged(self, r, server):
        """likes' access-log line of the request carries the server span's ids."""
        line = wait_for(lambda: access_line(K.likes, r.headers["X-Request-Id"]), 5,
                        what="likes' access-log line")
        self.assertEqual((line["trace_id"], line["span_id"]),
                         (server["traceId"], server["spanId"]))

    def test_a_sent_traceparent_is_the_trace_across_likes_and_pizza(self):
        trace_id, parent = os.urandom(16).hex(), os.urandom(8).hex()
        r = self.expand({"traceparent": "00-%s-%s-01" % (trace_id, parent),
                         "tracestate": "vendor=abc,other=1"})
        server = self.assertTrace(trace_id, "vendor=abc,other=1")
        self.assertEqual(server["parentSpanId"], parent)
        self.assertLogged(r, server)
        with RECEIVER.lock:
            doc = RECEIVER.posts[-1]
        scope = doc["resourceSpans"][0]["scopeSpans"][0]["scope"]
        self.assertEqual(scope["name"], "tizza")

    def test_without_traceparent_a_new_trace_starts(self):
        r = self.expand()
        line = wait_for(lambda: access_line(K.likes, r.headers["X-Request-Id"]), 5)
        self.assertRegex(line["trace_id"], "^[0-9a-f]{32}$")
        server = self.assertTrace(line["trace_id"])
        self.assertNotIn("parentSpanId", server)
        self.assertEqual(server["spanId"], line["span_id"])

    def test_a_malformed_traceparent_starts_a_new_trace(self):
        good_id = os.urandom(16).hex()
        bad = ["00-%s-%s-01" % (good_id.upper(), "ab" * 8),            # upper case
               "00-%s-%s-01" % ("0" * 32, "ab" * 8),                   # zero trace id
               "ff-%s-%s-01" % (good_id, "ab" * 8),                    # version ff
               "00-%s-%s-01-x" % (good_id, "ab" * 8),                  # v00 too long
               "00-%s-%s-01" % (good_id[:30], "ab" * 8)]               # short
        for value in bad:
            with self.subTest(traceparent=value):
                r = self.expand({"traceparent": value})
                line = wait_for(lambda: access_line(K.likes, r.headers["X-Request-Id"]), 5)
                self.assertNotIn(line["trace_id"], (good_id, good_id.lower(), "0" * 32))
                server = self.assertTrace(line["trace_id"])
                self.assertNotIn("parentSpanId", server)

    def test_an_unsampled_parent_is_followed(self):
        trace_id, parent = os.urandom(16).hex(), os.urandom(8).hex()
        r = self.expand({"traceparent": "00-%s-%s-00" % (trace_id, parent)})
        line = wait_for(lambda: access_line(K.likes, r.headers["X-Request-Id"]), 5)
        self.assertEqual(line["trace_id"], trace_id)  # logged and propagated, not exported
        # a sampled request after it is exported; by then the unsampled one would be too
        trace2 = os.urandom(16).hex()
        self.expand({"traceparent": "00-%s-%s-01" % (trace2, parent)})
        self.assertTrace(trace2)
        self.assertEqual(RECEIVER.trace(trace_id), [])


class TestTracingOff(ServiceTestCase):
    """OTEL_EXPORTER_OTLP_ENDPOINT unset: requests work, no span is exported, no trace ids
    are logged."""

    @classmethod
    def setUpClass(cls):
        cls.k = started(Constellation(), cls.fixtures)

    @classmethod
    def fixtures(cls, k):
        cls.user = k.signup("notrace")
        pizzeria = k.pizzeria(cls.user, name="Untraced")
        pizza = k.new_pizza(k.admin, pizzeria["id"], title="U1", approved=True)
        k.judge(cls.user, pizza["id"], True)

    @classmethod
    def tearDownClass(cls):
        cls.k.teardown()

    def test_nothing_is_sent_and_requests_work(self):
        trace_id = os.urandom(16).hex()
        r = self.k.likes.get(LIKES + "?expand=pizza", token=self.user.token,
                             headers={"traceparent": "00-%s-%s-01" % (trace_id, "cd" * 8)})
        self.assertEqual(r.status, 200, r)
        self.assertIsNotNone(r.json["results"][0]["pizza"])
        line = wait_for(lambda: access_line(self.k.likes, r.headers["X-Request-Id"]), 5)
        self.assertNotIn("trace_id", line)
        metrics = self.k.likes.get("/metrics").text
        self.assertNotIn("tizza_trace_spans", metrics)
        self.assertEqual(RECEIVER.trace(trace_id), [])


if __name__ == "__main__":
    unittest.main()
