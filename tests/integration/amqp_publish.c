/* amqp_publish -- a tiny AMQP 0-9-1 client for the integration tests (librabbitmq).
 *
 * The tests need to act on the broker the way a misbehaving or curious producer would:
 * publish arbitrary bodies with chosen properties (poison messages, duplicates), watch what
 * the services publish (a queue of our own bound to an exchange) and read queue depths fast
 * (rabbitmqctl starts an Erlang VM per call, ~1 s). Python's standard library has no AMQP
 * client, so tests/integration/cluster.py compiles this file with gcc on first use.
 *
 *   amqp_publish URL publish EXCHANGE KEY [OPTIONS] < BODY
 *       --message-id ID  --type T  --app-id A  --content-type C  --persistent
 *       --timestamp N    --header-int NAME=N  --header-str NAME=S
 *     Publishes stdin as one message with publisher confirms; exit 0 only once the broker
 *     acked it (exit 1 on nack or any error).
 *   amqp_publish URL declare QUEUE [EXCHANGE BINDING]
 *     Declares a durable, non-exclusive queue (no arguments) and optionally binds it to
 *     EXCHANGE (declared first as a durable topic exchange, as the services declare it).
 *   amqp_publish URL get QUEUE [MAX] [WAIT_MS]
 *     basic.get (acking) up to MAX messages (default 1000), waiting up to WAIT_MS (default
 *     0) for the first one; prints one JSON object per message on stdout:
 *     {"exchange","routing_key","redelivered","body","properties":{...,"headers":{...}}}
 *   amqp_publish URL depth QUEUE
 *     Prints the ready message count (passive declare); exit 3 if there is no such queue.
 *   amqp_publish URL purge QUEUE | delete QUEUE
 *
 * Errors go to stderr with exit status 1 (usage: 2). Every allocation belongs to main()'s
 * connection or to one cJSON tree that is printed and freed at once. */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <cjson/cJSON.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CH 1
#define MAX_HEADERS 16

static amqp_connection_state_t conn;

static int fail(const char *what) {
    fprintf(stderr, "amqp_publish: %s\n", what);
    return 1;
}

static int rpc_ok(const char *what) {
    amqp_rpc_reply_t r = amqp_get_rpc_reply(conn);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) return 0;
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
        r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        amqp_channel_close_t *c = r.reply.decoded;
        fprintf(stderr, "amqp_publish: %s: channel closed %d %.*s\n", what, c->reply_code,
                (int)c->reply_text.len, (char *)c->reply_text.bytes);
        return c->reply_code == 404 ? 3 : 1;
    }
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
        fprintf(stderr, "amqp_publish: %s: %s\n", what, amqp_error_string2(r.library_error));
    else
        fprintf(stderr, "amqp_publish: %s: failed (reply type %d)\n", what, r.reply_type);
    return 1;
}

static int open_connection(const char *url) {
    struct amqp_connection_info ci;
    char *copy = strdup(url);
    if (!copy || amqp_parse_url(copy, &ci) != AMQP_STATUS_OK) {
        free(copy);
        return fail("bad AMQP URL");
    }
    conn = amqp_new_connection();
    amqp_socket_t *sock = amqp_tcp_socket_new(conn);
    struct timeval tv = {.tv_sec = 5};
    int rc = 1;
    if (!sock || amqp_socket_open_noblock(sock, ci.host, ci.port, &tv) != AMQP_STATUS_OK) {
        fail("cannot connect");
        goto out;
    }
    amqp_rpc_reply_t r =
        amqp_login(conn, ci.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, ci.user, ci.password);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        fail("login failed");
        goto out;
    }
    amqp_channel_open(conn, CH);
    rc = rpc_ok("channel.open");
out:
    free(copy);
    return rc;
}

static void close_connection(void) {
    amqp_channel_close(conn, CH, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
}

/* The whole of stdin (malloc'd; *len set), or NULL. */
static char *read_stdin(size_t *len) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, stdin);
        n += got;
        if (got == 0) break;
        if (n == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                return NULL;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    *len = n;
    return buf;
}

