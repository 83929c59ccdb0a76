/* test_events -- the messaging layer against a real RabbitMQ (events.h).
 *
 * Needs AMQP_URL (a broker; tests/broker-test.sh starts a private one) and STORE_URL (a
 * sqlite:// file shared by the test and the relay/consumer threads). Without AMQP_URL it
 * re-runs itself under tests/broker-test.sh when started from the repository root (as
 * `make test` does); elsewhere every test is skipped with a message.
 *
 * The test talks to the broker through its own plain librabbitmq connection ("probe"):
 * it binds server-named queues to watch what the relay publishes, publishes events for
 * the consumer, and reads queue depths and dead-letter queues. Every test uses event types
 * and queue names unique to this run, and deletes its queues at the end. What a test opens
 * (store, probe, relay, consumer) is registered for its teardown (testlib.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "events.h"
#include "metrics.h"
#include "store.h"
#include "store_internal.h" /* store_fail(), to simulate a backend's report */
#include "testlib.h"
#include "util.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *amqp_url;
static const char *store_url;
static char run_tag[32]; /* unique per run: event types and queue names carry it */

/* ---- helpers ------------------------------------------------------------------------- */

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void name(char *out, size_t n, const char *fmt, const char *what) {
    snprintf(out, n, fmt, run_tag, what);
}

/* A store on STORE_URL with empty tables; closed by the teardown. */
static store_t *open_store(void) {
    char err[256] = "";
    store_t *s = test_defer_store(store_open(store_url, "test_events", err, sizeof err));
    if (!s) fail_msg("store_open(%s): %s", store_url, err);
    assert_int_equal(outbox_migrate(s), STORE_OK);
    assert_int_equal(event_consumer_migrate(s), STORE_OK);
    assert_int_equal(store_ensure_collection(s, "test_effects"), STORE_OK);
    assert_int_equal(store_delete(s, "outbox", NULL, NULL), STORE_OK);
    assert_int_equal(store_delete(s, "processed_events", NULL, NULL), STORE_OK);
    assert_int_equal(store_delete(s, "test_effects", NULL, NULL), STORE_OK);
    return s;
}

static long count(store_t *s, const char *coll, store_filter_t *f) {
    long n = -1;
    int rc = store_count(s, coll, f, &n);
    store_filter_free(f);
    assert_int_equal(rc, STORE_OK);
    return n;
}

static long count_unsent(store_t *s) {
    store_filter_t *f = store_filter_new();
    store_where_bool(f, "sent", false);
    return count(s, "outbox", f);
}

/* Commits one event of `type` with payload {"n": n}; returns its event id in id_out. */
static void add_event(store_t *s, const char *type, int n, char id_out[ID_LEN + 1]) {
    assert_int_equal(store_begin(s), STORE_OK);
    cJSON *payload = cJSON_CreateObject();
    cJSON_AddNumberToObject(payload, "n", n);
    cJSON_AddStringToObject(payload, "user_id", "0123456789abcdef01234567");
    assert_int_equal(outbox_add(s, "test-producer", "users", type, "1.0.0", payload), STORE_OK);
    assert_int_equal(store_commit(s), STORE_OK);
    if (id_out) { /* the newest row is ours: sort by created_at desc, id desc */
        cJSON *rows = NULL;
        store_filter_t *f = store_filter_new();
        store_where_str(f, "type", STORE_EQ, type);
        int rc = store_find(s, "outbox", f, "-created_at,-id", 1, 0, &rows);
        store_filter_free(f);
        test_defer_json(rows);
        assert_int_equal(rc, STORE_OK);
        assert_int_equal(cJSON_GetArraySize(rows), 1);
        strcpy(id_out, cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "id")->valuestring);
        test_release(rows);
    }
}

/* True when the rendered metrics contain `text` (a whole line when `line`). */
static bool metric_find(const char *text, bool line) {
    size_t len;
    char *all = metrics_render(&len);
    char want[512];
    snprintf(want, sizeof want, line ? "\n%s\n" : "%s", text);
    bool found = all && strstr(all, want) != NULL;
    free(all);
    return found;
}

static bool metric_has(const char *prefix) { return metric_find(prefix, false); }
static bool metric_line(const char *line) { return metric_find(line, true); }

static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- probe: the test's own broker connection ------------------------------------------ */

typedef struct {
    amqp_connection_state_t conn;
} probe_t;

