/* events.c -- the messaging layer (SPEC §6) on librabbitmq 0.11: topology, the outbox relay
 * and idempotent consumers. See events.h for the contract.
 *
 * Threads and connections. librabbitmq connections are not thread-safe, so every relay and
 * every consumer owns one thread and one connection (struct mq) that nothing else touches.
 * Other threads talk to them only through a `struct waiter` (mutex + monotonic condition
 * variable): notify wakes the relay early, stop wakes any sleep at once. Every blocking
 * AMQP call is bounded (connect, handshake and RPC timeouts, 250 ms consume slices), so
 * stop takes well under a second. Frames are read at least every ~500 ms, which lets
 * librabbitmq answer heartbeats (10 s) by itself.
 *
 * Relay. One cycle: count unsent rows (the backlog gauge), fetch the oldest 100 by
 * (created_at, id), publish each with publisher confirms (channel 1 in confirm mode; the
 * n-th publish on a fresh channel has delivery tag n), wait for basic.ack / basic.nack
 * (multiple=true acknowledges every tag up to it), then mark sent the longest prefix of
 * the batch that was acked (or dropped as unpublishable). A nacked row stops the prefix, so
 * rows are marked in order and the next cycle re-publishes from the oldest unsent row
 * (at-least-once). Publishes are mandatory: an event no queue is bound for yet (no consumer
 * has declared its queue) is still confirmed by the broker and so marked sent, but the
 * basic.return makes it visible (a warning and tizza_amqp_unroutable_total) instead of
 * vanishing silently. Any AMQP error closes the connection and reconnects with capped
 * exponential backoff plus jitter (100 ms .. 5 s). Sent rows older than an hour are purged
 * every minute.
 *
 * Consumer. Channel 1 consumes every spec's queue with manual acks and prefetch; the
 * consumer tag is the queue name, which maps a delivery back to its spec. Per message:
 * validate, then in one store transaction check processed_events, run the handler, record
 * the event_id, commit, and only then ack. A transaction that loses a write conflict
 * (MongoDB) runs again at once (store_transact), without using up an attempt; any other
 * failure is a retry. A retry re-publishes the same body and
 * properties with x-attempts+1 to the queue's tail through the default exchange on channel
 * 2, which is in tx mode so tx.commit-ok proves the broker has the copy before the original
 * is acked (nothing is lost if the broker dies in between). Malformed messages, handler
 * poison and the EVENT_MAX_ATTEMPTS-th failure are rejected without requeue, which
 * dead-letters them to the queue's dead-letter queue by its arguments. */
#include "events.h"

#include "alloc.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const config_var_t events_config_vars[] = {
    {.name = "AMQP_URL",
     .type = CONFIG_STR,
     .def = "amqp://guest:guest@127.0.0.1:5672/%2f",
     .help = "the RabbitMQ broker (vhost / is %2f)"},
    {.name = "AMQP_PREFETCH",
     .type = CONFIG_LONG,
     .def = "16",
     .min = 1,
     .max = 1000,
     .help = "unacknowledged messages per consumer"},
    {.name = NULL},
};

#define OUTBOX               "outbox"
#define PROCESSED            "processed_events"
#define RELAY_BATCH          100
#define RELAY_IDLE_MS        500
#define RELAY_ACK_TIMEOUT_MS 5000
#define RELAY_STOP_GRACE_MS  800
#define PURGE_EVERY_MS       60000
#define PURGE_AGE_MS         (3600 * 1000)
#define CONSUME_SLICE_MS     250
#define BACKOFF_MIN_MS       100
#define BACKOFF_MAX_MS       5000
#define HEARTBEAT_S          10
#define CONNECT_TIMEOUT_MS   3000
#define RPC_TIMEOUT_MS       5000
#define CH_MAIN              1
#define CH_RETRY             2

/* ---------------------------------------------------------------------------------------
 * waiter: interruptible sleeps shared between a worker thread and the outside world. */

struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    bool kicked;
};

static void waiter_init(struct waiter *w) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&w->mu, NULL);
    w->stop = w->kicked = false;
}

static void waiter_destroy(struct waiter *w) {
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
}

static void waiter_signal(struct waiter *w, bool stop) {
    pthread_mutex_lock(&w->mu);
    if (stop)
        w->stop = true;
    else
        w->kicked = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static bool waiter_stopping(struct waiter *w) {
    pthread_mutex_lock(&w->mu);
    bool stop = w->stop;
    pthread_mutex_unlock(&w->mu);
    return stop;
}

/* Sleeps up to ms, or until kicked (when wake_on_kick) or stopped. Clears the kick.
 * Returns true when stopping. */
static bool waiter_sleep(struct waiter *w, long ms, bool wake_on_kick) {
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->mu);
    while (!w->stop && !(wake_on_kick && w->kicked)) {
        if (pthread_cond_timedwait(&w->cv, &w->mu, &until) == ETIMEDOUT) break;
    }
    if (wake_on_kick) w->kicked = false;
    bool stop = w->stop;
    pthread_mutex_unlock(&w->mu);
    return stop;
}

/* ---------------------------------------------------------------------------------------
 * backoff: capped exponential with jitter in [delay/2, delay]. */

struct backoff {
    long ms;
};

static void backoff_reset(struct backoff *b) { b->ms = BACKOFF_MIN_MS; }

static long backoff_next(struct backoff *b) {
    long d = jitter_half(b->ms);
    b->ms = b->ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : b->ms * 2;
    return d;
}

static uint64_t ms_since(uint64_t t0_ns) { return (mono_ns() - t0_ns) / 1000000u; }

static struct timeval tv_ms(long ms) {
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return tv;
}

/* ---------------------------------------------------------------------------------------
 * mq: one AMQP connection with its error text. */

struct mq {
    char *url;                    /* owned copy of the configured URL */
    amqp_connection_state_t conn; /* NULL while disconnected */
    char err[256];
};

static bool url_valid(const char *url) {
    char *copy = xstrdup(url);
    struct amqp_connection_info info;
    bool ok = amqp_parse_url(copy, &info) == AMQP_STATUS_OK;
    free(copy);
    return ok;
}