/* Parses "NAME=VALUE" into a header entry (pointing into arg). 0 or -1. */
static int header_arg(char *arg, bool is_int, amqp_table_entry_t *e) {
    char *eq = strchr(arg, '=');
    if (!eq) return -1;
    *eq = '\0';
    e->key = amqp_cstring_bytes(arg);
    if (is_int) {
        e->value.kind = AMQP_FIELD_KIND_I32;
        e->value.value.i32 = (int32_t)strtol(eq + 1, NULL, 10);
    } else {
        e->value.kind = AMQP_FIELD_KIND_UTF8;
        e->value.value.bytes = amqp_cstring_bytes(eq + 1);
    }
    return 0;
}

/* Waits for the confirm of delivery tag 1. 0 acked, 1 otherwise. */
static int await_confirm(void) {
    struct timeval tv = {.tv_sec = 10};
    for (;;) {
        amqp_frame_t f;
        int st = amqp_simple_wait_frame_noblock(conn, &f, &tv);
        if (st != AMQP_STATUS_OK) return fail("no publisher confirm");
        if (f.frame_type != AMQP_FRAME_METHOD) continue;
        switch (f.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD: return 0;
        case AMQP_BASIC_NACK_METHOD: return fail("broker nacked the message");
        case AMQP_BASIC_RETURN_METHOD: fprintf(stderr, "amqp_publish: unroutable\n"); continue;
        case AMQP_CHANNEL_CLOSE_METHOD: return fail("channel closed by the broker");
        case AMQP_CONNECTION_CLOSE_METHOD: return fail("connection closed by the broker");
        default: continue;
        }
    }
}

static int cmd_publish(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *exchange = argv[0], *key = argv[1];
    amqp_basic_properties_t p;
    memset(&p, 0, sizeof p);
    amqp_table_entry_t headers[MAX_HEADERS];
    int nheaders = 0;
    for (int i = 2; i < argc; i++) {
        const char *opt = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(opt, "--persistent")) {
            p._flags |= AMQP_BASIC_DELIVERY_MODE_FLAG;
            p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
            continue;
        }
        if (!val) return 2;
        i++;
        if (!strcmp(opt, "--message-id")) {
            p._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
            p.message_id = amqp_cstring_bytes(val);
        } else if (!strcmp(opt, "--type")) {
            p._flags |= AMQP_BASIC_TYPE_FLAG;
            p.type = amqp_cstring_bytes(val);
        } else if (!strcmp(opt, "--app-id")) {
            p._flags |= AMQP_BASIC_APP_ID_FLAG;
            p.app_id = amqp_cstring_bytes(val);
        } else if (!strcmp(opt, "--content-type")) {
            p._flags |= AMQP_BASIC_CONTENT_TYPE_FLAG;
            p.content_type = amqp_cstring_bytes(val);
        } else if (!strcmp(opt, "--timestamp")) {
            p._flags |= AMQP_BASIC_TIMESTAMP_FLAG;
            p.timestamp = (uint64_t)strtoull(val, NULL, 10);
        } else if (!strcmp(opt, "--header-int") || !strcmp(opt, "--header-str")) {
            if (nheaders == MAX_HEADERS ||
                header_arg(argv[i], opt[9] == 'i', &headers[nheaders]) != 0)
                return 2;
            nheaders++;
        } else {
            return 2;
        }
    }
    if (nheaders) {
        p._flags |= AMQP_BASIC_HEADERS_FLAG;
        p.headers.num_entries = nheaders;
        p.headers.entries = headers;
    }
    size_t len = 0;
    char *body = read_stdin(&len);
    if (!body) return fail("cannot read stdin");
    amqp_confirm_select(conn, CH);
    int rc = rpc_ok("confirm.select");
    if (rc == 0) {
        amqp_bytes_t b = {.len = len, .bytes = body};
        int st = amqp_basic_publish(conn, CH, amqp_cstring_bytes(exchange),
                                    amqp_cstring_bytes(key), 0, 0, &p, b);
        rc = st == AMQP_STATUS_OK ? await_confirm() : fail(amqp_error_string2(st));
    }
    free(body);
    return rc;
}