static void probe_ok(probe_t *p, const char *what) {
    amqp_rpc_reply_t r = amqp_get_rpc_reply(p->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
        fail_msg("probe %s failed (reply type %d, library error %s)", what, r.reply_type,
                 amqp_error_string2(r.library_error));
}

static void probe_close(void *conn) {
    if (amqp_get_sockfd(conn) >= 0) { /* not when probe_open() failed to connect */
        amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
        amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    }
    amqp_destroy_connection(conn);
}

/* Closed by the teardown. */
static probe_t probe_open(void) {
    char *copy = test_defer_free(strdup(amqp_url));
    struct amqp_connection_info info;
    assert_int_equal(amqp_parse_url(copy, &info), AMQP_STATUS_OK);
    probe_t p = {test_defer(probe_close, amqp_new_connection())};
    amqp_socket_t *sock = amqp_tcp_socket_new(p.conn);
    assert_non_null(sock);
    assert_int_equal(amqp_socket_open(sock, info.host, info.port), AMQP_STATUS_OK);
    amqp_rpc_reply_t r = amqp_login(p.conn, info.vhost, 0, AMQP_DEFAULT_FRAME_SIZE, 0,
                                    AMQP_SASL_METHOD_PLAIN, info.user, info.password);
    assert_int_equal(r.reply_type, AMQP_RESPONSE_NORMAL);
    amqp_channel_open(p.conn, 1);
    probe_ok(&p, "channel.open");
    test_release(copy);
    return p;
}

/* A server-named exclusive queue bound to exchange by key; name into out. */
static void probe_watch(probe_t *p, const char *exchange, const char *key, char *out, size_t n) {
    amqp_exchange_declare(p->conn, 1, amqp_cstring_bytes(exchange), amqp_cstring_bytes("topic"), 0,
                          1, 0, 0, amqp_empty_table);
    probe_ok(p, "exchange.declare");
    amqp_queue_declare_ok_t *q =
        amqp_queue_declare(p->conn, 1, amqp_empty_bytes, 0, 0, 1, 1, amqp_empty_table);
    probe_ok(p, "queue.declare");
    snprintf(out, n, "%.*s", (int)q->queue.len, (const char *)q->queue.bytes);
    amqp_queue_bind(p->conn, 1, amqp_cstring_bytes(out), amqp_cstring_bytes(exchange),
                    amqp_cstring_bytes(key), amqp_empty_table);
    probe_ok(p, "queue.bind");
}

/* Ready messages in a queue (passive declare). */
static long probe_depth(probe_t *p, const char *queue) {
    amqp_queue_declare_ok_t *q =
        amqp_queue_declare(p->conn, 1, amqp_cstring_bytes(queue), 1, 0, 0, 0, amqp_empty_table);
    probe_ok(p, "queue.declare passive");
    return (long)q->message_count;
}

static bool wait_depth(probe_t *p, const char *queue, long want, long ms) {
    for (long t = 0; t < ms; t += 50) {
        if (probe_depth(p, queue) == want) return true;
        sleep_ms(50);
    }
    return probe_depth(p, queue) == want;
}

static void probe_delete(probe_t *p, const char *queue) {
    amqp_queue_delete(p->conn, 1, amqp_cstring_bytes(queue), 0, 0);
    probe_ok(p, "queue.delete");
}

typedef struct {
    cJSON *body; /* parsed body, NULL when not JSON */
    char raw[512];
    amqp_basic_properties_t props; /* strings valid until got_free */
    amqp_message_t *msg;
    long attempts; /* x-attempts header, -1 when absent */
} got_t;

static void message_free(void *msg) {
    amqp_destroy_message(msg);
    free(msg);
}

static long header_int(const amqp_basic_properties_t *props, const char *key) {
    if (!(props->_flags & AMQP_BASIC_HEADERS_FLAG)) return -1;
    for (int i = 0; i < props->headers.num_entries; i++) {
        const amqp_table_entry_t *e = &props->headers.entries[i];
        if (e->key.len == strlen(key) && memcmp(e->key.bytes, key, e->key.len) == 0)
            return e->value.kind == AMQP_FIELD_KIND_I32 ? e->value.value.i32 : -2;
    }
    return -1;
}

/* basic.get with retries for up to ms; false when nothing came. */
static bool probe_get(probe_t *p, const char *queue, long ms, got_t *g) {
    memset(g, 0, sizeof *g);
    for (long t = 0;; t += 50) {
        amqp_rpc_reply_t r = amqp_basic_get(p->conn, 1, amqp_cstring_bytes(queue), 1);
        assert_int_equal(r.reply_type, AMQP_RESPONSE_NORMAL);
        if (r.reply.id == AMQP_BASIC_GET_OK_METHOD) break;
        if (t >= ms) return false;
        sleep_ms(50);
    }
    g->msg = test_defer(message_free, calloc(1, sizeof *g->msg)); /* freed by got_free() */
    assert_non_null(g->msg);
    amqp_rpc_reply_t r = amqp_read_message(p->conn, 1, g->msg, 0);
    assert_int_equal(r.reply_type, AMQP_RESPONSE_NORMAL);
    g->props = g->msg->properties;
    snprintf(g->raw, sizeof g->raw, "%.*s", (int)g->msg->body.len,
             (const char *)g->msg->body.bytes);
    g->body = test_defer_json(cJSON_Parse(g->raw));
    g->attempts = header_int(&g->props, "x-attempts");
    return true;
}

static void got_free(got_t *g) {
    test_release(g->body);
    test_release(g->msg);
}

static bool bytes_eq(amqp_bytes_t b, const char *s) {
    return b.len == strlen(s) && memcmp(b.bytes, s, b.len) == 0;
}

static const char *jstr(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void probe_publish(probe_t *p, const char *exchange, const char *key, const char *body) {
    amqp_basic_properties_t props = {._flags = AMQP_BASIC_DELIVERY_MODE_FLAG |
                                               AMQP_BASIC_CONTENT_TYPE_FLAG,
                                     .delivery_mode = 2,
                                     .content_type = amqp_cstring_bytes("application/json")};
    assert_int_equal(amqp_basic_publish(p->conn, 1, amqp_cstring_bytes(exchange),
                                        amqp_cstring_bytes(key), 0, 0, &props,
                                        amqp_cstring_bytes(body)),
                     AMQP_STATUS_OK);
}

/* A well-formed event body of `type` with a fresh or given event id; freed by the teardown. */
static char *event_body(const char *type, const char *version, const char *event_id,
                        const char *mode, char id_out[ID_LEN + 1]) {
    char id[ID_LEN + 1];
    if (event_id)
        strcpy(id, event_id);
    else
        id_new(id);
    if (id_out) strcpy(id_out, id);
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "event_id", id);
    cJSON_AddStringToObject(ev, "type", type);
    cJSON_AddStringToObject(ev, "version", version);
    cJSON_AddStringToObject(ev, "occurred_at", "2026-01-01T00:00:00.000Z");
    cJSON_AddStringToObject(ev, "producer", "test");
    cJSON_AddStringToObject(ev, "mode", mode);
    char *s = cJSON_PrintUnformatted(ev);
    cJSON_Delete(ev);
    return test_defer_free(s);
}

/* ---- the consumer's test handler ------------------------------------------------------ */

#define MAX_CALLS 64

typedef struct {
    pthread_mutex_t mu;
    int calls;
    char ids[MAX_CALLS][ID_LEN + 1]; /* event ids in call order */
    int commits;                     /* on_commit callbacks */
} handler_t;

static void handler_init(handler_t *h) {
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
}

/* Writes an effect row (so rollbacks are visible), then does what "mode" says. */
static int test_handler(store_t *s, const cJSON *event, void *ctx) {
    handler_t *h = ctx;
    const char *id = jstr(event, "event_id"), *mode = jstr(event, "mode");
    pthread_mutex_lock(&h->mu);
    int before = 0;
    for (int i = 0; i < h->calls && i < MAX_CALLS; i++) before += strcmp(h->ids[i], id) == 0;
    if (h->calls < MAX_CALLS) snprintf(h->ids[h->calls], sizeof h->ids[0], "%s", id);
    h->calls++;
    pthread_mutex_unlock(&h->mu);
    char eid[ID_LEN + 1];
    id_new(eid);
    cJSON *effect = cJSON_CreateObject();
    cJSON_AddStringToObject(effect, "id", eid);
    cJSON_AddStringToObject(effect, "event_id", id);
    int rc = store_insert(s, "test_effects", effect);
    cJSON_Delete(effect);
    if (rc != STORE_OK) return EVENT_RETRY;
    if (mode && strcmp(mode, "retry") == 0) return EVENT_RETRY;
    if (mode && strcmp(mode, "conflict") == 0 && before == 0) {
        /* the first run loses a write conflict, as on MongoDB (the backend reports
         * STORE_RETRY), and the handler makes a plain retry of it */
        store_fail(STORE_RETRY, "simulated write conflict");
        return EVENT_RETRY;
    }
    if (mode && strcmp(mode, "poison") == 0) return EVENT_POISON;
    return EVENT_OK;
}

static void on_commit(void *ctx) {
    handler_t *h = ctx;
    pthread_mutex_lock(&h->mu);
    h->commits++;
    pthread_mutex_unlock(&h->mu);
}

static int calls_for(handler_t *h, const char *id) {
    pthread_mutex_lock(&h->mu);
    int n = 0;
    for (int i = 0; i < h->calls && i < MAX_CALLS; i++) n += strcmp(h->ids[i], id) == 0;
    pthread_mutex_unlock(&h->mu);
    return n;
}

static int total_calls(handler_t *h) {
    pthread_mutex_lock(&h->mu);
    int n = h->calls;
    pthread_mutex_unlock(&h->mu);
    return n;
}

static bool wait_calls(handler_t *h, const char *id, int want, long ms) {
    for (long t = 0; t < ms; t += 20) {
        if (calls_for(h, id) >= want) return true;
        sleep_ms(20);
    }
    return calls_for(h, id) >= want;
}

static long effects_for(store_t *s, const char *id) {
    store_filter_t *f = store_filter_new();
    store_where_str(f, "event_id", STORE_EQ, id);
    return count(s, "test_effects", f);
}

/* A consumer on queue Q bound to users/"<type>.1.#" with the test handler. */
typedef struct {
    char type[96], key[128], binding[128], queue[128], dlq[140];
    handler_t h;
    event_consumer_t *c;
} consumer_fixture_t;

static void consumer_fixture_free(void *p) {
    consumer_fixture_t *f = p;
    pthread_mutex_destroy(&f->h.mu);
    free(f);
}

static void consumer_stop(void *c) { event_consumer_stop(c); }

/* Stopped and freed by the teardown, unless consumer_fixture_stop() stopped it before. */
static consumer_fixture_t *consumer_fixture_start(store_t *s, const char *what) {
    consumer_fixture_t *f = test_defer(consumer_fixture_free, calloc(1, sizeof *f));
    assert_non_null(f);
    handler_init(&f->h);
    name(f->type, sizeof f->type, "t%s.%s", what);
    snprintf(f->key, sizeof f->key, "%s.1.0.0", f->type);
    snprintf(f->binding, sizeof f->binding, "%s.1.#", f->type);
    name(f->queue, sizeof f->queue, "test-%s.%s", what);
    snprintf(f->dlq, sizeof f->dlq, "%s.dlq", f->queue);
    event_consumer_spec_t spec = {.queue = f->queue,
                                  .exchange = "users",
                                  .binding = f->binding,
                                  .major = 1,
                                  .fn = test_handler,
                                  .ctx = &f->h};
    f->c = test_defer(consumer_stop, event_consumer_start(s, amqp_url, NULL, &spec, 1, 10));
    assert_non_null(f->c);
    event_consumer_on_commit(f->c, on_commit, &f->h);
    for (int i = 0; i < 200 && !event_consumer_connected(f->c); i++) sleep_ms(50);
    assert_true(event_consumer_connected(f->c));
    return f;
}

/* Stops the consumer (must be prompt) and deletes its queues. */
static void consumer_fixture_stop(consumer_fixture_t *f, probe_t *p) {
    uint64_t t0 = mono_ns();
    test_release(f->c); /* event_consumer_stop() */
    uint64_t ms = (mono_ns() - t0) / 1000000u;
    if (ms >= 1000) fail_msg("event_consumer_stop took %llu ms", (unsigned long long)ms);
    probe_delete(p, f->queue);
    probe_delete(p, f->dlq);
}

static void relay_stop(void *r) { outbox_relay_stop(r); }

/* outbox_relay_start(), stopped by the teardown or test_release(). */
static outbox_relay_t *relay_start(store_t *s, const char *url, const char *producer) {
    return test_defer(relay_stop, outbox_relay_start(s, url, producer, NULL));
}

/* ---- tests: outbox and relay ---------------------------------------------------------- */

static void skip_without_broker(void) {
    if (!amqp_url || !store_url) {
        print_message("AMQP_URL / STORE_URL not set: run through tests/broker-test.sh\n");
        skip();
    }
}

static void test_outbox_add_requires_txn(void **state) {
    skip_without_broker();
    store_t *s = open_store();
    assert_int_equal(outbox_add(s, "p", "users", "x.y", "1.0.0", cJSON_CreateObject()), STORE_ERR);
    assert_int_equal(store_begin(s), STORE_OK);
    assert_int_equal(outbox_add(s, "p", "users", "x.y", "1.0.0", cJSON_CreateArray()), STORE_ERR);
    assert_int_equal(store_rollback(s), STORE_OK);
    assert_int_equal(count(s, "outbox", NULL), 0);
}

static void test_outbox_row_shape(void **state) {
    skip_without_broker();
    store_t *s = open_store();
    char id[ID_LEN + 1];
    add_event(s, "shape.made", 7, id);
    cJSON *row = NULL;
    assert_int_equal(store_get(s, "outbox", id, &row), STORE_OK);
    test_defer_json(row);
    assert_true(id_valid(id));
    assert_string_equal(jstr(row, "exchange"), "users");
    assert_string_equal(jstr(row, "routing_key"), "shape.made.1.0.0");
    assert_string_equal(jstr(row, "type"), "shape.made");
    assert_string_equal(jstr(row, "version"), "1.0.0");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(row, "sent")));
    assert_non_null(jstr(row, "created_at"));
    cJSON *body = test_defer_json(cJSON_Parse(jstr(row, "body")));
    assert_non_null(body);
    assert_string_equal(jstr(body, "event_id"), id);
    assert_string_equal(jstr(body, "producer"), "test-producer");
    assert_string_equal(jstr(body, "occurred_at"), jstr(row, "created_at"));
    assert_int_equal(cJSON_GetObjectItem(body, "n")->valueint, 7);
    /* header fields come first, in contract order */
    assert_string_equal(body->child->string, "event_id");
    assert_string_equal(body->child->next->string, "type");
}

