"""Integration tests of account erasure over RabbitMQ (SPEC §5 auth erasure, §6 events):
the real tizza-auth and tizza-tweets binaries and a real RabbitMQ node (cluster.py), with the
broker, auth and tweets stopped, killed and restarted at the awkward moments.

Every test starts its own cluster (its own vhost and SQLite files, ~1 s) so a failure never
leaks messages or state into the next one; the RabbitMQ node is shared and put back up
after tests that stop or kill it. Stopping a cluster sends SIGTERM to both services and
asserts exit 0 and no sanitizer report.

Messages the services would never send (poison, duplicates) are published with
tests/integration/amqp_publish.c. A handler failure that keeps happening is injected with
an SQLite trigger in tweets' own store that aborts the insert of user.erased into its outbox
for one user id: the consumer's transaction fails on every attempt, exactly as a store
fault would.
"""
import sys
import datetime
import json
import os
import sqlite3
import threading
import time
import unittest

from cluster import NO_SUCH_ID, Cluster, ensure_broker, sqlite_only, wait_for

sqlite_only()

USERS = "/api/v1/users/"
TWEETS_Q = "tweets.user-deleted"
AUTH_Q = "auth.user-erased"


def object_id():
    return "%08x" % int(time.time()) + os.urandom(8).hex()


def iso_now():
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)


def user_erased(user_id, service, removed, event_id=None, **extra):
    ev = {"event_id": event_id or object_id(), "type": "user.erased", "version": "1.0.0",
          "occurred_at": iso_now(), "producer": service, "user_id": user_id,
          "service": service, "removed": removed}
    ev.update(extra)
    return ev


def user_deleted(user_id, event_id=None, **extra):
    ev = {"event_id": event_id or object_id(), "type": "user.deleted", "version": "1.0.0",
          "occurred_at": iso_now(), "producer": "auth", "user_id": user_id}
    ev.update(extra)
    return ev