static void reply_text(amqp_rpc_reply_t r, const char *what, char *out, size_t n) {
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL: snprintf(out, n, "%s: ok", what); break;
    case AMQP_RESPONSE_NONE: snprintf(out, n, "%s: no reply", what); break;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        snprintf(out, n, "%s: %s", what, amqp_error_string2(r.library_error));
        break;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            amqp_connection_close_t *m = r.reply.decoded;
            snprintf(out, n, "%s: connection closed %u %.*s", what, m->reply_code,
                     (int)m->reply_text.len, (const char *)m->reply_text.bytes);
        } else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            amqp_channel_close_t *m = r.reply.decoded;
            snprintf(out, n, "%s: channel closed %u %.*s", what, m->reply_code,
                     (int)m->reply_text.len, (const char *)m->reply_text.bytes);
        } else {
            snprintf(out, n, "%s: server method 0x%08x", what, (unsigned)r.reply.id);
        }
        break;
    }
}

/* 0 when the last RPC succeeded, else -1 with m->err set. */
static int mq_rpc_ok(struct mq *m, const char *what) {
    amqp_rpc_reply_t r = amqp_get_rpc_reply(m->conn);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) return 0;
    reply_text(r, what, m->err, sizeof m->err);
    return -1;
}

static int mq_status_ok(struct mq *m, int status, const char *what) {
    if (status == AMQP_STATUS_OK) return 0;
    snprintf(m->err, sizeof m->err, "%s: %s", what, amqp_error_string2(status));
    return -1;
}

/* Closes the connection; gracefully (close handshake, bounded) only when asked. */
static void mq_close(struct mq *m, bool graceful) {
    if (!m->conn) return;
    if (graceful) {
        struct timeval tv = tv_ms(500);
        amqp_set_rpc_timeout(m->conn, &tv);
        amqp_connection_close(m->conn, AMQP_REPLY_SUCCESS);
    }
    amqp_destroy_connection(m->conn);
    m->conn = NULL;
}

/* Opens socket, logs in, opens channel 1. */
static int mq_connect(struct mq *m) {
    char *copy = xstrdup(m->url);
    struct amqp_connection_info info;
    if (amqp_parse_url(copy, &info) != AMQP_STATUS_OK) {
        snprintf(m->err, sizeof m->err, "malformed AMQP URL");
        free(copy);
        return -1;
    }
    m->conn = amqp_new_connection();
    amqp_socket_t *sock = m->conn ? amqp_tcp_socket_new(m->conn) : NULL;
    if (!sock) {
        snprintf(m->err, sizeof m->err, "out of memory");
        free(copy);
        mq_close(m, false);
        return -1;
    }
    struct timeval connect_tv = tv_ms(CONNECT_TIMEOUT_MS), rpc_tv = tv_ms(RPC_TIMEOUT_MS);
    int rc = -1;
    if (mq_status_ok(m, amqp_socket_open_noblock(sock, info.host, info.port, &connect_tv),
                     "connect") == 0 &&
        mq_status_ok(m, amqp_set_handshake_timeout(m->conn, &connect_tv), "handshake") == 0 &&
        mq_status_ok(m, amqp_set_rpc_timeout(m->conn, &rpc_tv), "rpc timeout") == 0) {
        amqp_rpc_reply_t r =
            amqp_login(m->conn, info.vhost, 0, AMQP_DEFAULT_FRAME_SIZE, HEARTBEAT_S,
                       AMQP_SASL_METHOD_PLAIN, info.user, info.password);
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            reply_text(r, "login", m->err, sizeof m->err);
        } else {
            amqp_channel_open(m->conn, CH_MAIN);
            rc = mq_rpc_ok(m, "channel.open");
        }
    }
    free(copy);
    if (rc != 0) mq_close(m, false);
    return rc;
}

static int mq_declare_exchange(struct mq *m, const char *name) {
    amqp_exchange_declare(m->conn, CH_MAIN, amqp_cstring_bytes(name), amqp_cstring_bytes("topic"),
                          0, 1, 0, 0, amqp_empty_table);
    return mq_rpc_ok(m, "exchange.declare");
}

/* Q with dead-lettering into dlq (NULL: Q.dlq), the dlq itself, and Q bound to exchange by
 * binding. */
static int mq_declare_queue(struct mq *m, const char *queue, const char *exchange,
                            const char *binding, const char *dlq) {
    char dflt[256];
    if (!dlq) {
        snprintf(dflt, sizeof dflt, "%s.dlq", queue);
        dlq = dflt;
    }
    amqp_table_entry_t args[2];
    args[0].key = amqp_cstring_bytes("x-dead-letter-exchange");
    args[0].value.kind = AMQP_FIELD_KIND_UTF8;
    args[0].value.value.bytes = amqp_cstring_bytes("");
    args[1].key = amqp_cstring_bytes("x-dead-letter-routing-key");
    args[1].value.kind = AMQP_FIELD_KIND_UTF8;
    args[1].value.value.bytes = amqp_cstring_bytes(dlq);
    amqp_table_t table = {.num_entries = 2, .entries = args};

    amqp_queue_declare(m->conn, CH_MAIN, amqp_cstring_bytes(dlq), 0, 1, 0, 0, amqp_empty_table);
    if (mq_rpc_ok(m, "queue.declare dlq") != 0) return -1;
    amqp_queue_declare(m->conn, CH_MAIN, amqp_cstring_bytes(queue), 0, 1, 0, 0, table);
    if (mq_rpc_ok(m, "queue.declare") != 0) return -1;
    if (mq_declare_exchange(m, exchange) != 0) return -1;
    amqp_queue_bind(m->conn, CH_MAIN, amqp_cstring_bytes(queue), amqp_cstring_bytes(exchange),
                    amqp_cstring_bytes(binding), amqp_empty_table);
    return mq_rpc_ok(m, "queue.bind");
}

/* Every exchange and queue of the system's topology (NULL: none). Every relay and consumer
 * connection declares all of them, so an event published before its consumer ever started
 * still finds its queue and waits there. */
static int mq_declare_topology(struct mq *m, const topology_t *topo) {
    for (size_t i = 0; i < topology_exchange_count(topo); i++)
        if (mq_declare_exchange(m, topology_exchange(topo, i)) != 0) return -1;
    for (size_t i = 0; i < topology_queue_count(topo); i++) {
        const topology_queue_t *q = topology_queue_at(topo, i);
        if (mq_declare_queue(m, q->queue, q->exchange, q->binding, q->dlq) != 0) return -1;
    }
    return 0;
}

/* Fails on a frame that means the connection or a channel is gone. */
static int mq_check_frame(struct mq *m, const amqp_frame_t *f) {
    if (f->frame_type != AMQP_FRAME_METHOD) return 0;
    switch (f->payload.method.id) {
    case AMQP_CONNECTION_CLOSE_METHOD:
        snprintf(m->err, sizeof m->err, "server closed the connection");
        return -1;
    case AMQP_CHANNEL_CLOSE_METHOD:
        snprintf(m->err, sizeof m->err, "server closed channel %u", f->channel);
        return -1;
    case AMQP_BASIC_CANCEL_METHOD:
        snprintf(m->err, sizeof m->err, "server cancelled a consumer");
        return -1;
    default: return 0;
    }
}