static void test_relay_publishes_committed_events(void **state) {
    skip_without_broker();
    store_t *s = open_store();
    probe_t p = probe_open();
    char type[96], key[128], watch[256];
    name(type, sizeof type, "t%s.%s", "published");
    snprintf(key, sizeof key, "%s.1.0.0", type);
    probe_watch(&p, "users", key, watch, sizeof watch);

    char ids[3][ID_LEN + 1];
    assert_int_equal(store_begin(s), STORE_OK); /* three events in one transaction */
    for (int i = 0; i < 3; i++) {
        cJSON *payload = cJSON_CreateObject();
        cJSON_AddNumberToObject(payload, "n", i);
        assert_int_equal(outbox_add(s, "test-producer", "users", type, "1.0.0", payload), STORE_OK);
    }
    assert_int_equal(store_commit(s), STORE_OK);
    cJSON *rows = NULL;
    assert_int_equal(store_find(s, "outbox", NULL, "created_at,id", 0, 0, &rows), STORE_OK);
    test_defer_json(rows);
    assert_int_equal(cJSON_GetArraySize(rows), 3);
    for (int i = 0; i < 3; i++) strcpy(ids[i], jstr(cJSON_GetArrayItem(rows, i), "id"));

    int64_t before = now_ms() / 1000;
    outbox_relay_t *r = relay_start(s, amqp_url, "test-producer");
    assert_non_null(r);
    outbox_relay_notify(r);
    for (int i = 0; i < 3; i++) { /* in (created_at, id) order */
        got_t g;
        assert_true(probe_get(&p, watch, 10000, &g));
        assert_non_null(g.body);
        assert_string_equal(jstr(g.body, "event_id"), ids[i]);
        assert_string_equal(jstr(g.body, "type"), type);
        assert_string_equal(jstr(g.body, "version"), "1.0.0");
        assert_string_equal(jstr(g.body, "producer"), "test-producer");
        assert_non_null(jstr(g.body, "occurred_at"));
        assert_int_equal(cJSON_GetObjectItem(g.body, "n")->valueint, i);
        assert_true(g.props._flags & AMQP_BASIC_DELIVERY_MODE_FLAG);
        assert_int_equal(g.props.delivery_mode, 2);
        assert_true(bytes_eq(g.props.message_id, ids[i]));
        assert_true(bytes_eq(g.props.content_type, "application/json"));
        assert_true(bytes_eq(g.props.type, type));
        assert_true(bytes_eq(g.props.app_id, "test-producer"));
        assert_true(g.props._flags & AMQP_BASIC_TIMESTAMP_FLAG);
        assert_true((int64_t)g.props.timestamp >= before - 5 &&
                    (int64_t)g.props.timestamp <= now_ms() / 1000 + 5);
        assert_true(g.msg->body.len > 0);
        got_free(&g);
    }
    /* marked sent after the confirm; the backlog drains to 0 */
    for (int i = 0; i < 100 && (count_unsent(s) != 0 || outbox_relay_backlog(r) != 0); i++)
        sleep_ms(50);
    assert_int_equal(count_unsent(s), 0);
    assert_int_equal(outbox_relay_backlog(r), 0);
    cJSON *row = NULL;
    assert_int_equal(store_get(s, "outbox", ids[2], &row), STORE_OK);
    test_defer_json(row);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(row, "sent")));
    assert_non_null(jstr(row, "sent_at"));
    assert_true(outbox_relay_connected(r));
    assert_true(metric_line("tizza_outbox_backlog 0"));
    assert_true(metric_has("tizza_amqp_published_total"));

    /* nothing is published twice */
    got_t extra;
    assert_false(probe_get(&p, watch, 700, &extra));
    test_release(r);
}