class EventsTestCase(unittest.TestCase):
    maxDiff = 4000
    AUTH_ENV = {}

    def setUp(self):
        ensure_broker()
        self.c = Cluster(auth_env=self.AUTH_ENV)
        self.addCleanup(self.c.teardown)
        self.c.start()

    def tearDown(self):
        ensure_broker()  # before the cleanup: services shut down against a live broker

    # -- helpers
    def publish_event(self, ev, key="user.deleted.1.0.0", **props):
        p = {"message_id": ev.get("event_id") if isinstance(ev, dict) else None,
             "type": ev.get("type") if isinstance(ev, dict) else None, "app_id": "auth"}
        p.update(props)
        self.c.amqp.publish("users", key, ev, **p)

    def consumed(self, proc, queue, result):
        return proc.metric("tizza_events_consumed_total", {"queue": queue,
                                                           "result": result}) or 0

    def backlog(self, proc):
        v = proc.metric("tizza_outbox_backlog")
        self.assertIsNotNone(v, "tizza_outbox_backlog missing from %s /metrics" % proc.tag)
        return v

    def assertErased(self, rec, user_id, removed):
        self.assertEqual(rec["user_id"], user_id, rec)
        self.assertIs(rec["complete"], True, rec)
        self.assertEqual(set(rec["services"]), {"tweets"}, rec)
        tw = rec["services"]["tweets"]
        self.assertEqual(tw["status"], "done", rec)
        self.assertEqual(tw["removed"], {"tweets": removed}, rec)
        self.assertRegex(tw["at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertGreaterEqual(tw["at"], rec["requested_at"], rec)

    def assertPending(self, rec, user_id):
        self.assertEqual(rec["user_id"], user_id, rec)
        self.assertIs(rec["complete"], False, rec)
        self.assertEqual(rec["services"], {"tweets": {"status": "pending", "at": None,
                                                      "removed": None}}, rec)

    def assertNoDeadLetters(self):
        """Nothing dead-lettered and no error-level log line in either service."""
        for q in (TWEETS_Q + ".dlq", AUTH_Q + ".dlq"):
            self.assertEqual(self.c.amqp.depth(q), 0, q)
        for p in self.c.procs:
            logs = p.all_logs()
            self.assertNotIn("event dead-lettered", logs, p.tag)
            errors = [l for l in logs.splitlines() if '"level":"error"' in l]
            self.assertEqual(errors, [], p.tag)

    def wait_ready_status(self, proc, status, timeout=20):
        wait_for(lambda: proc.ready_status() == status, timeout,
                 what="%s /ready == %d" % (proc.tag, status))

    def delete_all(self, users, threads=4):
        """DELETEs users (as admin) in parallel; every answer must be 202."""
        bad = []

        def work(k):
            for u in users[k::threads]:
                r = self.c.delete_user(u)
                if r.status != 202:
                    bad.append(r)

        ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(bad, [])


class TestHappyPath(EventsTestCase):
    def test_delete_account_erases_tweets(self):
        c = self.c
        u, bystander = c.signup(), c.signup()
        for i in range(3):
            c.tweet(u, "doomed %d" % i)
        kept = c.tweet(bystander, "I stay")
        token = u.token
        r = c.delete_user(u, token=bystander.token)  # someone else may not
        self.assertEqual(r.status, 403, r)
        self.assertEqual(c.auth.get(USERS + u.id).status, 200)

        r = c.delete_user(u, token=token)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json["id"], u.id)
        self.assertEqual(r.json["status"], "erasing")
        self.assertEqual(r.json["erasure"],
                         "http://127.0.0.1:%d/api/v1/users/%s/erasure" % (c.auth.port, u.id))
        self.assertEqual(c.auth.get(USERS + u.id).status, 404)  # the row is gone at once

        rec = c.wait_erased([u.id], 10, token=token)[u.id]  # the user's own last token
        self.assertErased(rec, u.id, 3)
        self.assertEqual(c.tweets_of(u.username), 0)
        self.assertEqual(c.tweets.get("/api/v2/tweets/" + kept["id"]).status, 200)
        self.assertEqual(c.tweets_of(bystander.username), 1)

        # The deleted account may no longer write.
        r = c.tweets.req("POST", "/api/v2/tweets", {"body": "ghost"}, token=token)
        self.assertEqual(r.status, 401, r)
        self.assertEqual(c.tweets_of(u.username), 0)
        r = c.tweets.req("DELETE", "/api/v2/tweets/" + kept["id"], token=token)
        self.assertEqual(r.status, 401, r)
        self.assertEqual(c.auth.get("/api/v1/auth/me", token=token).status, 401)
        self.assertEqual(c.delete_user(u).status, 404)  # already gone (admin asking)
        # Who may read the erasure record.
        path = USERS + u.id + "/erasure"
        self.assertEqual(c.auth.get(path).status, 401)
        self.assertEqual(c.auth.get(path, token=bystander.token).status, 403)
        self.assertEqual(c.erasure(u.id).json, rec)  # admin
        self.assertEqual(c.erasure(NO_SUCH_ID).status, 404)
        self.assertEqual(c.erasure("not-an-id").status, 404)
        self.assertEqual(c.erasure(bystander.id).status, 404)  # alive: no record
        # Exactly one event each way, none dead-lettered.
        self.assertEqual(self.consumed(c.tweets, TWEETS_Q, "ok"), 1)
        self.assertEqual(self.consumed(c.auth, AUTH_Q, "ok"), 1)
        self.assertNoDeadLetters()
        wait_for(lambda: self.backlog(c.auth) == 0 and self.backlog(c.tweets) == 0, 10,
                 what="empty outboxes")
        # tweets remembers the deleted id across a restart (its store, not only memory).
        c.tweets.stop()
        c.start_services()
        r = c.tweets.req("POST", "/api/v2/tweets", {"body": "ghost again"}, token=token)
        self.assertEqual(r.status, 401, r)
        # The name is free again; the new account (a new id) writes normally.
        again = c.signup(u.username)
        self.assertNotEqual(again.id, u.id)
        c.tweet(again, "new me")
        self.assertEqual(c.tweets_of(u.username), 1)


class TestBrokerDown(EventsTestCase):
    def test_deletes_accepted_while_broker_is_down(self):
        c = self.c
        users = [c.signup() for _ in range(3)]
        for u in users:
            c.tweet(u, "before the outage")
        c.broker.stop()
        self.wait_ready_status(c.auth, 503)
        self.wait_ready_status(c.tweets, 503)
        ready = c.auth.get("/ready")
        self.assertIn("broker", ready.text)

        for u in users:
            r = c.delete_user(u)
            self.assertEqual(r.status, 202, r)
        wait_for(lambda: self.backlog(c.auth) >= 3, 15, what="auth outbox backlog >= 3")
        for u in users:
            r = c.erasure(u.id)
            self.assertEqual(r.status, 200, r)
            self.assertPending(r.json, u.id)
        # Everything that does not need the broker keeps working.
        self.assertEqual(c.auth.get("/health").status, 200)
        self.assertEqual(c.tweets.get("/health").status, 200)
        late = c.signup()
        c.tweet(late, "posted during the outage")
        self.assertEqual(c.tweets_of(users[0].username), 1)  # not erased yet

        c.broker.start()
        recs = c.wait_erased([u.id for u in users], timeout=40)
        for u in users:
            self.assertErased(recs[u.id], u.id, 1)
            self.assertEqual(c.tweets_of(u.username), 0)
        self.assertEqual(c.tweets_of(late.username), 1)
        self.wait_ready_status(c.auth, 200)
        self.wait_ready_status(c.tweets, 200)
        wait_for(lambda: self.backlog(c.auth) == 0, 15, what="auth outbox drained")
        self.assertNoDeadLetters()


class TestBrokerKilled(EventsTestCase):
    N = 200

    def test_sigkill_during_200_deletions_loses_nothing(self):
        c = self.c
        t0 = time.monotonic()
        users = c.signup_many(self.N, prefix="k")
        errors = []

        def tweet_all(k):
            try:
                for u in users[k::4]:
                    c.tweet(u, "tweet of " + u.username)
            except AssertionError as e:
                errors.append(e)

        ts = [threading.Thread(target=tweet_all, args=(k,)) for k in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(c.tweet_count(), self.N)
        setup_s = time.monotonic() - t0

        # Deletions before, during and after the kill.
        first, second = users[:self.N // 2], users[self.N // 2:]
        killer = threading.Thread(target=lambda: (time.sleep(0.05), c.broker.kill()))
        killer.start()
        self.delete_all(first)
        killer.join()
        self.assertFalse(c.broker.running())
        self.delete_all(second)
        wait_for(lambda: self.backlog(c.auth) > 0, 15, what="auth outbox backlog > 0")

        t1 = time.monotonic()
        c.broker.start()
        recs = c.wait_erased([u.id for u in users], timeout=120)
        recover_s = time.monotonic() - t1
        for u in users:
            self.assertErased(recs[u.id], u.id, 1)  # the count of the first application
        self.assertEqual(c.tweet_count(), 0)
        # Every event applied exactly once (redeliveries were recognised as duplicates).
        wait_for(lambda: self.consumed(c.auth, AUTH_Q, "ok") >= self.N, 10,
                 what="auth consumed every user.erased")
        self.assertEqual(self.consumed(c.tweets, TWEETS_Q, "ok"), self.N)
        self.assertEqual(self.consumed(c.auth, AUTH_Q, "ok"), self.N)
        for u in users[:5] + users[-5:]:
            r = c.tweets.req("POST", "/api/v2/tweets", {"body": "ghost"}, token=u.token)
            self.assertEqual(r.status, 401, r)
        wait_for(lambda: (c.amqp.depth(TWEETS_Q), c.amqp.depth(AUTH_Q)) == (0, 0), 15,
                 what="queues drained")
        wait_for(lambda: self.backlog(c.auth) == 0 and self.backlog(c.tweets) == 0, 15,
                 what="outboxes drained")
        self.assertNoDeadLetters()
        print("\n  [200 users: setup %.1f s, recovery after broker restart %.1f s] " %
              (setup_s, recover_s), end="", flush=True)


class TestTweetsStopped(EventsTestCase):
    def test_tweets_works_off_the_backlog_on_restart(self):
        c = self.c
        users = [c.signup() for _ in range(5)]
        for u in users:
            c.tweet(u, "one")
            c.tweet(u, "two")
        c.tweets.stop()
        self.delete_all(users)
        wait_for(lambda: c.amqp.depth(TWEETS_Q) == 5, 15, what="5 events waiting for tweets")
        for u in users:
            self.assertPending(c.erasure(u.id).json, u.id)
        c.tweets.start()
        recs = c.wait_erased([u.id for u in users], timeout=30)
        for u in users:
            self.assertErased(recs[u.id], u.id, 2)
            self.assertEqual(c.tweets_of(u.username), 0)
        self.assertEqual(c.amqp.depth(TWEETS_Q), 0)
        self.assertNoDeadLetters()


class TestAuthKilled(EventsTestCase):
    def test_event_committed_before_a_crash_is_still_published(self):
        c = self.c
        u = c.signup()
        c.tweet(u, "a")
        c.tweet(u, "b")
        c.broker.stop()
        self.wait_ready_status(c.auth, 503)
        r = c.delete_user(u)
        self.assertEqual(r.status, 202, r)
        wait_for(lambda: self.backlog(c.auth) >= 1, 15, what="the event waiting in the outbox")
        c.auth.kill()  # committed, never published
        c.broker.start()
        self.assertEqual(c.amqp.depth(TWEETS_Q), 0)  # nothing got out before the crash
        c.auth.start()
        rec = c.wait_erased([u.id], timeout=30)[u.id]
        self.assertErased(rec, u.id, 2)
        own = c.auth.get(USERS + u.id + "/erasure", token=u.token)  # re-armed memory still
        self.assertEqual((own.status, own.json), (200, rec))     # lets the user read it
        self.assertEqual(c.tweets_of(u.username), 0)
        self.assertEqual(c.auth.get(USERS + u.id).status, 404)
        r = c.tweets.req("POST", "/api/v2/tweets", {"body": "ghost"}, token=u.token)
        self.assertEqual(r.status, 401, r)
        self.assertNoDeadLetters()


class TestShutdownWhileBrokerDown(EventsTestCase):
    def test_sigterm_without_broker_is_clean_and_keeps_the_outbox(self):
        c = self.c
        u = c.signup()
        c.tweet(u, "a")
        c.broker.stop()
        self.wait_ready_status(c.auth, 503)
        self.assertEqual(c.delete_user(u).status, 202)
        wait_for(lambda: self.backlog(c.auth) >= 1, 15, what="the event waiting in the outbox")
        t0 = time.monotonic()
        c.stop()  # SIGTERM: exit 0, no sanitizer report, even with the broker away
        self.assertLess(time.monotonic() - t0, 15)
        c.broker.start()
        c.start_services()
        self.assertErased(c.wait_erased([u.id], 30)[u.id], u.id, 1)
        self.assertEqual(c.tweets_of(u.username), 0)
        self.assertNoDeadLetters()


class TestExpectedServices(EventsTestCase):
    AUTH_ENV = {"ERASURE_SERVICES": "likes,tweets"}

    def record(self, user_id, pred, what):
        return wait_for(lambda: (lambda r: r.json if r.status == 200 and pred(r.json) else None)(
            self.c.erasure(user_id)), 15, what=what)

    def test_complete_only_when_every_expected_service_reported(self):
        c = self.c
        u = c.signup()
        c.tweet(u, "x")
        self.assertEqual(c.delete_user(u).status, 202)
        rec = self.record(u.id, lambda j: j["services"]["tweets"]["status"] == "done",
                          "tweets done")
        self.assertIs(rec["complete"], False, rec)
        self.assertEqual(set(rec["services"]), {"likes", "tweets"})
        self.assertEqual(rec["services"]["likes"], {"status": "pending", "at": None,
                                                    "removed": None})
        first = user_erased(u.id, "likes", {"likes": 4})
        self.publish_event(first, key="user.erased.1.0.0", app_id="likes")
        rec = self.record(u.id, lambda j: j["complete"], "complete after likes reported")
        self.assertEqual(rec["services"]["likes"], {"status": "done", "at": first["occurred_at"],
                                                    "removed": {"likes": 4}})
        self.assertEqual(rec["services"]["tweets"]["removed"], {"tweets": 1})
        # A later, different report from the same service does not rewrite the record.
        second = user_erased(u.id, "likes", {"likes": 0})
        self.publish_event(second, key="user.erased.1.0.0", app_id="likes")
        wait_for(lambda: self.consumed(c.auth, AUTH_Q, "ok") >= 3, 15,
                 what="auth consumed the second report")
        self.assertEqual(c.erasure(u.id).json, rec)
        # An unknown user's report is ignored; an invalid one is dead-lettered.
        self.publish_event(user_erased(NO_SUCH_ID, "likes", {"likes": 1}),
                           key="user.erased.1.0.0", app_id="likes")
        self.publish_event(user_erased("bad-id", "likes", {"likes": 1}),
                           key="user.erased.1.0.0", app_id="likes")
        wait_for(lambda: c.amqp.depth(AUTH_Q + ".dlq") == 1, 15, what="invalid report in the DLQ")
        self.assertEqual(c.erasure(NO_SUCH_ID).status, 404)

    def test_report_without_occurred_at(self):
        """A done service always shows when ("at": ISO-8601), or the report is refused."""
        c = self.c
        u = c.signup()
        self.assertEqual(c.delete_user(u).status, 202)
        self.record(u.id, lambda j: j["services"]["tweets"]["status"] == "done", "tweets done")
        ev = user_erased(u.id, "likes", {"likes": 2})
        del ev["occurred_at"]
        self.publish_event(ev, key="user.erased.1.0.0", app_id="likes")
        wait_for(lambda: self.consumed(c.auth, AUTH_Q, "ok") +
                 self.consumed(c.auth, AUTH_Q, "dead_letter") >= 2, 15,
                 what="auth handled the report")
        likes = c.erasure(u.id).json["services"]["likes"]
        if likes["status"] == "done":
            self.assertRegex(likes.get("at") or "", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$",
                             "erasure record: %r" % likes)
        else:
            self.assertEqual(c.amqp.depth(AUTH_Q + ".dlq"), 1)


class TestTweetsKilled(EventsTestCase):
    N = 120

    def test_sigkill_of_tweets_mid_stream_applies_each_erasure_once(self):
        c = self.c
        c.amqp.declare("test.erased", "users", "user.erased.#")
        users = c.signup_many(self.N, prefix="tk")
        for u in users:
            c.tweet(u, "one of " + u.username)
        c.tweets.stop()  # let the events pile up, then kill tweets while it works them off
        self.delete_all(users)
        wait_for(lambda: c.amqp.depth(TWEETS_Q) == self.N, 15, what="all events queued")
        c.start_services()
        wait_for(lambda: self.consumed(c.tweets, TWEETS_Q, "ok") >= 3, 15, interval=0.005,
                 what="tweets under way")
        c.tweets.kill()
        done_before_kill = c.tweets.stdout().count('"erased user ')
        self.assertGreater(done_before_kill, 0)
        if done_before_kill == self.N:  # a loaded machine: the kill came after the last one
            print("note: tweets finished all %d before the kill" % self.N, file=sys.stderr)
        c.start_services()
        recs = c.wait_erased([u.id for u in users], timeout=60)
        for u in users:
            self.assertErased(recs[u.id], u.id, 1)
        self.assertEqual(c.tweet_count(), 0)
        # tweets reported each user once: one event id per user (a re-sent copy of the
        # same event is fine, a second application would carry a new id and removed 0).
        reports = {}

        def all_reported():
            for m in c.amqp.get("test.erased", 100, 200):
                body = json.loads(m["body"])
                reports.setdefault(body["user_id"], {})[body["event_id"]] = body["removed"]
            return len(reports) >= self.N

        wait_for(all_reported, 15, what="a user.erased per user")
        self.assertEqual(set(reports), {u.id for u in users})
        for uid, by_event in reports.items():
            self.assertEqual(list(by_event.values()), [{"tweets": 1}], (uid, by_event))
        self.assertNoDeadLetters()


class TestPoison(EventsTestCase):
    DLQ = TWEETS_Q + ".dlq"

    def dlq_messages(self, n, timeout=15):
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < n and time.monotonic() < deadline:
            got += self.c.amqp.get(self.DLQ, n - len(got), wait_ms=200)
        self.assertEqual(len(got), n, got)
        return got

    def test_malformed_messages_go_to_the_dlq_at_once(self):
        c = self.c
        bad_id = user_deleted("not-a-valid-id")
        no_event_id = user_deleted(object_id())
        del no_event_id["event_id"]
        major_2 = user_deleted(object_id(), version="2.0.0")
        cases = [
            (bad_id, {}),  # the handler rejects it (EVENT_POISON)
            (no_event_id, {"message_id": "m-no-event-id", "type": "user.deleted"}),
            (major_2, {}),
            ("this is not JSON {", {"message_id": "m-not-json", "type": "user.deleted"}),
            ([1, 2, 3], {"message_id": "m-array", "type": "user.deleted"}),
        ]
        for body, props in cases:
            self.publish_event(body, **props)
        msgs = self.dlq_messages(len(cases))
        for m in msgs:  # each dead-lettered on its first delivery: no retry round trips
            self.assertNotIn("x-attempts", m["properties"].get("headers", {}), m)
            deaths = m["properties"]["headers"]["x-death"]
            self.assertEqual(deaths[0]["queue"], TWEETS_Q, m)
            self.assertEqual(deaths[0]["reason"], "rejected", m)
        self.assertEqual(self.consumed(c.tweets, TWEETS_Q, "retry"), 0)
        self.assertEqual(self.consumed(c.tweets, TWEETS_Q, "dead_letter"), len(cases))

        # Later messages still flow.
        u = c.signup()
        c.tweet(u, "x")
        self.assertEqual(c.delete_user(u).status, 202)
        self.assertErased(c.wait_erased([u.id], 15)[u.id], u.id, 1)
        self.assertEqual(c.amqp.depth(self.DLQ), 0)

    def test_failing_message_is_retried_5_times_then_dead_lettered(self):
        c = self.c
        w, later = c.signup(), c.signup()
        c.tweet(w, "w1")
        c.tweet(w, "w2")
        c.tweet(later, "l1")
        db = sqlite3.connect(c.tweets.store_url[len("sqlite://"):], timeout=30)
        db.execute("CREATE TRIGGER test_fail_erasure BEFORE INSERT ON outbox "
                   "WHEN instr(NEW.doc, '%s') > 0 BEGIN SELECT RAISE(ABORT, 'injected "
                   "failure'); END" % w.id)
        db.commit()
        ev = user_deleted(w.id)
        self.publish_event(ev)
        self.assertEqual(c.delete_user(later).status, 202)

        self.assertErased(c.wait_erased([later.id], 15)[later.id], later.id, 1)
        (m,) = self.dlq_messages(1)
        self.assertEqual(m["body"], json.dumps(ev))
        self.assertEqual(m["properties"]["message_id"], ev["event_id"])
        self.assertEqual(m["properties"]["headers"].get("x-attempts"), 4, m)  # 5 deliveries
        self.assertEqual(self.consumed(c.tweets, TWEETS_Q, "retry"), 4)
        self.assertEqual(self.consumed(c.tweets, TWEETS_Q, "dead_letter"), 1)
        self.assertIn("event dead-lettered", c.tweets.all_logs())
        # Every failed attempt was rolled back: w's tweets are all there, w may still write.
        self.assertEqual(c.tweets_of(w.username), 2)
        c.tweet(w, "still here")

        # The dead letter is intact and replayable once the fault is gone.
        db.execute("DROP TRIGGER test_fail_erasure")
        db.commit()
        db.close()
        self.publish_event(ev)
        wait_for(lambda: c.tweets_of(w.username) == 0, 15, what="replayed event applied")
        self.assertEqual(self.consumed(c.tweets, TWEETS_Q, "ok"), 2)


class TestDuplicates(EventsTestCase):
    def test_same_event_twice_same_end_state(self):
        c = self.c
        c.amqp.declare("test.observe", "users", "#")
        d, e = c.signup(), c.signup()
        c.tweet(d, "d1")
        c.tweet(d, "d2")
        c.tweet(e, "e1")
        self.assertEqual(c.delete_user(d).status, 202)
        rec = c.wait_erased([d.id], 15)[d.id]
        self.assertErased(rec, d.id, 2)

        seen = []

        def both_seen():
            seen.extend(c.amqp.get("test.observe", 10, 200))
            keys = sorted(m["routing_key"] for m in seen)
            return keys if len(keys) >= 2 else None

        keys = wait_for(both_seen, 10, what="user.deleted and user.erased observed")
        self.assertEqual(keys, ["user.deleted.1.0.0", "user.erased.1.0.0"], seen)
        deleted = [m for m in seen if m["routing_key"].startswith("user.deleted.")]
        original = deleted[0]
        props = original["properties"]
        for _ in range(2):  # delivered twice more, exactly as auth sent it
            c.amqp.publish("users", original["routing_key"], original["body"],
                           message_id=props["message_id"], type=props["type"],
                           app_id=props["app_id"], content_type=props["content_type"])
        wait_for(lambda: self.consumed(c.tweets, TWEETS_Q, "duplicate") >= 2, 15,
                 what="both copies seen by tweets")
        time.sleep(1.0)  # room for a wrong second user.erased to arrive
        self.assertEqual(self.consumed(c.tweets, TWEETS_Q, "ok"), 1)
        again = c.erasure(d.id)
        self.assertEqual(again.json, rec)
        self.assertEqual(c.tweets_of(d.username), 0)
        self.assertEqual(c.tweets_of(e.username), 1)
        after = c.amqp.get("test.observe", 100, 0)
        erased = [m for m in after if m["routing_key"].startswith("user.erased.")]
        self.assertEqual(erased, [], "a duplicate user.deleted produced another user.erased")
        self.assertEqual(self.consumed(c.auth, AUTH_Q, "ok"), 1)
        self.assertNoDeadLetters()


if __name__ == "__main__":
    unittest.main()