/* Reads whatever frames are pending (which also sends and checks heartbeats). */
static int mq_pump(struct mq *m) {
    for (;;) {
        amqp_frame_t f;
        struct timeval tv = tv_ms(1);
        int st = amqp_simple_wait_frame_noblock(m->conn, &f, &tv);
        if (st == AMQP_STATUS_TIMEOUT) break;
        if (mq_status_ok(m, st, "read") != 0 || mq_check_frame(m, &f) != 0) return -1;
    }
    amqp_maybe_release_buffers(m->conn);
    return 0;
}

static void log_amqp(enum log_level level, const char *msg, const char *role, const char *err) {
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "role", role);
    if (err) cJSON_AddStringToObject(f, "error", err);
    log_fields(level, msg, f);
}

static void count_reconnect(const char *role) {
    char labels[64];
    snprintf(labels, sizeof labels, "role=\"%s\"", role);
    metrics_inc("tizza_amqp_reconnects_total", labels, 1);
}

/* ---------------------------------------------------------------------------------------
 * outbox rows */

int outbox_migrate(store_t *s) {
    int rc = store_ensure_collection(s, OUTBOX);
    if (rc == STORE_OK) rc = store_ensure_index(s, OUTBOX, "sent,created_at", false);
    return rc;
}

/* {event_id,type,version,occurred_at,producer,...payload}; header fields win. */
static cJSON *event_build(const char *id, const char *producer, const char *type,
                          const char *version, const char *now, cJSON *payload) {
    static const char *const reserved[] = {"event_id", "type", "version", "occurred_at",
                                           "producer"};
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "event_id", id);
    cJSON_AddStringToObject(ev, "type", type);
    cJSON_AddStringToObject(ev, "version", version);
    cJSON_AddStringToObject(ev, "occurred_at", now);
    cJSON_AddStringToObject(ev, "producer", producer);
    while (payload && payload->child) {
        cJSON *item = cJSON_DetachItemViaPointer(payload, payload->child);
        bool clash = false;
        for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
            clash = clash || (item->string && strcmp(item->string, reserved[i]) == 0);
        if (clash || !item->string)
            cJSON_Delete(item);
        else
            cJSON_AddItemToObject(ev, item->string, item);
    }
    return ev;
}

int outbox_add(store_t *s, const char *producer, const char *exchange, const char *type,
               const char *version, cJSON *payload) {
    if (payload && !cJSON_IsObject(payload)) {
        cJSON_Delete(payload);
        log_msg(LOG_ERROR, "outbox_add: payload of %s is not an object", type);
        return STORE_ERR;
    }
    if (!store_in_txn(s)) {
        cJSON_Delete(payload);
        log_msg(LOG_ERROR, "outbox_add: %s outside a store transaction", type);
        return STORE_ERR;
    }
    char id[ID_LEN + 1], now[32], key[256];
    id_new(id);
    iso_now(now);
    snprintf(key, sizeof key, "%s.%s", type, version);
    cJSON *ev = event_build(id, producer, type, version, now, payload);
    cJSON_Delete(payload);
    char *body = cJSON_PrintUnformatted(ev);
    cJSON_Delete(ev);
    if (!body) return STORE_ERR;

    cJSON *row = cJSON_CreateObject();
    cJSON_AddStringToObject(row, "id", id);
    cJSON_AddStringToObject(row, "exchange", exchange);
    cJSON_AddStringToObject(row, "routing_key", key);
    cJSON_AddStringToObject(row, "type", type);
    cJSON_AddStringToObject(row, "version", version);
    cJSON_AddStringToObject(row, "body", body);
    cJSON_AddStringToObject(row, "created_at", now);
    cJSON_AddBoolToObject(row, "sent", false);
    free(body);
    int rc = store_insert(s, OUTBOX, row);
    cJSON_Delete(row);
    return rc;
}

/* ---------------------------------------------------------------------------------------
 * relay */

struct outbox_relay {
    store_t *store;
    char *producer;
    struct mq mq;
    struct waiter w;
    struct backoff backoff;
    pthread_t thread;
    atomic_long backlog;
    atomic_bool connected;
    uint64_t next_tag;  /* delivery tag of the next publish on this channel */
    bool store_failing; /* a store error was logged and not yet recovered */
    uint64_t last_purge_ns;
    const topology_t *topo;   /* not owned */
    char *extra_exchanges[8]; /* exchanges declared on this connection beyond the topology's */
};

enum row_state { ROW_PENDING, ROW_ACKED, ROW_FAILED, ROW_DROPPED };

struct relay_batch {
    cJSON *rows[RELAY_BATCH];
    uint64_t tag[RELAY_BATCH]; /* 0 until published */
    enum row_state state[RELAY_BATCH];
    int n;
};

static void relay_forget_exchanges(outbox_relay_t *r) {
    for (size_t i = 0; i < sizeof r->extra_exchanges / sizeof *r->extra_exchanges; i++) {
        free(r->extra_exchanges[i]);
        r->extra_exchanges[i] = NULL;
    }
}

/* Declares a row's exchange once per connection when the topology does not have it. */
static int relay_ensure_exchange(outbox_relay_t *r, const char *name) {
    if (topology_has_exchange(r->topo, name)) return 0;
    size_t n = sizeof r->extra_exchanges / sizeof *r->extra_exchanges, i;
    for (i = 0; i < n && r->extra_exchanges[i]; i++)
        if (strcmp(name, r->extra_exchanges[i]) == 0) return 0;
    if (mq_declare_exchange(&r->mq, name) != 0) return -1;
    if (i < n) r->extra_exchanges[i] = xstrdup(name);
    return 0;
}

static void relay_disconnect(outbox_relay_t *r, bool graceful) {
    mq_close(&r->mq, graceful);
    relay_forget_exchanges(r);
    atomic_store(&r->connected, false);
}

static int relay_connect(outbox_relay_t *r) {
    if (mq_connect(&r->mq) != 0) return -1;
    if (mq_declare_topology(&r->mq, r->topo) != 0) goto fail;
    amqp_confirm_select(r->mq.conn, CH_MAIN);
    if (mq_rpc_ok(&r->mq, "confirm.select") != 0) goto fail;
    r->next_tag = 1;
    atomic_store(&r->connected, true);
    return 0;
fail:
    relay_disconnect(r, false);
    return -1;
}