/* More than two batches: everything arrives once, in order, and is marked sent. */
static void test_relay_many_events_in_order(void **state) {
    skip_without_broker();
    enum { N = 250 };
    store_t *s = open_store();
    probe_t p = probe_open();
    char type[96], key[128], watch[256];
    name(type, sizeof type, "t%s.%s", "many");
    snprintf(key, sizeof key, "%s.1.0.0", type);
    probe_watch(&p, "users", key, watch, sizeof watch);
    assert_int_equal(store_begin(s), STORE_OK);
    for (int i = 0; i < N; i++) {
        cJSON *payload = cJSON_CreateObject();
        cJSON_AddNumberToObject(payload, "n", i);
        assert_int_equal(outbox_add(s, "test-producer", "users", type, "1.0.0", payload), STORE_OK);
    }
    assert_int_equal(store_commit(s), STORE_OK);
    outbox_relay_t *r = relay_start(s, amqp_url, "test-producer");
    assert_non_null(r);
    for (int i = 0; i < N; i++) {
        got_t g;
        assert_true(probe_get(&p, watch, 10000, &g));
        assert_int_equal(cJSON_GetObjectItem(g.body, "n")->valueint, i);
        got_free(&g);
    }
    for (int i = 0; i < 100 && count_unsent(s) != 0; i++) sleep_ms(50);
    assert_int_equal(count_unsent(s), 0);
    got_t extra;
    assert_false(probe_get(&p, watch, 500, &extra));
    test_release(r);
}