static int cmd_declare(int argc, char **argv) {
    if (argc != 1 && argc != 3) return 2;
    amqp_queue_declare(conn, CH, amqp_cstring_bytes(argv[0]), 0, 1, 0, 0, amqp_empty_table);
    int rc = rpc_ok("queue.declare");
    if (rc == 0 && argc == 3) { /* the exchange as the services declare it */
        amqp_exchange_declare(conn, CH, amqp_cstring_bytes(argv[1]), amqp_cstring_bytes("topic"),
                              0, 1, 0, 0, amqp_empty_table);
        rc = rpc_ok("exchange.declare");
    }
    if (rc == 0 && argc == 3) {
        amqp_queue_bind(conn, CH, amqp_cstring_bytes(argv[0]), amqp_cstring_bytes(argv[1]),
                        amqp_cstring_bytes(argv[2]), amqp_empty_table);
        rc = rpc_ok("queue.bind");
    }
    return rc;
}

static cJSON *bytes_json(amqp_bytes_t b) {
    char *s = malloc(b.len + 1);
    if (!s) return cJSON_CreateNull();
    memcpy(s, b.bytes, b.len);
    s[b.len] = '\0';
    cJSON *o = cJSON_CreateString(s);
    free(s);
    return o;
}

static cJSON *table_json(const amqp_table_t *t);

static cJSON *field_json(const amqp_field_value_t *v) {
    switch (v->kind) {
    case AMQP_FIELD_KIND_BOOLEAN: return cJSON_CreateBool(v->value.boolean);
    case AMQP_FIELD_KIND_I8: return cJSON_CreateNumber(v->value.i8);
    case AMQP_FIELD_KIND_U8: return cJSON_CreateNumber(v->value.u8);
    case AMQP_FIELD_KIND_I16: return cJSON_CreateNumber(v->value.i16);
    case AMQP_FIELD_KIND_U16: return cJSON_CreateNumber(v->value.u16);
    case AMQP_FIELD_KIND_I32: return cJSON_CreateNumber(v->value.i32);
    case AMQP_FIELD_KIND_U32: return cJSON_CreateNumber(v->value.u32);
    case AMQP_FIELD_KIND_I64: return cJSON_CreateNumber((double)v->value.i64);
    case AMQP_FIELD_KIND_U64: return cJSON_CreateNumber((double)v->value.u64);
    case AMQP_FIELD_KIND_TIMESTAMP: return cJSON_CreateNumber((double)v->value.u64);
    case AMQP_FIELD_KIND_F32: return cJSON_CreateNumber(v->value.f32);
    case AMQP_FIELD_KIND_F64: return cJSON_CreateNumber(v->value.f64);
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES: return bytes_json(v->value.bytes);
    case AMQP_FIELD_KIND_TABLE: return table_json(&v->value.table);
    case AMQP_FIELD_KIND_ARRAY: {
        cJSON *a = cJSON_CreateArray();
        for (int i = 0; i < v->value.array.num_entries; i++)
            cJSON_AddItemToArray(a, field_json(&v->value.array.entries[i]));
        return a;
    }
    default: return cJSON_CreateNull();
    }
}

static cJSON *table_json(const amqp_table_t *t) {
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < t->num_entries; i++) {
        const amqp_table_entry_t *e = &t->entries[i];
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)e->key.len, (char *)e->key.bytes);
        cJSON_AddItemToObject(o, key, field_json(&e->value));
    }
    return o;
}

static cJSON *properties_json(const amqp_basic_properties_t *p) {
    cJSON *o = cJSON_CreateObject();
    amqp_flags_t f = p->_flags;
    if (f & AMQP_BASIC_CONTENT_TYPE_FLAG)
        cJSON_AddItemToObject(o, "content_type", bytes_json(p->content_type));
    if (f & AMQP_BASIC_DELIVERY_MODE_FLAG) cJSON_AddNumberToObject(o, "delivery_mode", p->delivery_mode);
    if (f & AMQP_BASIC_MESSAGE_ID_FLAG)
        cJSON_AddItemToObject(o, "message_id", bytes_json(p->message_id));
    if (f & AMQP_BASIC_TYPE_FLAG) cJSON_AddItemToObject(o, "type", bytes_json(p->type));
    if (f & AMQP_BASIC_APP_ID_FLAG) cJSON_AddItemToObject(o, "app_id", bytes_json(p->app_id));
    if (f & AMQP_BASIC_TIMESTAMP_FLAG) cJSON_AddNumberToObject(o, "timestamp", (double)p->timestamp);
    if (f & AMQP_BASIC_HEADERS_FLAG) cJSON_AddItemToObject(o, "headers", table_json(&p->headers));
    return o;
}