static void relay_store_error(outbox_relay_t *r, const char *what) {
    if (!r->store_failing) log_msg(LOG_ERROR, "outbox relay: %s: %s", what, store_errmsg());
    r->store_failing = true;
}

/* Counts unsent rows into the backlog gauge. */
static int relay_count(outbox_relay_t *r) {
    store_filter_t *f = store_filter_new();
    store_where_bool(f, "sent", false);
    long n = 0;
    int rc = store_count(r->store, OUTBOX, f, &n);
    store_filter_free(f);
    if (rc != STORE_OK) {
        relay_store_error(r, "count");
        return rc;
    }
    atomic_store(&r->backlog, n);
    metrics_set("tizza_outbox_backlog", "", (double)n);
    return STORE_OK;
}

static int relay_fetch(outbox_relay_t *r, cJSON **rows) {
    store_filter_t *f = store_filter_new();
    store_where_bool(f, "sent", false);
    int rc = store_find(r->store, OUTBOX, f, "created_at,id", RELAY_BATCH, 0, rows);
    store_filter_free(f);
    if (rc != STORE_OK) relay_store_error(r, "fetch");
    return rc;
}

static const char *row_str(const cJSON *row, const char *field) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, field);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Seconds since the epoch of an ISO-8601 UTC timestamp (0 when unreadable). */
static uint64_t iso_seconds(const char *iso) {
    struct tm tm = {0};
    if (!iso || !strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
    time_t t = timegm(&tm);
    return t < 0 ? 0 : (uint64_t)t;
}

/* Publishes one row: 0, or -1 on an AMQP error. A row that can never be published (a field
 * missing) is logged and left ROW_DROPPED, which relay_mark_sent() marks sent like an acked
 * row. */
static int relay_publish_row(outbox_relay_t *r, struct relay_batch *b, int i) {
    const cJSON *row = b->rows[i];
    const char *id = row_str(row, "id"), *exchange = row_str(row, "exchange");
    const char *key = row_str(row, "routing_key"), *type = row_str(row, "type");
    const char *body = row_str(row, "body");
    if (!id || !exchange || !key || !type || !body) {
        log_msg(LOG_ERROR, "outbox relay: row %s is incomplete; dropped", id ? id : "?");
        b->state[i] = ROW_DROPPED;
        return 0;
    }
    if (relay_ensure_exchange(r, exchange) != 0) return -1;
    amqp_basic_properties_t p;
    memset(&p, 0, sizeof p);
    p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
               AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_TIMESTAMP_FLAG |
               AMQP_BASIC_APP_ID_FLAG;
    p.content_type = amqp_cstring_bytes("application/json");
    p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
    p.message_id = amqp_cstring_bytes(id);
    p.type = amqp_cstring_bytes(type);
    p.timestamp = iso_seconds(row_str(row, "created_at"));
    p.app_id = amqp_cstring_bytes(r->producer);
    int st = amqp_basic_publish(r->mq.conn, CH_MAIN, amqp_cstring_bytes(exchange),
                                amqp_cstring_bytes(key), 1, 0, &p, amqp_cstring_bytes(body));
    if (mq_status_ok(&r->mq, st, "publish") != 0) return -1;
    b->tag[i] = r->next_tag++;
    return 0;
}

static void batch_mark(struct relay_batch *b, uint64_t tag, bool multiple, enum row_state state) {
    for (int i = 0; i < b->n; i++)
        if (b->state[i] == ROW_PENDING && b->tag[i] != 0 &&
            (multiple ? b->tag[i] <= tag : b->tag[i] == tag))
            b->state[i] = state;
}

static bool batch_pending(const struct relay_batch *b) {
    for (int i = 0; i < b->n; i++)
        if (b->state[i] == ROW_PENDING) return true;
    return false;
}

/* Waits for every publish of the batch to be acked or nacked. */
static int relay_await_confirms(outbox_relay_t *r, struct relay_batch *b) {
    uint64_t t0 = mono_ns(), stop_seen = 0;
    while (batch_pending(b)) {
        if (!stop_seen && waiter_stopping(&r->w)) stop_seen = mono_ns();
        if (ms_since(t0) > RELAY_ACK_TIMEOUT_MS ||
            (stop_seen && ms_since(stop_seen) > RELAY_STOP_GRACE_MS)) {
            snprintf(r->mq.err, sizeof r->mq.err, "timed out waiting for publisher confirms");
            return -1;
        }
        amqp_frame_t f;
        struct timeval tv = tv_ms(100);
        int st = amqp_simple_wait_frame_noblock(r->mq.conn, &f, &tv);
        if (st == AMQP_STATUS_TIMEOUT) continue;
        if (mq_status_ok(&r->mq, st, "confirm wait") != 0 || mq_check_frame(&r->mq, &f) != 0)
            return -1;
        if (f.frame_type != AMQP_FRAME_METHOD || f.channel != CH_MAIN) continue;
        if (f.payload.method.id == AMQP_BASIC_RETURN_METHOD) {
            /* mandatory publish that no queue was bound for; its ack follows */
            const amqp_basic_return_t *ret = f.payload.method.decoded;
            log_msg(LOG_WARN, "outbox relay: no queue bound for %.*s/%.*s; event dropped",
                    (int)ret->exchange.len, (const char *)ret->exchange.bytes,
                    (int)ret->routing_key.len, (const char *)ret->routing_key.bytes);
            metrics_inc("tizza_amqp_unroutable_total", "", 1);
        } else if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
            const amqp_basic_ack_t *a = f.payload.method.decoded;
            batch_mark(b, a->delivery_tag, a->multiple, ROW_ACKED);
        } else if (f.payload.method.id == AMQP_BASIC_NACK_METHOD) {
            const amqp_basic_nack_t *a = f.payload.method.decoded;
            batch_mark(b, a->delivery_tag, a->multiple, ROW_FAILED);
        }
    }
    amqp_maybe_release_buffers(r->mq.conn);
    return 0;
}

/* Marks sent the prefix of the batch that was acked (or dropped as unpublishable), so
 * rows only ever advance in order. *marked counts the acked ones. */