static void test_relay_rolled_back_publishes_nothing(void **state) {
    skip_without_broker();
    store_t *s = open_store();
    probe_t p = probe_open();
    char type[96], key[128], watch[256];
    name(type, sizeof type, "t%s.%s", "rolledback");
    snprintf(key, sizeof key, "%s.1.0.0", type);
    probe_watch(&p, "users", key, watch, sizeof watch);
    outbox_relay_t *r = relay_start(s, amqp_url, "test-producer");
    assert_non_null(r);

    assert_int_equal(store_begin(s), STORE_OK);
    cJSON *payload = cJSON_CreateObject();
    cJSON_AddStringToObject(payload, "which", "rolled back");
    assert_int_equal(outbox_add(s, "test-producer", "users", type, "1.0.0", payload), STORE_OK);
    assert_int_equal(store_rollback(s), STORE_OK);
    outbox_relay_notify(r);
    char sentinel[ID_LEN + 1]; /* committed after: proves the relay was working */
    add_event(s, type, 2, sentinel);
    outbox_relay_notify(r);

    got_t g;
    assert_true(probe_get(&p, watch, 10000, &g));
    assert_string_equal(jstr(g.body, "event_id"), sentinel);
    got_free(&g);
    assert_false(probe_get(&p, watch, 1000, &g));
    assert_int_equal(count(s, "outbox", NULL), 1);
    test_release(r);
}