/* One basic.get. 1 printed a message, 0 queue empty, -1 error. */
static int get_one(const char *queue) {
    amqp_rpc_reply_t r = amqp_basic_get(conn, CH, amqp_cstring_bytes(queue), 0);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        rpc_ok("basic.get");
        return -1;
    }
    if (r.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) return 0;
    amqp_basic_get_ok_t *ok = r.reply.decoded;
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "exchange", bytes_json(ok->exchange));
    cJSON_AddItemToObject(out, "routing_key", bytes_json(ok->routing_key));
    cJSON_AddBoolToObject(out, "redelivered", ok->redelivered);
    uint64_t tag = ok->delivery_tag;
    amqp_message_t msg;
    r = amqp_read_message(conn, CH, &msg, 0);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        cJSON_Delete(out);
        fail("cannot read the message");
        return -1;
    }
    cJSON_AddItemToObject(out, "body", bytes_json(msg.body));
    cJSON_AddItemToObject(out, "properties", properties_json(&msg.properties));
    amqp_destroy_message(&msg);
    char *text = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    if (text) printf("%s\n", text);
    free(text);
    amqp_maybe_release_buffers(conn);
    if (amqp_basic_ack(conn, CH, tag, 0) != AMQP_STATUS_OK) return -1;
    return 1;
}

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int cmd_get(int argc, char **argv) {
    if (argc < 1 || argc > 3) return 2;
    long max = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
    long wait = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
    long deadline = now_ms() + wait, got = 0;
    while (got < max) {
        int rc = get_one(argv[0]);
        if (rc < 0) return 1;
        if (rc == 1) {
            got++;
            continue;
        }
        if (got > 0 || now_ms() >= deadline) break;
        struct timespec ts = {.tv_nsec = 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    fflush(stdout);
    return 0;
}

static int cmd_depth(int argc, char **argv) {
    if (argc != 1) return 2;
    amqp_queue_declare_ok_t *ok = amqp_queue_declare(conn, CH, amqp_cstring_bytes(argv[0]), 1, 0,
                                                     0, 0, amqp_empty_table);
    int rc = rpc_ok("queue.declare passive");
    if (rc == 0) printf("%u\n", ok->message_count);
    return rc;
}

static int cmd_purge(int argc, char **argv) {
    if (argc != 1) return 2;
    amqp_queue_purge(conn, CH, amqp_cstring_bytes(argv[0]));
    return rpc_ok("queue.purge");
}

static int cmd_delete(int argc, char **argv) {
    if (argc != 1) return 2;
    amqp_queue_delete(conn, CH, amqp_cstring_bytes(argv[0]), 0, 0);
    return rpc_ok("queue.delete");
}

int main(int argc, char **argv) {
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"publish", cmd_publish}, {"declare", cmd_declare}, {"get", cmd_get},
                {"depth", cmd_depth},     {"purge", cmd_purge},     {"delete", cmd_delete}};
    if (argc < 3) {
        fprintf(stderr, "usage: amqp_publish URL publish|declare|get|depth|purge|delete ...\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(argv[2], cmds[i].name) != 0) continue;
        if (open_connection(argv[1]) != 0) {
            if (conn) amqp_destroy_connection(conn);
            return 1;
        }
        int rc = cmds[i].fn(argc - 3, argv + 3);
        if (rc == 2) fprintf(stderr, "amqp_publish: bad arguments for %s\n", argv[2]);
        close_connection();
        return rc;
    }
    fprintf(stderr, "amqp_publish: unknown command %s\n", argv[2]);
    return 2;
}