static int relay_mark_sent(outbox_relay_t *r, const struct relay_batch *b, int *marked) {
    const char *ids[RELAY_BATCH];
    int n = 0;
    *marked = 0;
    for (int i = 0; i < b->n && (b->state[i] == ROW_ACKED || b->state[i] == ROW_DROPPED); i++) {
        const char *id = row_str(b->rows[i], "id");
        if (id) ids[n++] = id;
        *marked += b->state[i] == ROW_ACKED;
    }
    if (n == 0) return STORE_OK;
    char now[32];
    iso_now(now);
    cJSON *set = cJSON_CreateObject();
    cJSON_AddBoolToObject(set, "sent", true);
    cJSON_AddStringToObject(set, "sent_at", now);
    store_filter_t *f = store_filter_new();
    store_where_in(f, "id", STORE_IN, ids, n);
    int rc = store_update(r->store, OUTBOX, f, set, NULL, NULL);
    store_filter_free(f);
    cJSON_Delete(set);
    if (rc != STORE_OK) relay_store_error(r, "mark sent");
    return rc;
}

/* Publishes the batch and waits for its confirms; every row ends ACKED, FAILED or
 * DROPPED. Returns 0, or -1 when the connection failed (rows not confirmed are FAILED). */
static int relay_send_batch(outbox_relay_t *r, struct relay_batch *b) {
    int rc = 0;
    for (int i = 0; i < b->n && rc == 0; i++) rc = relay_publish_row(r, b, i);
    for (int i = 0; rc != 0 && i < b->n; i++) /* unpublished rows are not awaited */
        if (b->tag[i] == 0 && b->state[i] == ROW_PENDING) b->state[i] = ROW_FAILED;
    if (relay_await_confirms(r, b) != 0) rc = -1;
    int failed = 0;
    for (int i = 0; i < b->n; i++) {
        if (b->state[i] == ROW_PENDING) b->state[i] = ROW_FAILED;
        failed += b->state[i] == ROW_FAILED;
    }
    if (failed) metrics_inc("tizza_amqp_publish_errors_total", "", failed);
    return rc;
}

/* One pass over the oldest unsent rows. *full is set when a whole batch was sent (more may
 * wait). Returns 0, -1 on an AMQP error (reconnect) or -2 on a store error. */
static int relay_cycle(outbox_relay_t *r, bool *full) {
    *full = false;
    if (relay_count(r) != STORE_OK) return -2;
    if (atomic_load(&r->backlog) == 0) {
        r->store_failing = false;
        return 0;
    }
    cJSON *rows = NULL;
    if (relay_fetch(r, &rows) != STORE_OK) return -2;
    struct relay_batch b = {.n = 0};
    cJSON *row;
    cJSON_ArrayForEach(row, rows) {
        if (b.n == RELAY_BATCH) break;
        b.rows[b.n] = row;
        b.tag[b.n] = 0;
        b.state[b.n++] = ROW_PENDING;
    }
    int rc = relay_send_batch(r, &b);
    int marked = 0;
    int src = relay_mark_sent(r, &b, &marked);
    if (marked > 0) {
        metrics_inc("tizza_amqp_published_total", "", marked);
        atomic_fetch_sub(&r->backlog, marked);
        metrics_set("tizza_outbox_backlog", "", (double)atomic_load(&r->backlog));
    }
    *full = rc == 0 && src == STORE_OK && b.n == RELAY_BATCH && marked == b.n;
    cJSON_Delete(rows);
    if (rc != 0) return -1;
    if (src != STORE_OK) return -2;
    r->store_failing = false;
    return 0;
}

/* Deletes rows sent more than an hour ago, at most once a minute. */
static void relay_purge(outbox_relay_t *r) {
    if (r->last_purge_ns && ms_since(r->last_purge_ns) < PURGE_EVERY_MS) return;
    r->last_purge_ns = mono_ns();
    char cutoff[32];
    iso_time(now_ms() - PURGE_AGE_MS, cutoff);
    store_filter_t *f = store_filter_new();
    store_where_bool(f, "sent", true);
    store_where_str(f, "sent_at", STORE_LT, cutoff);
    long n = 0;
    if (store_delete(r->store, OUTBOX, f, &n) != STORE_OK)
        log_msg(LOG_WARN, "outbox relay: purge failed: %s", store_errmsg());
    store_filter_free(f);
}

/* Connects when needed; false (after a backoff sleep) when that failed. */
static bool relay_ensure_connected(outbox_relay_t *r, int *attempts) {
    if (r->mq.conn) return true;
    if ((*attempts)++ > 0) count_reconnect("relay");
    if (relay_connect(r) == 0) {
        log_amqp(LOG_INFO, "amqp connected", "relay", NULL);
        backoff_reset(&r->backoff);
        return true;
    }
    if (r->backoff.ms == BACKOFF_MIN_MS)
        log_amqp(LOG_WARN, "amqp connect failed; retrying", "relay", r->mq.err);
    relay_count(r); /* keep the backlog gauge true while disconnected */
    waiter_sleep(&r->w, backoff_next(&r->backoff), false);
    return false;
}

static void *relay_main(void *arg) {
    outbox_relay_t *r = arg;
    int attempts = 0;
    while (!waiter_stopping(&r->w)) {
        if (!relay_ensure_connected(r, &attempts)) continue;
        bool full = false;
        int rc = relay_cycle(r, &full);
        if (rc == -1) {
            log_amqp(LOG_WARN, "amqp relay error; reconnecting", "relay", r->mq.err);
            relay_disconnect(r, false);
            waiter_sleep(&r->w, backoff_next(&r->backoff), false);
            continue;
        }
        relay_purge(r);
        if (full) continue;
        waiter_sleep(&r->w, rc == -2 ? 1000 : RELAY_IDLE_MS, true);
        if (r->mq.conn && mq_pump(&r->mq) != 0) {
            log_amqp(LOG_WARN, "amqp relay connection lost; reconnecting", "relay", r->mq.err);
            relay_disconnect(r, false);
        }
    }
    if (r->mq.conn) { /* last chance for what was committed just before stop */
        bool full = false;
        bool ok = relay_cycle(r, &full) != -1;
        relay_disconnect(r, ok);
    }
    return NULL;
}