static void test_relay_keeps_backlog_while_broker_unreachable(void **state) {
    skip_without_broker();
    store_t *s = open_store();
    probe_t p = probe_open();
    char type[96], key[128], watch[256], dead_url[128];
    name(type, sizeof type, "t%s.%s", "unreachable");
    snprintf(key, sizeof key, "%s.1.0.0", type);
    probe_watch(&p, "users", key, watch, sizeof watch);
    snprintf(dead_url, sizeof dead_url, "amqp://guest:guest@127.0.0.1:%d/%%2f", free_port());

    outbox_relay_t *r = relay_start(s, dead_url, "test-producer");
    assert_non_null(r);
    char a[ID_LEN + 1], b[ID_LEN + 1];
    add_event(s, type, 1, a);
    add_event(s, type, 2, b);
    outbox_relay_notify(r);
    for (int i = 0; i < 60 && outbox_relay_backlog(r) != 2; i++) sleep_ms(50);
    assert_int_equal(outbox_relay_backlog(r), 2);
    assert_false(outbox_relay_connected(r));
    assert_int_equal(count_unsent(s), 2);
    got_t g;
    assert_false(probe_get(&p, watch, 300, &g));
    uint64_t t0 = mono_ns();
    test_release(r); /* outbox_relay_stop() must interrupt its reconnect backoff promptly */
    assert_true((mono_ns() - t0) / 1000000u < 1000);
    assert_true(metric_has("tizza_amqp_reconnects_total{role=\"relay\"}"));

    r = relay_start(s, amqp_url, "test-producer");
    assert_non_null(r);
    assert_true(probe_get(&p, watch, 10000, &g));
    assert_string_equal(jstr(g.body, "event_id"), a);
    got_free(&g);
    assert_true(probe_get(&p, watch, 10000, &g));
    assert_string_equal(jstr(g.body, "event_id"), b);
    got_free(&g);
    for (int i = 0; i < 100 && count_unsent(s) != 0; i++) sleep_ms(50);
    assert_int_equal(count_unsent(s), 0);
    test_release(r);
}

static void test_relay_unroutable_event_marked_sent_and_counted(void **state) {
    skip_without_broker();
    store_t *s = open_store();
    char type[96];
    name(type, sizeof type, "t%s.%s", "nobody-listens");
    outbox_relay_t *r = relay_start(s, amqp_url, "test-producer");
    assert_non_null(r);
    char id[ID_LEN + 1];
    add_event(s, type, 1, id);
    outbox_relay_notify(r);
    for (int i = 0; i < 200 && count_unsent(s) != 0; i++) sleep_ms(50);
    assert_int_equal(count_unsent(s), 0); /* confirmed by the broker, so not retried forever */
    assert_true(metric_has("tizza_amqp_unroutable_total"));
    test_release(r);
}

static void test_relay_rejects_bad_url(void **state) {
    skip_without_broker();
    store_t *s = open_store();
    assert_null(relay_start(s, "http://nope", "p"));
    outbox_relay_stop(NULL);
    assert_int_equal(outbox_relay_backlog(NULL), 0);
    assert_false(outbox_relay_connected(NULL));
}

/* ---- tests: consumer ------------------------------------------------------------------ */

static void test_consumer_duplicate_handled_once(void **state) {
    skip_without_broker();
    store_t *s = open_store();
    probe_t p = probe_open();
    consumer_fixture_t *f = consumer_fixture_start(s, "dup");
    char id[ID_LEN + 1];
    char *body = event_body(f->type, "1.0.0", NULL, "ok", id);
    probe_publish(&p, "users", f->key, body);
    probe_publish(&p, "users", f->key, body);

    char dup_line[300];
    snprintf(dup_line, sizeof dup_line,
             "tizza_events_consumed_total{queue=\"%s\",result=\"duplicate\"} 1", f->queue);
    for (int i = 0; i < 200 && !metric_line(dup_line); i++) sleep_ms(50);
    assert_true(metric_line(dup_line));
    assert_int_equal(calls_for(&f->h, id), 1);
    assert_int_equal(effects_for(s, id), 1);
    cJSON *mark = NULL;
    assert_int_equal(store_get(s, "processed_events", id, &mark), STORE_OK);
    test_defer_json(mark);
    assert_string_equal(jstr(mark, "queue"), f->queue);
    pthread_mutex_lock(&f->h.mu);
    assert_int_equal(f->h.commits, 1);
    pthread_mutex_unlock(&f->h.mu);
    consumer_fixture_stop(f, &p); /* stop first: unacked messages would be requeued */
    assert_int_equal(count(s, "processed_events", NULL), 1);
}

static void test_consumer_queue_depth_zero_after_ack(void **state) {
    skip_without_broker();
    store_t *s = open_store();
    probe_t p = probe_open();
    consumer_fixture_t *f = consumer_fixture_start(s, "acked");
    char id1[ID_LEN + 1], id2[ID_LEN + 1];
    char *b1 = event_body(f->type, "1.2.0", NULL, "ok", id1);
    char *b2 = event_body(f->type, "1.0.0", NULL, "ok", id2);
    probe_publish(&p, "users", f->key, b1);
    probe_publish(&p, "users", f->key, b2);
    char ok_line[300];
    snprintf(ok_line, sizeof ok_line, "tizza_events_consumed_total{queue=\"%s\",result=\"ok\"} 2",
             f->queue);
    for (int i = 0; i < 200 && !metric_line(ok_line); i++) sleep_ms(50);
    assert_true(metric_line(ok_line));
    assert_int_equal(calls_for(&f->h, id1), 1);
    assert_int_equal(calls_for(&f->h, id2), 1);
    test_release(f->c); /* event_consumer_stop(): returns unacked messages to the queue */
    assert_int_equal(probe_depth(&p, f->queue), 0);
    assert_int_equal(probe_depth(&p, f->dlq), 0);
    probe_delete(&p, f->queue);
    probe_delete(&p, f->dlq);
}

static void test_consumer_retries_then_dead_letters(void **state) {
    skip_without_broker();
    store_t *s = open_store();
    probe_t p = probe_open();
    consumer_fixture_t *f = consumer_fixture_start(s, "retry");
    char bad[ID_LEN + 1], good[ID_LEN + 1];
    char *b1 = event_body(f->type, "1.0.0", NULL, "retry", bad);
    char *b2 = event_body(f->type, "1.0.0", NULL, "ok", good);
    probe_publish(&p, "users", f->key, b1);
    probe_publish(&p, "users", f->key, b2);

    assert_true(wait_depth(&p, f->dlq, 1, 15000));
    assert_int_equal(calls_for(&f->h, bad), EVENT_MAX_ATTEMPTS);
    assert_int_equal(calls_for(&f->h, good), 1);
    /* the good message did not wait behind the failing one's retries */
    pthread_mutex_lock(&f->h.mu);
    int good_at = -1, last_bad_at = -1;
    for (int i = 0; i < f->h.calls && i < MAX_CALLS; i++) {
        if (strcmp(f->h.ids[i], good) == 0) good_at = i;
        if (strcmp(f->h.ids[i], bad) == 0) last_bad_at = i;
    }
    pthread_mutex_unlock(&f->h.mu);
    assert_true(good_at >= 0 && good_at < last_bad_at);
    /* failed attempts were rolled back; the good one committed */
    assert_int_equal(effects_for(s, bad), 0);
    assert_int_equal(effects_for(s, good), 1);
    cJSON *mark = NULL;
    assert_int_equal(store_get(s, "processed_events", bad, &mark), STORE_NOTFOUND);

    got_t g;
    assert_true(probe_get(&p, f->dlq, 1000, &g));
    assert_string_equal(jstr(g.body, "event_id"), bad);
    assert_int_equal(g.attempts, EVENT_MAX_ATTEMPTS - 1);
    assert_true(bytes_eq(g.props.content_type, "application/json"));
    got_free(&g);
    assert_int_equal(probe_depth(&p, f->queue), 0);
    char line[300];
    snprintf(line, sizeof line, "tizza_events_consumed_total{queue=\"%s\",result=\"retry\"} %d",
             f->queue, EVENT_MAX_ATTEMPTS - 1);
    assert_true(metric_line(line));
    snprintf(line, sizeof line,
             "tizza_events_consumed_total{queue=\"%s\",result=\"dead_letter\"} 1", f->queue);
    assert_true(metric_line(line));
    consumer_fixture_stop(f, &p);
}

/* A handler run that lost a write conflict runs again at once, in the same delivery: no
 * re-publication, no attempt used up, the first run rolled back. */
static void test_consumer_conflict_runs_again_at_once(void **state) {
    skip_without_broker();
    store_t *s = open_store();
    probe_t p = probe_open();
    consumer_fixture_t *f = consumer_fixture_start(s, "conflict");
    char id[ID_LEN + 1];
    char *body = event_body(f->type, "1.0.0", NULL, "conflict", id);
    probe_publish(&p, "users", f->key, body);
    char line[300];
    snprintf(line, sizeof line, "tizza_events_consumed_total{queue=\"%s\",result=\"ok\"} 1",
             f->queue);
    for (int i = 0; i < 200 && !metric_line(line); i++) sleep_ms(50);
    assert_true(metric_line(line));
    assert_int_equal(calls_for(&f->h, id), 2);
    assert_int_equal(effects_for(s, id), 1); /* the lost run left nothing */
    snprintf(line, sizeof line, "tizza_events_consumed_total{queue=\"%s\",result=\"retry\"}",
             f->queue);
    assert_false(metric_has(line)); /* never re-published */
    assert_int_equal(probe_depth(&p, f->dlq), 0);
    consumer_fixture_stop(f, &p);
}

static void test_consumer_malformed_dead_lettered_at_once(void **state) {
    skip_without_broker();
    store_t *s = open_store();
    probe_t p = probe_open();
    consumer_fixture_t *f = consumer_fixture_start(s, "malformed");
    char *v2 = event_body(f->type, "2.0.0", NULL, "ok", NULL);
    const char *bad[] = {
        "this is not json",
        "[1,2,3]",
        "{\"type\":\"x\",\"version\":\"1.0.0\"}",                     /* no event_id */
        "{\"event_id\":\"0123456789abcdef01234567\",\"type\":\"x\"}", /* no version */
        "{\"event_id\":5,\"type\":\"x\",\"version\":\"1.0.0\"}",      /* id not a string */
        v2,                                                           /* unknown major */
    };
    int nbad = (int)(sizeof bad / sizeof *bad);
    for (int i = 0; i < nbad; i++) probe_publish(&p, "users", f->key, bad[i]);
    char sentinel[ID_LEN + 1];
    char *ok = event_body(f->type, "1.9.3", NULL, "ok", sentinel);
    probe_publish(&p, "users", f->key, ok);

    assert_true(wait_calls(&f->h, sentinel, 1, 10000));
    assert_true(wait_depth(&p, f->dlq, nbad, 5000));
    assert_int_equal(total_calls(&f->h), 1); /* the handler never saw a malformed one */
    for (int i = 0; i < nbad; i++) {
        got_t g;
        assert_true(probe_get(&p, f->dlq, 1000, &g));
        assert_string_equal(g.raw, bad[i]); /* in order, untouched */
        assert_int_equal(g.attempts, -1);   /* no retries */
        got_free(&g);
    }
    consumer_fixture_stop(f, &p);
}