outbox_relay_t *outbox_relay_start(store_t *s, const char *amqp_url, const char *producer,
                                   const topology_t *topo) {
    if (!s || !amqp_url || !producer || !url_valid(amqp_url)) {
        log_msg(LOG_ERROR, "outbox relay: invalid AMQP URL or arguments");
        return NULL;
    }
    outbox_relay_t *r = xcalloc(1, sizeof *r);
    r->store = s;
    r->topo = topo;
    r->producer = xstrdup(producer);
    r->mq.url = xstrdup(amqp_url);
    backoff_reset(&r->backoff);
    atomic_init(&r->backlog, 0);
    atomic_init(&r->connected, false);
    waiter_init(&r->w);
    metrics_help("tizza_outbox_backlog", "gauge", "Outbox events not yet confirmed by the broker");
    metrics_help("tizza_amqp_published_total", "counter", "Events published and confirmed");
    metrics_help("tizza_amqp_publish_errors_total", "counter",
                 "Publishes that failed or were nacked");
    metrics_help("tizza_amqp_reconnects_total", "counter", "AMQP reconnection attempts");
    if (pthread_create(&r->thread, NULL, relay_main, r) != 0) {
        waiter_destroy(&r->w);
        free(r->producer);
        free(r->mq.url);
        free(r);
        return NULL;
    }
    return r;
}

void outbox_relay_notify(outbox_relay_t *r) {
    if (r) waiter_signal(&r->w, false);
}

long outbox_relay_backlog(outbox_relay_t *r) { return r ? atomic_load(&r->backlog) : 0; }

bool outbox_relay_connected(outbox_relay_t *r) { return r && atomic_load(&r->connected); }

void outbox_relay_stop(outbox_relay_t *r) {
    if (!r) return;
    waiter_signal(&r->w, true);
    pthread_join(r->thread, NULL);
    waiter_destroy(&r->w);
    free(r->producer);
    free(r->mq.url);
    free(r);
}

/* ---------------------------------------------------------------------------------------
 * consumer */

struct event_consumer {
    store_t *store;
    const topology_t *topo;       /* not owned */
    event_consumer_spec_t *specs; /* copies; the strings are owned */
    int nspecs;
    int prefetch;
    struct mq mq;
    struct waiter w;
    struct backoff backoff;
    pthread_t thread;
    atomic_bool connected;
    pthread_mutex_t cb_mu;
    void (*on_commit)(void *);
    void *on_commit_ctx;
};

enum outcome { OUT_OK, OUT_DUPLICATE, OUT_RETRY, OUT_POISON };

int event_consumer_migrate(store_t *s) { return store_ensure_collection(s, PROCESSED); }

static void count_consumed(const char *queue, const char *result) {
    char labels[320];
    snprintf(labels, sizeof labels, "queue=\"%s\",result=\"%s\"", queue, result);
    metrics_inc("tizza_events_consumed_total", labels, 1);
}

static void log_dead_letter(const char *queue, const char *event_id, const char *why) {
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "queue", queue);
    if (event_id) cJSON_AddStringToObject(f, "event_id", event_id);
    cJSON_AddStringToObject(f, "reason", why);
    log_fields(LOG_WARN, "event dead-lettered", f);
}

static const event_consumer_spec_t *spec_for(event_consumer_t *c, amqp_bytes_t tag) {
    for (int i = 0; i < c->nspecs; i++)
        if (strlen(c->specs[i].queue) == tag.len &&
            memcmp(c->specs[i].queue, tag.bytes, tag.len) == 0)
            return &c->specs[i];
    return NULL;
}

/* NULL when the event is well-formed for this spec, else why not. */
static const char *event_malformed(const cJSON *ev, int major) {
    if (!cJSON_IsObject(ev)) return "body is not a JSON object";
    const char *id = row_str(ev, "event_id"), *type = row_str(ev, "type");
    const char *version = row_str(ev, "version");
    if (!id || !*id || !type || !*type || !version) return "missing event_id, type or version";
    const char *at = row_str(ev, "occurred_at"), *producer = row_str(ev, "producer");
    if (!at || !*at || !producer || !*producer) return "missing occurred_at or producer";
    char *end = NULL;
    errno = 0;
    long v = strtol(version, &end, 10);
    if (end == version || errno != 0 || (*end != '.' && *end != '\0')) return "unreadable version";
    if (v != major) return "unsupported major version";
    return NULL;
}

/* One run of a delivery's transaction (store_transact): processed_events, the handler, the
 * processed mark. Its outcome, when it is not a plain commit, is left in `out` (and the run
 * returns STORE_ABORTED, or a store code). */
struct handler_run {
    const event_consumer_spec_t *spec;
    const cJSON *ev;
    enum outcome out;
};

static store_rc_t handler_txn(store_t *s, void *arg) {
    struct handler_run *r = arg;
    const char *id = row_str(r->ev, "event_id");
    cJSON *seen = NULL;
    int rc = store_get(s, PROCESSED, id, &seen);
    cJSON_Delete(seen);
    if (rc == STORE_OK) { /* processed already: nothing to do */
        r->out = OUT_DUPLICATE;
        return STORE_ABORTED;
    }
    if (rc != STORE_NOTFOUND) return rc;
    int hr = r->spec->fn(s, r->ev, r->spec->ctx);
    if (hr != EVENT_OK) {
        r->out = hr == EVENT_POISON ? OUT_POISON : OUT_RETRY;
        return STORE_ABORTED;
    }
    char now[32];
    iso_now(now);
    cJSON *mark = cJSON_CreateObject();
    cJSON_AddStringToObject(mark, "id", id);
    cJSON_AddStringToObject(mark, "queue", r->spec->queue);
    cJSON_AddStringToObject(mark, "processed_at", now);
    rc = store_insert(s, PROCESSED, mark);
    cJSON_Delete(mark);
    return rc;
}

/* The handler in one store transaction, guarded by processed_events. A write conflict
 * (MongoDB, e.g. with a create by the user being erased: erased.h) runs the transaction
 * again here, without using up one of the delivery's attempts. */
static enum outcome run_handler(event_consumer_t *c, const event_consumer_spec_t *spec,
                                const cJSON *ev) {
    struct handler_run r = {spec, ev, OUT_RETRY};
    int rc = store_transact(c->store, handler_txn, &r);
    switch (rc) {
    case STORE_OK: return OUT_OK;
    case STORE_ABORTED: return r.out;
    case STORE_CONFLICT: return OUT_DUPLICATE; /* the processed mark: a twin won */
    default: log_msg(LOG_ERROR, "consumer %s: %s", spec->queue, store_errmsg()); return OUT_RETRY;
    }
}