static void test_consumer_unknown_major_dead_lettered(void **state) {
    skip_without_broker();
    store_t *s = open_store();
    probe_t p = probe_open();
    consumer_fixture_t *f = consumer_fixture_start(s, "major");
    char v2id[ID_LEN + 1];
    char *v2 = event_body(f->type, "2.0.0", NULL, "ok", v2id);
    /* bound to "<type>.1.#", so route a 2.x event straight to the queue */
    probe_publish(&p, "", f->queue, v2);
    assert_true(wait_depth(&p, f->dlq, 1, 10000));
    assert_int_equal(calls_for(&f->h, v2id), 0);
    got_t g;
    assert_true(probe_get(&p, f->dlq, 1000, &g));
    assert_string_equal(jstr(g.body, "event_id"), v2id);
    assert_string_equal(jstr(g.body, "version"), "2.0.0");
    got_free(&g);
    consumer_fixture_stop(f, &p);
}

static void test_consumer_poison_dead_lettered_once(void **state) {
    skip_without_broker();
    store_t *s = open_store();
    probe_t p = probe_open();
    consumer_fixture_t *f = consumer_fixture_start(s, "poison");
    char id[ID_LEN + 1];
    char *b = event_body(f->type, "1.0.0", NULL, "poison", id);
    probe_publish(&p, "users", f->key, b);
    assert_true(wait_depth(&p, f->dlq, 1, 10000));
    assert_int_equal(calls_for(&f->h, id), 1);
    assert_int_equal(effects_for(s, id), 0);
    consumer_fixture_stop(f, &p);
}

static void test_relay_to_consumer_end_to_end(void **state) {
    skip_without_broker();
    store_t *s = open_store();
    probe_t p = probe_open();
    consumer_fixture_t *f = consumer_fixture_start(s, "e2e");
    outbox_relay_t *r = relay_start(s, amqp_url, "test-producer");
    assert_non_null(r);
    char id[ID_LEN + 1];
    add_event(s, f->type, 1, id);
    outbox_relay_notify(r);
    assert_true(wait_calls(&f->h, id, 1, 10000));
    sleep_ms(300);
    assert_int_equal(calls_for(&f->h, id), 1);
    assert_int_equal(effects_for(s, id), 1);
    test_release(r);
    consumer_fixture_stop(f, &p);
}

static void test_consumer_unreachable_then_stop(void **state) {
    skip_without_broker();
    store_t *s = open_store();
    char dead_url[128];
    snprintf(dead_url, sizeof dead_url, "amqp://guest:guest@127.0.0.1:%d/%%2f", free_port());
    event_consumer_spec_t spec = {.queue = "never",
                                  .exchange = "users",
                                  .binding = "x.1.#",
                                  .major = 1,
                                  .fn = test_handler,
                                  .ctx = NULL};
    event_consumer_t *c =
        test_defer(consumer_stop, event_consumer_start(s, dead_url, NULL, &spec, 1, 5));
    assert_non_null(c);
    sleep_ms(700);
    assert_false(event_consumer_connected(c));
    uint64_t t0 = mono_ns();
    test_release(c); /* event_consumer_stop() */
    assert_true((mono_ns() - t0) / 1000000u < 1000);
    assert_true(metric_has("tizza_amqp_reconnects_total{role=\"consumer\"}"));
    event_consumer_stop(NULL);
}

/* Without AMQP_URL, run again under tests/broker-test.sh (a private broker) when we are at
 * the repository root, as `make test` is; otherwise every test skips. */
static void reexec_with_broker(void) {
    const char *script = "tests/broker-test.sh";
    if (getenv("AMQP_URL") || access(script, R_OK) != 0) return;
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return;
    self[n] = '\0';
    fprintf(stderr, "test_events: no AMQP_URL; starting a private broker via %s\n", script);
    fflush(NULL);
    execl("/bin/bash", "bash", script, self, (char *)NULL);
    perror("test_events: exec bash"); /* fall through: the tests skip */
}

int main(void) {
    reexec_with_broker();
    amqp_url = getenv("AMQP_URL");
    store_url = getenv("STORE_URL");
    char id[ID_LEN + 1];
    id_new(id);
    snprintf(run_tag, sizeof run_tag, "%s", id + 8); /* random + counter: unique per run */
#define T(f) cmocka_unit_test_teardown(f, test_cleanup)
    const struct CMUnitTest tests[] = {
        T(test_outbox_add_requires_txn),
        T(test_outbox_row_shape),
        T(test_relay_publishes_committed_events),
        T(test_relay_many_events_in_order),
        T(test_relay_rolled_back_publishes_nothing),
        T(test_relay_keeps_backlog_while_broker_unreachable),
        T(test_relay_unroutable_event_marked_sent_and_counted),
        T(test_relay_rejects_bad_url),
        T(test_consumer_duplicate_handled_once),
        T(test_consumer_queue_depth_zero_after_ack),
        T(test_consumer_retries_then_dead_letters),
        T(test_consumer_conflict_runs_again_at_once),
        T(test_consumer_malformed_dead_lettered_at_once),
        T(test_consumer_unknown_major_dead_lettered),
        T(test_consumer_poison_dead_lettered_once),
        T(test_relay_to_consumer_end_to_end),
        T(test_consumer_unreachable_then_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