/* x-attempts of a delivery (0 when absent). */
static long header_attempts(const amqp_basic_properties_t *p) {
    if (!(p->_flags & AMQP_BASIC_HEADERS_FLAG)) return 0;
    for (int i = 0; i < p->headers.num_entries; i++) {
        const amqp_table_entry_t *e = &p->headers.entries[i];
        if (e->key.len != 10 || memcmp(e->key.bytes, "x-attempts", 10) != 0) continue;
        switch (e->value.kind) {
        case AMQP_FIELD_KIND_I8: return e->value.value.i8;
        case AMQP_FIELD_KIND_U8: return e->value.value.u8;
        case AMQP_FIELD_KIND_I16: return e->value.value.i16;
        case AMQP_FIELD_KIND_U16: return e->value.value.u16;
        case AMQP_FIELD_KIND_I32: return e->value.value.i32;
        case AMQP_FIELD_KIND_U32: return (long)e->value.value.u32;
        case AMQP_FIELD_KIND_I64: return (long)e->value.value.i64;
        case AMQP_FIELD_KIND_U64: return (long)e->value.value.u64;
        default: return 0;
        }
    }
    return 0;
}

/* Same body and properties to the queue's tail with x-attempts = attempts; committed. */
static int republish(event_consumer_t *c, const char *queue, const amqp_message_t *msg,
                     long attempts) {
    amqp_basic_properties_t p = msg->properties;
    int old = (p._flags & AMQP_BASIC_HEADERS_FLAG) ? p.headers.num_entries : 0;
    amqp_table_entry_t *entries = xcalloc((size_t)old + 1, sizeof *entries);
    int n = 0;
    for (int i = 0; i < old; i++) {
        const amqp_table_entry_t *e = &p.headers.entries[i];
        if (!(e->key.len == 10 && memcmp(e->key.bytes, "x-attempts", 10) == 0)) entries[n++] = *e;
    }
    entries[n].key = amqp_cstring_bytes("x-attempts");
    entries[n].value.kind = AMQP_FIELD_KIND_I32;
    entries[n].value.value.i32 = (int32_t)attempts;
    p.headers.entries = entries;
    p.headers.num_entries = n + 1;
    p._flags |= AMQP_BASIC_HEADERS_FLAG;
    int st = amqp_basic_publish(c->mq.conn, CH_RETRY, amqp_cstring_bytes(""),
                                amqp_cstring_bytes(queue), 0, 0, &p, msg->body);
    free(entries);
    if (mq_status_ok(&c->mq, st, "republish") != 0) return -1;
    amqp_tx_commit(c->mq.conn, CH_RETRY);
    return mq_rpc_ok(&c->mq, "tx.commit");
}

static int ack(event_consumer_t *c, uint64_t tag) {
    return mq_status_ok(&c->mq, amqp_basic_ack(c->mq.conn, CH_MAIN, tag, 0), "ack");
}

static int dead_letter(event_consumer_t *c, const char *queue, uint64_t tag, const char *id,
                       const char *why) {
    log_dead_letter(queue, id, why);
    count_consumed(queue, "dead_letter");
    return mq_status_ok(&c->mq, amqp_basic_reject(c->mq.conn, CH_MAIN, tag, 0), "reject");
}

/* A failed attempt: back to the queue's tail, or to the DLQ on the last attempt. */
static int retry_later(event_consumer_t *c, const char *queue, const amqp_envelope_t *env,
                       const char *id) {
    long attempts = header_attempts(&env->message.properties);
    if (attempts < 0) attempts = 0;
    if (attempts + 1 >= EVENT_MAX_ATTEMPTS)
        return dead_letter(c, queue, env->delivery_tag, id, "handler failed too often");
    if (waiter_sleep(&c->w, 50 * (attempts + 1), false)) {
        snprintf(c->mq.err, sizeof c->mq.err, "stopping"); /* unacked: the broker requeues */
        return -1;
    }
    if (republish(c, queue, &env->message, attempts + 1) != 0) return -1;
    count_consumed(queue, "retry");
    return ack(c, env->delivery_tag);
}

static void call_on_commit(event_consumer_t *c) {
    pthread_mutex_lock(&c->cb_mu);
    void (*fn)(void *) = c->on_commit;
    void *ctx = c->on_commit_ctx;
    pthread_mutex_unlock(&c->cb_mu);
    if (fn) fn(ctx);
}

/* Handles one delivery. Returns -1 on an AMQP error (reconnect). */
static int consume_one(event_consumer_t *c, const amqp_envelope_t *env) {
    const event_consumer_spec_t *spec = spec_for(c, env->consumer_tag);
    if (!spec) /* cannot happen: we only consume with queue names as tags */
        return mq_status_ok(&c->mq, amqp_basic_reject(c->mq.conn, CH_MAIN, env->delivery_tag, 1),
                            "reject");
    cJSON *ev = cJSON_ParseWithLength(env->message.body.bytes, env->message.body.len);
    const char *why = event_malformed(ev, spec->major);
    int rc;
    if (why) {
        const char *id = cJSON_IsObject(ev) ? row_str(ev, "event_id") : NULL;
        rc = dead_letter(c, spec->queue, env->delivery_tag, id, why);
        cJSON_Delete(ev);
        return rc;
    }
    const char *id = row_str(ev, "event_id");
    switch (run_handler(c, spec, ev)) {
    case OUT_OK:
        rc = ack(c, env->delivery_tag);
        count_consumed(spec->queue, "ok");
        call_on_commit(c);
        break;
    case OUT_DUPLICATE:
        rc = ack(c, env->delivery_tag);
        count_consumed(spec->queue, "duplicate");
        break;
    case OUT_POISON:
        rc = dead_letter(c, spec->queue, env->delivery_tag, id, "handler rejected the event");
        break;
    default: rc = retry_later(c, spec->queue, env, id); break;
    }
    cJSON_Delete(ev);
    return rc;
}

static int consumer_connect(event_consumer_t *c) {
    struct mq *m = &c->mq;
    if (mq_connect(m) != 0) return -1;
    if (mq_declare_topology(m, c->topo) != 0) goto fail;
    for (int i = 0; i < c->nspecs; i++) {
        const event_consumer_spec_t *sp = &c->specs[i];
        const topology_queue_t *q = topology_queue(c->topo, sp->queue);
        if (!q && mq_declare_queue(m, sp->queue, sp->exchange, sp->binding, NULL) != 0) goto fail;
    }
    amqp_basic_qos(m->conn, CH_MAIN, 0, (uint16_t)c->prefetch, 0);
    if (mq_rpc_ok(m, "basic.qos") != 0) goto fail;
    amqp_channel_open(m->conn, CH_RETRY);
    if (mq_rpc_ok(m, "channel.open") != 0) goto fail;
    amqp_tx_select(m->conn, CH_RETRY);
    if (mq_rpc_ok(m, "tx.select") != 0) goto fail;
    for (int i = 0; i < c->nspecs; i++) {
        if (spec_for(c, amqp_cstring_bytes(c->specs[i].queue)) != &c->specs[i])
            continue; /* the same queue twice: one consumer */
        amqp_basic_consume(m->conn, CH_MAIN, amqp_cstring_bytes(c->specs[i].queue),
                           amqp_cstring_bytes(c->specs[i].queue), 0, 0, 0, amqp_empty_table);
        if (mq_rpc_ok(m, "basic.consume") != 0) goto fail;
    }
    atomic_store(&c->connected, true);
    return 0;
fail:
    mq_close(m, false);
    return -1;
}

/* One consume slice: 0 (message handled or nothing came) or -1 (reconnect). */
static int consumer_step(event_consumer_t *c) {
    amqp_envelope_t env;
    struct timeval tv = tv_ms(CONSUME_SLICE_MS);
    amqp_maybe_release_buffers(c->mq.conn);
    amqp_rpc_reply_t r = amqp_consume_message(c->mq.conn, &env, &tv, 0);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
        int rc = consume_one(c, &env);
        amqp_destroy_envelope(&env);
        return rc;
    }
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT)
        return 0;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
        amqp_frame_t f; /* a non-delivery frame is waiting: read it and judge it */
        struct timeval now = tv_ms(10);
        int st = amqp_simple_wait_frame_noblock(c->mq.conn, &f, &now);
        if (st == AMQP_STATUS_TIMEOUT) return 0;
        if (mq_status_ok(&c->mq, st, "read") != 0) return -1;
        return mq_check_frame(&c->mq, &f);
    }
    reply_text(r, "consume", c->mq.err, sizeof c->mq.err);
    return -1;
}

static void *consumer_main(void *arg) {
    event_consumer_t *c = arg;
    int attempts = 0;
    while (!waiter_stopping(&c->w)) {
        if (!c->mq.conn) {
            if (attempts++ > 0) count_reconnect("consumer");
            if (consumer_connect(c) != 0) {
                if (c->backoff.ms == BACKOFF_MIN_MS)
                    log_amqp(LOG_WARN, "amqp connect failed; retrying", "consumer", c->mq.err);
                waiter_sleep(&c->w, backoff_next(&c->backoff), false);
                continue;
            }
            log_amqp(LOG_INFO, "amqp connected", "consumer", NULL);
            backoff_reset(&c->backoff);
        }
        if (consumer_step(c) != 0) {
            if (!waiter_stopping(&c->w))
                log_amqp(LOG_WARN, "amqp consumer error; reconnecting", "consumer", c->mq.err);
            mq_close(&c->mq, false);
            atomic_store(&c->connected, false);
            waiter_sleep(&c->w, backoff_next(&c->backoff), false);
        }
    }
    mq_close(&c->mq, true);
    atomic_store(&c->connected, false);
    return NULL;
}

static void consumer_free(event_consumer_t *c) {
    for (int i = 0; i < c->nspecs; i++) {
        free((char *)c->specs[i].queue);
        free((char *)c->specs[i].exchange);
        free((char *)c->specs[i].binding);
    }
    free(c->specs);
    free(c->mq.url);
    pthread_mutex_destroy(&c->cb_mu);
    waiter_destroy(&c->w);
    free(c);
}

/* A spec event_consumer_start accepts: a queue, a handler, and an exchange and binding of
 * its own or from the topology (see event_consumer_spec_t); logs why not. */
static bool spec_complete(const topology_t *topo, const event_consumer_spec_t *sp) {
    if (!sp->queue || !sp->fn || strlen(sp->queue) > 200) return false;
    const topology_queue_t *q = topology_queue(topo, sp->queue);
    if (!q) {
        if (sp->exchange && sp->binding) return true;
        log_msg(LOG_ERROR, "event consumer: queue %s has no exchange and binding", sp->queue);
        return false;
    }
    if ((sp->exchange && strcmp(sp->exchange, q->exchange) != 0) ||
        (sp->binding && strcmp(sp->binding, q->binding) != 0)) {
        log_msg(LOG_ERROR, "event consumer: queue %s is bound to %s by %s in the topology",
                sp->queue, q->exchange, q->binding);
        return false;
    }
    return true;
}

event_consumer_t *event_consumer_start(store_t *s, const char *amqp_url, const topology_t *topo,
                                       const event_consumer_spec_t *specs, int nspecs,
                                       int prefetch) {
    if (!s || !amqp_url || !specs || nspecs <= 0 || !url_valid(amqp_url)) {
        log_msg(LOG_ERROR, "event consumer: invalid AMQP URL or arguments");
        return NULL;
    }
    for (int i = 0; i < nspecs; i++)
        if (!spec_complete(topo, &specs[i])) return NULL;
    event_consumer_t *c = xcalloc(1, sizeof *c);
    c->store = s;
    c->topo = topo;
    c->prefetch = prefetch > 0 ? (prefetch > 65535 ? 65535 : prefetch) : 10;
    c->mq.url = xstrdup(amqp_url);
    c->specs = xcalloc((size_t)nspecs, sizeof *c->specs);
    pthread_mutex_init(&c->cb_mu, NULL);
    waiter_init(&c->w);
    backoff_reset(&c->backoff);
    atomic_init(&c->connected, false);
    for (int i = 0; i < nspecs; i++) {
        const topology_queue_t *q = topology_queue(topo, specs[i].queue);
        c->specs[i] = specs[i];
        c->specs[i].queue = xstrdup(specs[i].queue);
        c->specs[i].exchange = xstrdup(q ? q->exchange : specs[i].exchange);
        c->specs[i].binding = xstrdup(q ? q->binding : specs[i].binding);
        c->nspecs = i + 1;
    }
    metrics_help("tizza_events_consumed_total", "counter",
                 "Deliveries handled, by queue and result");
    metrics_help("tizza_amqp_reconnects_total", "counter", "AMQP reconnection attempts");
    if (pthread_create(&c->thread, NULL, consumer_main, c) != 0) {
        consumer_free(c);
        return NULL;
    }
    return c;
}

bool event_consumer_connected(event_consumer_t *c) { return c && atomic_load(&c->connected); }

void event_consumer_on_commit(event_consumer_t *c, void (*fn)(void *), void *ctx) {
    if (!c) return;
    pthread_mutex_lock(&c->cb_mu);
    c->on_commit = fn;
    c->on_commit_ctx = ctx;
    pthread_mutex_unlock(&c->cb_mu);
}

void event_consumer_stop(event_consumer_t *c) {
    if (!c) return;
    waiter_signal(&c->w, true);
    pthread_join(c->thread, NULL);
    consumer_free(c);
}
