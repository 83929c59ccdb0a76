/* Unit tests for remote.c: the remote model client against a scripted HTTP server.
 *
 * Every test gets a fresh backend: a plain libevent evhttp server on 127.0.0.1 (port 0) in
 * its own thread. Its behaviour is scripted per test (fail N times with a status, delay,
 * close the connection, bad JSON, huge body) and it records what it saw: request and
 * connection counts (connections through evhttp_set_bevcb, called once per accepted
 * connection), the last method, URI, forwarded headers and body, and the size of each ?ids=
 * batch. It serves the model {url, "v1", "pizzas"}: an id starting with "ffff" does not
 * exist. A fresh port per test also means a fresh circuit breaker per test. What a test
 * opens (contexts, threads, a front server) and the JSON it gets back are registered for its
 * teardown (testlib.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "metrics.h"
#include "remote.h"
#include "testlib.h"
#include "trace.h"
#include "util.h"

/* ---- the scripted backend ---------------------------------------------------------------- */

typedef struct {
    /* script, set by the test */
    int fail_status, fail_count; /* answer fail_status to the next fail_count requests (-1: all) */
    int delay_ms;                /* delay every answer */
    int close_count;             /* close the connection, unanswered, for the next N requests */
    bool bad_json, big_body, empty_body;
    /* observations */
    int requests, connections, pending;
    int batches[8], nbatches; /* ids per ?ids= request */
    char method[16], uri[4096], body[512];
    char authorization[256], request_id[128], traceparent[128], content_type[64];
} script_t;

typedef struct {
    pthread_mutex_t lock;
    script_t s;
    struct event_base *base;
    struct evhttp *http;
    pthread_t thread;
    char url[64];
    remote_model_t model;
} server_t;

static server_t srv = {.lock = PTHREAD_MUTEX_INITIALIZER};

#define PIZZA(n) "00000000000000000000" n /* 20 + 4 hex = a valid 24-hex id */
#define MISSING  "ffff00000000000000000001"

static script_t seen(void) {
    pthread_mutex_lock(&srv.lock);
    script_t s = srv.s;
    pthread_mutex_unlock(&srv.lock);
    return s;
}

static void script_fail(int status, int count) {
    pthread_mutex_lock(&srv.lock);
    srv.s.fail_status = status;
    srv.s.fail_count = count;
    pthread_mutex_unlock(&srv.lock);
}

static void script_set(int delay_ms, int close_count, bool bad_json, bool big_body) {
    pthread_mutex_lock(&srv.lock);
    srv.s.delay_ms = delay_ms;
    srv.s.close_count = close_count;
    srv.s.bad_json = bad_json;
    srv.s.big_body = big_body;
    pthread_mutex_unlock(&srv.lock);
}

static void reply_text(struct evhttp_request *req, int status, const char *type, const char *t) {
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, t, strlen(t));
    if (type) evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
    evhttp_send_reply(req, status, status < 300 ? "OK" : "Scripted", b);
    evbuffer_free(b);
}

static void reply_json(struct evhttp_request *req, int status, cJSON *j) {
    char *t = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    reply_text(req, status, "application/json", t);
    cJSON_free(t);
}

static cJSON *pizza_json(const char *id) {
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "id", id);
    char title[64];
    snprintf(title, sizeof title, "pizza %s", id);
    cJSON_AddStringToObject(p, "title", title);
    return p;
}

/* GET /api/v1/pizzas?ids=a,b: a page of the ones that exist. */
static void reply_batch(struct evhttp_request *req, const char *ids) {
    cJSON *results = cJSON_CreateArray();
    char *copy = strdup(ids), *save = NULL;
    int n = 0;
    for (char *id = strtok_r(copy, ",", &save); id; id = strtok_r(NULL, ",", &save), n++)
        if (strncmp(id, "ffff", 4) != 0) cJSON_AddItemToArray(results, pizza_json(id));
    free(copy);
    pthread_mutex_lock(&srv.lock);
    if (srv.s.nbatches < 8) srv.s.batches[srv.s.nbatches++] = n;
    pthread_mutex_unlock(&srv.lock);
    cJSON *page = cJSON_CreateObject();
    cJSON_AddNumberToObject(page, "count", cJSON_GetArraySize(results));
    cJSON_AddNullToObject(page, "next");
    cJSON_AddNullToObject(page, "previous");
    cJSON_AddItemToObject(page, "results", results);
    reply_json(req, 200, page);
}

static void reply_ok(struct evhttp_request *req) {
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = evhttp_uri_get_path(uri), *query = evhttp_uri_get_query(uri);
    const char *prefix = "/api/v1/pizzas";
    const char *id = strncmp(path, prefix, strlen(prefix)) == 0 && path[strlen(prefix)] == '/'
                         ? path + strlen(prefix) + 1
                         : NULL;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd == EVHTTP_REQ_DELETE) return reply_text(req, 204, NULL, "");
    if (cmd == EVHTTP_REQ_POST || cmd == EVHTTP_REQ_PATCH) {
        cJSON *echo = cJSON_CreateObject();
        cJSON_AddStringToObject(echo, "id", id ? id : PIZZA("beef"));
        cJSON_AddStringToObject(echo, "echo", seen().body);
        return reply_json(req, cmd == EVHTTP_REQ_POST ? 201 : 200, echo);
    }
    if (id && strcmp(id, "seen") == 0) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddItemToObject(j, "pizza_ids", cJSON_CreateArray());
        return reply_json(req, 200, j);
    }
    if (id && strncmp(id, "ffff", 4) == 0)
        return reply_text(req, 404, "application/problem+json",
                          "{\"title\":\"Not Found\",\"status\":404,\"detail\":\"no such pizza\"}");
    if (id) return reply_json(req, 200, pizza_json(id));
    struct evkeyvalq q;
    evhttp_parse_query_str(query ? query : "", &q);
    const char *ids = evhttp_find_header(&q, "ids");
    if (ids) {
        reply_batch(req, ids);
    } else {
        cJSON *page = cJSON_CreateObject();
        cJSON_AddNumberToObject(page, "count", 0);
        cJSON_AddItemToObject(page, "results", cJSON_CreateArray());
        reply_json(req, 200, page);
    }
    evhttp_clear_headers(&q);
}

static void answer(struct evhttp_request *req, int status) {
    script_t s = seen();
    if (status != 200) {
        char body[160];
        snprintf(body, sizeof body,
                 "{\"type\":\"about:blank\",\"title\":\"Scripted\",\"status\":%d,"
                 "\"detail\":\"scripted failure\"}",
                 status);
        if (status == 429)
            evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "7");
        reply_text(req, status, "application/problem+json", body);
    } else if (s.empty_body) {
        reply_text(req, 200, "application/json", "");
    } else if (s.bad_json) {
        reply_text(req, 200, "application/json", "{\"id\": \"broken");
    } else if (s.big_body) {
        size_t n = 5u << 20;
        char *big = malloc(n + 5);
        memset(big, 'x', n + 4);
        big[0] = '[', big[1] = '"', big[n + 2] = '"', big[n + 3] = ']', big[n + 4] = '\0';
        reply_text(req, 200, "application/json", big);
        free(big);
    } else {
        reply_ok(req);
    }
}

typedef struct {
    struct evhttp_request *req;
    int status;
    struct event *ev;
} later_t;

static void on_later(evutil_socket_t fd, short what, void *arg) {
    later_t *l = arg;
    answer(l->req, l->status);
    event_free(l->ev);
    free(l);
    pthread_mutex_lock(&srv.lock);
    srv.s.pending--;
    pthread_mutex_unlock(&srv.lock);
}

static void copy_header(struct evhttp_request *req, const char *name, char *out, size_t n) {
    const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), name);
    str_copy(out, v ? v : "", n);
}

static const char *method_name(enum evhttp_cmd_type c) {
    switch (c) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_PATCH: return "PATCH";
    case EVHTTP_REQ_DELETE: return "DELETE";
    default: return "OTHER";
    }
}

static void on_request(struct evhttp_request *req, void *arg) {
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t blen = evbuffer_get_length(in);
    pthread_mutex_lock(&srv.lock);
    script_t *s = &srv.s;
    s->requests++;
    str_copy(s->method, method_name(evhttp_request_get_command(req)), sizeof s->method);
    str_copy(s->uri, evhttp_request_get_uri(req), sizeof s->uri);
    copy_header(req, "Authorization", s->authorization, sizeof s->authorization);
    copy_header(req, "X-Request-Id", s->request_id, sizeof s->request_id);
    copy_header(req, "traceparent", s->traceparent, sizeof s->traceparent);
    copy_header(req, "Content-Type", s->content_type, sizeof s->content_type);
    if (blen >= sizeof s->body) blen = sizeof s->body - 1;
    evbuffer_copyout(in, s->body, blen);
    s->body[blen] = '\0';
    bool close_it = s->close_count > 0;
    int status = 200;
    if (close_it) {
        s->close_count--;
    } else if (s->fail_count != 0) {
        status = s->fail_status;
        if (s->fail_count > 0) s->fail_count--;
    }
    int delay = close_it ? 0 : s->delay_ms;
    if (delay) s->pending++;
    pthread_mutex_unlock(&srv.lock);

    if (close_it) { /* the client sees the connection end without an answer */
        struct bufferevent *bev =
            evhttp_connection_get_bufferevent(evhttp_request_get_connection(req));
        shutdown(bufferevent_getfd(bev), SHUT_RDWR);
        evhttp_send_reply(req, 200, "OK", NULL); /* fails; frees the request and connection */
    } else if (delay) {
        later_t *l = malloc(sizeof *l);
        l->req = req;
        l->status = status;
        l->ev = evtimer_new(srv.base, on_later, l);
        struct timeval tv = {delay / 1000, (delay % 1000) * 1000};
        evtimer_add(l->ev, &tv);
    } else {
        answer(req, status);
    }
}

static struct bufferevent *on_connection(struct event_base *base, void *arg) {
    pthread_mutex_lock(&srv.lock);
    srv.s.connections++;
    pthread_mutex_unlock(&srv.lock);
    return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
}

static void *server_main(void *arg) {
    event_base_loop(srv.base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static void reset_env(void) {
    unsetenv("REMOTE_CONNECT_TIMEOUT_MS");
    unsetenv("REMOTE_TIMEOUT_MS");
    unsetenv("REMOTE_RETRIES");
    unsetenv("REMOTE_BREAKER_FAILURES");
    unsetenv("REMOTE_BREAKER_COOLDOWN_MS");
    remote_config_from_env();
}

static void set_env(const char *name, const char *value) {
    setenv(name, value, 1);
    remote_config_from_env();
}

static int server_start(void **state) {
    memset(&srv.s, 0, sizeof srv.s);
    reset_env();
    srv.base = event_base_new();
    srv.http = evhttp_new(srv.base);
    evhttp_set_allowed_methods(srv.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                             EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE);
    evhttp_set_gencb(srv.http, on_request, NULL);
    evhttp_set_bevcb(srv.http, on_connection, NULL);
    struct evhttp_bound_socket *sock = evhttp_bind_socket_with_handle(srv.http, "127.0.0.1", 0);
    assert_non_null(sock);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&a, &len);
    snprintf(srv.url, sizeof srv.url, "http://127.0.0.1:%d", ntohs(a.sin_port));
    srv.model = (remote_model_t){srv.url, "v1", "pizzas"};
    assert_int_equal(pthread_create(&srv.thread, NULL, server_main, NULL), 0);
    return 0;
}

static int server_stop(void **state) {
    test_cleanup(state);
    for (int i = 0; i < 500 && seen().pending > 0; i++) usleep(10000); /* delayed answers */
    event_base_loopbreak(srv.base);
    pthread_join(srv.thread, NULL);
    evhttp_free(srv.http);
    event_base_free(srv.base);
    reset_env();
    return 0;
}

static long elapsed_ms(uint64_t t0) { return (long)((mono_ns() - t0) / 1000000u); }

static void ctx_free(void *ctx) { remote_ctx_free(ctx); }

/* A context freed by the teardown, or by test_release(). Main thread only. */
static remote_ctx_t *ctx_with(const char *authorization, const char *request_id,
                              const char *traceparent) {
    remote_ctx_t *ctx =
        test_defer(ctx_free, remote_ctx_new_with(authorization, request_id, traceparent));
    assert_non_null(ctx);
    return ctx;
}

static remote_ctx_t *plain_ctx(void) { return ctx_with("Bearer t0k3n", "req-1", NULL); }

/* ---- basic outcomes ------------------------------------------------------------------------ */

static void test_get_ok(void **state) {
    remote_ctx_t *ctx = plain_ctx();
    cJSON *p = NULL;
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0001"), &p), REMOTE_OK);
    test_defer_json(p);
    assert_non_null(p);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(p, "id")), PIZZA("0001"));
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(p, "title")),
                        "pizza " PIZZA("0001"));
    script_t s = seen();
    assert_int_equal(s.requests, 1);
    assert_string_equal(s.method, "GET");
    assert_string_equal(s.uri, "/api/v1/pizzas/" PIZZA("0001"));
    assert_int_equal(remote_last_status(ctx), 0);
    test_release(ctx);
}

static void test_get_not_found_is_memoised(void **state) {
    remote_ctx_t *ctx = plain_ctx();
    cJSON *p = (cJSON *)1;
    assert_int_equal(remote_get(ctx, &srv.model, MISSING, &p), REMOTE_NOT_FOUND);
    assert_null(p);
    assert_int_equal(remote_last_status(ctx), 404);
    assert_non_null(strstr(remote_last_error(ctx), "no such pizza"));
    assert_int_equal(remote_get(ctx, &srv.model, MISSING, &p), REMOTE_NOT_FOUND);
    assert_null(p);
    assert_int_equal(seen().requests, 1);
    test_release(ctx);
}

static void test_429_not_retried(void **state) {
    script_fail(429, -1);
    remote_ctx_t *ctx = plain_ctx();
    cJSON *p = NULL;
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0001"), &p), REMOTE_REJECTED);
    assert_null(p);
    assert_int_equal(remote_last_status(ctx), 429);
    assert_int_equal(seen().requests, 1);
    script_fail(400, -1);
    assert_int_equal(remote_delete(ctx, &srv.model, PIZZA("0001")), REMOTE_REJECTED);
    assert_int_equal(seen().requests, 2);
    script_fail(401, -1); /* the caller's credentials: its own code, not retried either */
    assert_int_equal(remote_delete(ctx, &srv.model, PIZZA("0001")), REMOTE_UNAUTHORIZED);
    assert_int_equal(remote_last_status(ctx), 401);
    assert_int_equal(seen().requests, 3);
    test_release(ctx);
}

static void test_503_twice_then_ok(void **state) {
    script_fail(503, 2);
    remote_ctx_t *ctx = plain_ctx();
    cJSON *p = NULL;
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0001"), &p), REMOTE_OK);
    test_defer_json(p);
    assert_non_null(p);
    assert_int_equal(seen().requests, 3);
    test_release(ctx);
}

static void test_retries_are_bounded(void **state) {
    script_fail(503, -1);
    remote_ctx_t *ctx = plain_ctx();
    cJSON *p = NULL;
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0001"), &p), REMOTE_UNAVAILABLE);
    assert_int_equal(seen().requests, 3); /* 1 + REMOTE_RETRIES (2) */
    assert_int_equal(remote_last_status(ctx), 503);
    set_env("REMOTE_RETRIES", "0");
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0002"), &p), REMOTE_UNAVAILABLE);
    assert_int_equal(seen().requests, 4);
    script_fail(500, -1); /* a plain 500 is not retried */
    set_env("REMOTE_RETRIES", "2");
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0003"), &p), REMOTE_UNAVAILABLE);
    assert_int_equal(seen().requests, 5);
    test_release(ctx);
}

static void test_mutations_retry_rules(void **state) {
    remote_ctx_t *ctx = plain_ctx();
    cJSON *body = test_defer_json(cJSON_CreateObject()), *out = NULL;
    cJSON_AddStringToObject(body, "title", "margherita");

    script_fail(503, 1); /* POST: not idempotent, not retried */
    assert_int_equal(remote_create(ctx, &srv.model, body, &out), REMOTE_UNAVAILABLE);
    assert_null(out);
    assert_int_equal(seen().requests, 1);

    script_fail(503, 1); /* PATCH: not retried either */
    assert_int_equal(remote_update(ctx, &srv.model, PIZZA("0001"), body, &out), REMOTE_UNAVAILABLE);
    assert_int_equal(seen().requests, 2);

    script_fail(503, 1); /* DELETE: idempotent, retried */
    assert_int_equal(remote_delete(ctx, &srv.model, PIZZA("0001")), REMOTE_OK);
    assert_int_equal(seen().requests, 4);
    assert_string_equal(seen().method, "DELETE");

    test_release(ctx);
}

static void test_create_and_update(void **state) {
    remote_ctx_t *ctx = plain_ctx();
    cJSON *body = test_defer_json(cJSON_CreateObject()), *out = NULL;
    cJSON_AddStringToObject(body, "title", "margherita");
    assert_int_equal(remote_create(ctx, &srv.model, body, &out), REMOTE_OK);
    test_defer_json(out);
    script_t s = seen();
    assert_string_equal(s.method, "POST");
    assert_string_equal(s.uri, "/api/v1/pizzas");
    assert_string_equal(s.content_type, "application/json");
    assert_string_equal(s.body, "{\"title\":\"margherita\"}");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(out, "echo")),
                        "{\"title\":\"margherita\"}");

    /* an update makes the memo forget the entity */
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0001"), &out), REMOTE_OK);
    test_defer_json(out);
    assert_int_equal(remote_update(ctx, &srv.model, PIZZA("0001"), body, &out), REMOTE_OK);
    test_defer_json(out);
    assert_string_equal(seen().method, "PATCH");
    assert_string_equal(seen().uri, "/api/v1/pizzas/" PIZZA("0001"));
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0001"), &out), REMOTE_OK);
    test_defer_json(out);
    assert_int_equal(seen().requests, 4);
    test_release(ctx);
}

static void test_filter_path_and_escaping(void **state) {
    remote_ctx_t *ctx = plain_ctx();
    cJSON *out = NULL;
    assert_int_equal(remote_filter(ctx, &srv.model, "owner_id=abc&limit=100", &out), REMOTE_OK);
    test_defer_json(out);
    assert_string_equal(seen().uri, "/api/v1/pizzas?owner_id=abc&limit=100");
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(out, "results")));
    assert_int_equal(remote_get_path(ctx, &srv.model, "seen", NULL, &out), REMOTE_OK);
    test_defer_json(out);
    assert_string_equal(seen().uri, "/api/v1/pizzas/seen");
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(out, "pizza_ids")));
    /* an id taken from an inbound path cannot walk out of the entity */
    assert_int_equal(remote_get(ctx, &srv.model, "../x?y=1", &out), REMOTE_OK);
    test_defer_json(out);
    assert_string_equal(seen().uri, "/api/v1/pizzas/..%2Fx%3Fy%3D1");
    test_release(ctx);
}

/* ---- transport failures ------------------------------------------------------------------- */

static void test_connection_refused(void **state) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd); /* nobody listens there now */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(a.sin_port));
    remote_model_t m = {url, "v1", "pizzas"};

    remote_ctx_t *ctx = plain_ctx();
    cJSON *p = NULL;
    uint64_t t0 = mono_ns();
    assert_int_equal(remote_get(ctx, &m, PIZZA("0001"), &p), REMOTE_UNAVAILABLE);
    assert_true(elapsed_ms(t0) < 1000);
    assert_null(p);
    assert_int_equal(remote_last_status(ctx), 0);
    assert_true(strlen(remote_last_error(ctx)) > 0);
    test_release(ctx);
}

static void test_timeout(void **state) {
    set_env("REMOTE_TIMEOUT_MS", "200");
    script_set(1500, 0, false, false);
    remote_ctx_t *ctx = plain_ctx();
    cJSON *p = NULL;
    uint64_t t0 = mono_ns();
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0001"), &p), REMOTE_UNAVAILABLE);
    long took = elapsed_ms(t0);
    assert_true(took >= 150);
    assert_true(took < 1000); /* the budget covers retries too */
    assert_null(p);
    assert_int_equal(remote_last_status(ctx), 0);
    assert_int_equal(seen().requests, 1);
    test_release(ctx);
}

static void test_closed_connection_is_retried(void **state) {
    script_set(0, 1, false, false);
    remote_ctx_t *ctx = plain_ctx();
    cJSON *p = NULL;
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0001"), &p), REMOTE_OK);
    test_defer_json(p);
    assert_non_null(p);
    assert_int_equal(seen().requests, 2);
    test_release(ctx);
}

static void test_bad_json_and_huge_body(void **state) {
    script_set(0, 0, true, false);
    remote_ctx_t *ctx = plain_ctx();
    cJSON *p = NULL;
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0001"), &p), REMOTE_UNAVAILABLE);
    assert_null(p);
    assert_int_equal(strncmp(remote_last_error(ctx), "bad JSON from ", 14), 0);
    assert_int_equal(seen().requests, 1); /* not retried */

    script_set(0, 0, false, true);
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0002"), &p), REMOTE_UNAVAILABLE);
    assert_null(p);
    assert_non_null(strstr(remote_last_error(ctx), "over"));

    script_set(0, 0, false, false); /* a GET answered 200 without a body */
    pthread_mutex_lock(&srv.lock);
    srv.s.empty_body = true;
    pthread_mutex_unlock(&srv.lock);
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0003"), &p), REMOTE_UNAVAILABLE);
    assert_null(p);
    assert_int_equal(remote_delete(ctx, &srv.model, PIZZA("0003")), REMOTE_OK); /* 204 */
    test_release(ctx);
}

/* ---- circuit breaker ---------------------------------------------------------------------- */

static bool metrics_has(const char *line) {
    size_t len;
    char *text = metrics_render(&len);
    bool found = strstr(text, line) != NULL;
    free(text);
    return found;
}

static void breaker_env(const char *failures) {
    set_env("REMOTE_RETRIES", "0");
    set_env("REMOTE_BREAKER_FAILURES", failures);
    set_env("REMOTE_BREAKER_COOLDOWN_MS", "300");
}

static void test_breaker_opens_and_recovers(void **state) {
    breaker_env("3");
    script_fail(503, -1);
    remote_ctx_t *ctx = plain_ctx();
    cJSON *p = NULL;
    for (int i = 0; i < 3; i++)
        assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0001"), &p), REMOTE_UNAVAILABLE);
    assert_int_equal(seen().requests, 3);

    char gauge[160];
    snprintf(gauge, sizeof gauge, "tizza_remote_breaker_open{target=\"%s\"} 1", srv.url);
    assert_true(metrics_has(gauge));
    uint64_t t0 = mono_ns();
    for (int i = 0; i < 5; i++) { /* open: fails fast, nothing sent */
        assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0001"), &p), REMOTE_UNAVAILABLE);
        assert_int_equal(strncmp(remote_last_error(ctx), "circuit open", 12), 0);
    }
    assert_true(elapsed_ms(t0) < 100);
    assert_int_equal(seen().requests, 3);
    char fast[200];
    snprintf(fast, sizeof fast,
             "tizza_remote_requests_total{target=\"%s\",method=\"GET\",result=\"breaker_open\"} 5",
             srv.url);
    assert_true(metrics_has(fast));

    usleep(350 * 1000); /* cooldown: the next call is the trial */
    script_fail(0, 0);
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0001"), &p), REMOTE_OK);
    test_defer_json(p);
    assert_int_equal(seen().requests, 4);
    snprintf(gauge, sizeof gauge, "tizza_remote_breaker_open{target=\"%s\"} 0", srv.url);
    assert_true(metrics_has(gauge));
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0002"), &p), REMOTE_OK); /* closed */
    test_defer_json(p);
    assert_int_equal(seen().requests, 5);
    test_release(ctx);
}

static void test_breaker_trial_failure_reopens(void **state) {
    breaker_env("2");
    script_fail(503, -1);
    remote_ctx_t *ctx = plain_ctx();
    cJSON *p = NULL;
    for (int i = 0; i < 3; i++)
        assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0001"), &p), REMOTE_UNAVAILABLE);
    assert_int_equal(seen().requests, 2);
    usleep(350 * 1000);
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0001"), &p), REMOTE_UNAVAILABLE);
    assert_int_equal(seen().requests, 3); /* the trial went out and failed */
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0001"), &p), REMOTE_UNAVAILABLE);
    assert_int_equal(strncmp(remote_last_error(ctx), "circuit open", 12), 0);
    assert_int_equal(seen().requests, 3); /* open again */
    test_release(ctx);
}

typedef struct {
    remote_model_t *m;
    int err;
} trial_arg_t;

static void *trial_call(void *arg) {
    trial_arg_t *t = arg;
    remote_ctx_t *ctx = remote_ctx_new_with("Bearer t0k3n", "req-1", NULL); /* not plain_ctx() */
    cJSON *p = NULL;
    t->err = remote_get(ctx, t->m, PIZZA("0009"), &p);
    cJSON_Delete(p);
    remote_ctx_free(ctx);
    return NULL;
}

static void test_breaker_half_open_admits_one_trial(void **state) {
    breaker_env("1");
    script_fail(503, 1);
    remote_ctx_t *ctx = plain_ctx();
    cJSON *p = NULL;
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0001"), &p), REMOTE_UNAVAILABLE);
    usleep(350 * 1000);
    script_set(400, 0, false, false); /* the trial takes 400 ms */
    /* static: the thread may outlive a failed test body, until the teardown joins it */
    static trial_arg_t t;
    t = (trial_arg_t){&srv.model, -9};
    pthread_t *th = test_thread(trial_call, &t);
    for (int i = 0; i < 2000 && seen().requests < 2; i++) usleep(1000);
    /* while the trial is in flight, everyone else is refused */
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0002"), &p), REMOTE_UNAVAILABLE);
    assert_int_equal(strncmp(remote_last_error(ctx), "circuit open", 12), 0);
    test_release(th); /* joins */
    assert_int_equal(t.err, REMOTE_OK);
    assert_int_equal(seen().requests, 2);
    script_set(0, 0, false, false);
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0002"), &p), REMOTE_OK);
    test_defer_json(p);
    test_release(ctx);
}

static void test_breaker_ignores_4xx(void **state) {
    breaker_env("2");
    remote_ctx_t *ctx = plain_ctx();
    cJSON *p = NULL;
    char id[32];
    for (int i = 0; i < 5; i++) { /* distinct ids: no memo */
        snprintf(id, sizeof id, "ffff%020d", i);
        assert_int_equal(remote_get(ctx, &srv.model, id, &p), REMOTE_NOT_FOUND);
    }
    script_fail(429, -1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0001"), &p), REMOTE_REJECTED);
    assert_int_equal(seen().requests, 8);
    test_release(ctx);
}

/* ---- memo and batches ----------------------------------------------------------------------- */

static void test_memo_same_id_once(void **state) {
    remote_ctx_t *ctx = plain_ctx();
    cJSON *a = NULL, *b = NULL;
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0001"), &a), REMOTE_OK);
    test_defer_json(a);
    cJSON_ReplaceItemInObject(a, "title", cJSON_CreateString("changed by the caller"));
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0001"), &b), REMOTE_OK);
    test_defer_json(b);
    assert_int_equal(seen().requests, 1);
    assert_ptr_not_equal(a, b);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(b, "title")),
                        "pizza " PIZZA("0001"));
    test_release(ctx);

    ctx = plain_ctx(); /* the memo is per context */
    assert_int_equal(remote_get(ctx, &srv.model, PIZZA("0001"), &a), REMOTE_OK);
    test_defer_json(a);
    assert_int_equal(seen().requests, 2);
    test_release(ctx);
}

static void test_get_many_batches_and_memo(void **state) {
    enum { N = 150 };
    char ids[N][ID_LEN + 1];
    const char *ptrs[N + 2];
    for (int i = 0; i < N; i++) {
        /* every 10th id does not exist */
        snprintf(ids[i], sizeof ids[i], "%s%020d", i % 10 == 0 ? "ffff" : "0000", i);
        ptrs[i] = ids[i];
    }
    ptrs[N] = ids[5];      /* a repeat */
    ptrs[N + 1] = "bogus"; /* not an id: skipped */
    remote_ctx_t *ctx = plain_ctx();
    cJSON *arr = NULL;
    assert_int_equal(remote_get_many(ctx, &srv.model, ptrs, N + 2, &arr), REMOTE_OK);
    test_defer_json(arr);
    script_t s = seen();
    assert_int_equal(s.requests, 2);
    assert_int_equal(s.nbatches, 2);
    assert_int_equal(s.batches[0], 100);
    assert_int_equal(s.batches[1], 50);
    assert_int_equal(cJSON_GetArraySize(arr), N - N / 10);
    /* in the order asked */
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "id")),
                        ids[1]);
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 134), "id")), ids[N - 1]);

    cJSON *p = NULL;
    assert_int_equal(remote_get(ctx, &srv.model, ids[77], &p), REMOTE_OK);
    test_defer_json(p);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(p, "id")), ids[77]);
    assert_int_equal(remote_get(ctx, &srv.model, ids[30], &p), REMOTE_NOT_FOUND);
    assert_int_equal(seen().requests, 2); /* both answered by the memo */

    /* asking again: only the new id goes out */
    ptrs[0] = PIZZA("abcd");
    assert_int_equal(remote_get_many(ctx, &srv.model, ptrs, N, &arr), REMOTE_OK);
    test_defer_json(arr);
    assert_int_equal(seen().requests, 3);
    assert_int_equal(seen().batches[2], 1);
    assert_int_equal(cJSON_GetArraySize(arr), N - N / 10 + 1);

    assert_int_equal(remote_get_many(ctx, &srv.model, ptrs, 0, &arr), REMOTE_OK);
    test_defer_json(arr);
    assert_int_equal(cJSON_GetArraySize(arr), 0);
    assert_int_equal(seen().requests, 3);
    test_release(ctx);
}

/* Without a ctx (no memo) the entities fetched are handed out as they are, in the order
 * asked, each once. */
static void test_get_many_without_ctx(void **state) {
    const char *ids[] = {PIZZA("0003"), "bogus", PIZZA("0001"), PIZZA("0003"), MISSING};
    cJSON *arr = NULL;
    assert_int_equal(remote_get_many(NULL, &srv.model, ids, 5, &arr), REMOTE_OK);
    test_defer_json(arr);
    assert_int_equal(seen().requests, 1);
    assert_int_equal(seen().batches[0], 3);
    assert_int_equal(cJSON_GetArraySize(arr), 2);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "id")),
                        ids[0]);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 1), "id")),
                        ids[2]);
}

static void test_get_many_failure(void **state) {
    set_env("REMOTE_RETRIES", "0");
    script_fail(503, 1);
    const char *ids[] = {PIZZA("0001"), PIZZA("0002")};
    remote_ctx_t *ctx = plain_ctx();
    cJSON *arr = (cJSON *)1;
    assert_int_equal(remote_get_many(ctx, &srv.model, ids, 2, &arr), REMOTE_UNAVAILABLE);
    assert_null(arr);
    /* nothing was remembered from the failure */
    assert_int_equal(remote_get_many(ctx, &srv.model, ids, 2, &arr), REMOTE_OK);
    test_defer_json(arr);
    assert_int_equal(cJSON_GetArraySize(arr), 2);
    assert_int_equal(seen().requests, 2);
    test_release(ctx);
}

/* ---- forwarding --------------------------------------------------------------------------- */

static bool lower_hex(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

static void assert_traceparent_valid(const char *tp) {
    assert_int_equal(strlen(tp), 55);
    assert_memory_equal(tp, "00-", 3);
    assert_true(lower_hex(tp + 3, 32));
    assert_int_equal(tp[35], '-');
    assert_true(lower_hex(tp + 36, 16));
    assert_int_equal(tp[52], '-');
    assert_string_equal(tp + 53, "01");
    assert_int_not_equal(strncmp(tp + 3, "00000000000000000000000000000000", 32), 0);
}

static void get_with(remote_ctx_t *ctx, const char *id) {
    cJSON *p = NULL;
    assert_int_equal(remote_get(ctx, &srv.model, id, &p), REMOTE_OK);
    cJSON_Delete(p);
}

static void test_headers_forwarded(void **state) {
    const char *tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    remote_ctx_t *ctx = ctx_with("Bearer abc.def", "req-42", tp);
    get_with(ctx, PIZZA("0001"));
    script_t s = seen();
    assert_string_equal(s.authorization, "Bearer abc.def");
    assert_string_equal(s.request_id, "req-42");
    assert_string_equal(s.traceparent, tp);
    test_release(ctx);

    /* nothing inbound: no Authorization, a generated request id and a valid traceparent,
     * the same for every call of the context */
    ctx = ctx_with(NULL, NULL, NULL);
    get_with(ctx, PIZZA("0001"));
    s = seen();
    assert_string_equal(s.authorization, "");
    assert_int_equal(strlen(s.request_id), 32);
    assert_traceparent_valid(s.traceparent);
    get_with(ctx, PIZZA("0002"));
    assert_string_equal(seen().traceparent, s.traceparent);
    assert_string_equal(seen().request_id, s.request_id);
    test_release(ctx);

    /* malformed inbound values: a fresh traceparent; header injection dropped */
    ctx = ctx_with("Bearer x\r\nX-Evil: 1", "req-1",
                   "00-00000000000000000000000000000000-00f067aa0ba902b7-01");
    get_with(ctx, PIZZA("0001"));
    s = seen();
    assert_string_equal(s.authorization, "");
    assert_traceparent_valid(s.traceparent);
    assert_int_not_equal(strncmp(s.traceparent + 3, "00000000", 8), 0);
    test_release(ctx);
}

static int tracing; /* what test_defer() registers trace_stop() with */
static void stop_tracing(void *unused) { trace_stop(); }

/* Tracing on: each call is a client span, child of the ctx's parent, whose context is the
 * traceparent sent; a new trace without a parent. */
static void test_client_spans(void **state) {
    trace_settings_t ts = {.endpoint = "http://127.0.0.1:9",
                           .service = "unit",
                           .sampler = TRACE_PARENT_RATIO,
                           .ratio = 1.0,
                           .no_thread = true};
    trace_start(&ts);
    test_defer(stop_tracing, &tracing);
    const char *tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    remote_ctx_t *ctx = ctx_with(NULL, "req-1", tp);
    get_with(ctx, PIZZA("0001"));
    char first[128];
    str_copy(first, seen().traceparent, sizeof first);
    assert_traceparent_valid(first);
    assert_memory_equal(first, tp, 36);               /* the same trace */
    assert_memory_not_equal(first + 36, tp + 36, 16); /* the client span's own id */
    assert_int_equal(trace_queued(), 1);
    get_with(ctx, PIZZA("0002")); /* a span per call */
    assert_memory_equal(seen().traceparent, tp, 36);
    assert_memory_not_equal(seen().traceparent + 36, first + 36, 16);
    assert_int_equal(trace_queued(), 2);

    trace_ctx_t parent;
    assert_true(
        trace_parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", NULL, &parent));
    remote_ctx_set_trace(ctx, &parent); /* an unsampled parent: propagated, not recorded */
    get_with(ctx, PIZZA("0003"));
    assert_memory_equal(seen().traceparent, "00-0af7651916cd43dd8448eb211c80319c-", 36);
    assert_string_equal(seen().traceparent + 53, "00");
    assert_int_equal(trace_queued(), 2);
    test_release(ctx);

    ctx = ctx_with(NULL, NULL, NULL); /* no parent: a new trace */
    get_with(ctx, PIZZA("0001"));
    assert_traceparent_valid(seen().traceparent);
    assert_memory_not_equal(seen().traceparent, tp, 36);
    assert_int_equal(trace_queued(), 3);
    test_release(ctx);
}

/* ---- connections and threads --------------------------------------------------------------- */

static void test_keep_alive(void **state) {
    remote_ctx_t *ctx = plain_ctx();
    char id[32];
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "%024d", i);
        get_with(ctx, id);
    }
    assert_int_equal(seen().requests, 5);
    assert_int_equal(seen().connections, 1);
    test_release(ctx);
}

enum { THREADS = 4, PER_THREAD = 50 };

static void *worker(void *arg) {
    int t = (int)(intptr_t)arg, ok = 0;
    remote_ctx_t *ctx = remote_ctx_new_with("Bearer t0k3n", "req-1", NULL); /* not plain_ctx() */
    for (int i = 0; i < PER_THREAD; i++) {
        char id[32];
        snprintf(id, sizeof id, "%012d%012d", t, i);
        cJSON *p = NULL;
        if (remote_get(ctx, &srv.model, id, &p) == REMOTE_OK &&
            strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(p, "id")), id) == 0)
            ok++;
        cJSON_Delete(p);
    }
    remote_ctx_free(ctx);
    return (void *)(intptr_t)ok;
}

static void test_threads(void **state) {
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t), 0);
    void *ok[THREADS];
    for (int t = 0; t < THREADS; t++) pthread_join(th[t], &ok[t]);
    for (int t = 0; t < THREADS; t++) assert_int_equal((int)(intptr_t)ok[t], PER_THREAD);
    assert_int_equal(seen().requests, THREADS * PER_THREAD);
    assert_int_equal(seen().connections, THREADS); /* one kept-alive connection per thread */
}

/* ---- metrics -------------------------------------------------------------------------------- */

static void test_metrics(void **state) {
    metrics_reset();
    remote_ctx_t *ctx = plain_ctx();
    get_with(ctx, PIZZA("0001"));
    get_with(ctx, PIZZA("0002"));
    cJSON *p = NULL;
    assert_int_equal(remote_get(ctx, &srv.model, MISSING, &p), REMOTE_NOT_FOUND);
    char line[200];
    snprintf(line, sizeof line,
             "tizza_remote_requests_total{target=\"%s\",method=\"GET\",result=\"ok\"} 2", srv.url);
    assert_true(metrics_has(line));
    snprintf(line, sizeof line,
             "tizza_remote_requests_total{target=\"%s\",method=\"GET\",result=\"not_found\"} 1",
             srv.url);
    assert_true(metrics_has(line));
    snprintf(line, sizeof line,
             "tizza_remote_request_duration_seconds_count{target=\"%s\",method=\"GET\"} 3",
             srv.url);
    assert_true(metrics_has(line));
    test_release(ctx);
}

/* ---- through a real Tizza HTTP server ------------------------------------------------------
 * A front server (libcommon http.c) whose handler calls the backend with remote_ctx_new(req)
 * and maps failures with remote_reply_error; a raw libcurl client calls the front. */

static void h_fwd(http_req_t *req, void *arg) {
    remote_ctx_t *ctx = remote_ctx_new(req);
    cJSON *p = NULL;
    int err = remote_get(ctx, &srv.model, http_param(req, "id"), &p);
    if (err == REMOTE_OK)
        http_reply_json(req, 200, p);
    else
        remote_reply_error(req, err, "pizza", "pizza");
    remote_ctx_free(ctx);
}

static void *front_main(void *arg) {
    http_server_run(arg);
    return NULL;
}

static pthread_t front_thread;

static void front_stop(void *front) {
    http_server_stop(front);
    pthread_join(front_thread, NULL);
    http_server_free(front);
}

typedef struct {
    long status;
    char headers[2048];
    char body[1024];
} client_resp_t;

typedef struct {
    char *buf;
    size_t cap;
} sink_t;

static size_t sink(char *p, size_t size, size_t n, void *arg) {
    sink_t *s = arg;
    size_t have = strlen(s->buf), add = size * n;
    if (have + add < s->cap) {
        memcpy(s->buf + have, p, add);
        s->buf[have + add] = '\0';
    }
    return size * n;
}

static client_resp_t client_get(const char *url, const char *h1, const char *h2, const char *h3) {
    client_resp_t r = {0};
    CURL *c = curl_easy_init();
    struct curl_slist *hs = NULL;
    if (h1) hs = curl_slist_append(hs, h1);
    if (h2) hs = curl_slist_append(hs, h2);
    if (h3) hs = curl_slist_append(hs, h3);
    sink_t hsink = {r.headers, sizeof r.headers}, bsink = {r.body, sizeof r.body};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hsink);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &bsink);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(hs);
    curl_easy_cleanup(c);
    assert_int_equal(rc, CURLE_OK);
    return r;
}

static void test_through_http_server(void **state) {
    set_env("REMOTE_RETRIES", "0");
    http_config_t cfg;
    http_config_from_env(&cfg, "test", 0);
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    cfg.threads = 1;
    cfg.workers = 2;
    cfg.drain_ms = 1000;
    http_server_t *front = http_server_new(&cfg);
    http_route(front, "GET", "/fwd/{id}", h_fwd, NULL, HTTP_OFFLOAD);
    if (pthread_create(&front_thread, NULL, front_main, front) != 0) {
        http_server_free(front);
        fail_msg("pthread_create failed");
    }
    test_defer(front_stop, front);
    for (int i = 0; i < 500 && http_server_port(front) == 0; i++) usleep(10000);
    assert_int_not_equal(http_server_port(front), 0);
    char url[128];
    const char *tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    char tph[80];
    snprintf(tph, sizeof tph, "traceparent: %s", tp);

    /* OK, with Authorization, X-Request-Id and traceparent forwarded */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/fwd/%s", http_server_port(front), PIZZA("0001"));
    client_resp_t r =
        client_get(url, "Authorization: Bearer front-token", "X-Request-Id: rid-7", tph);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, PIZZA("0001")));
    script_t s = seen();
    assert_string_equal(s.authorization, "Bearer front-token");
    assert_string_equal(s.request_id, "rid-7");
    assert_string_equal(s.traceparent, tp);

    /* the access-token cookie becomes a bearer token */
    r = client_get(url, "Cookie: theme=dark; tizza_access=cookie-token", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(seen().authorization, "Bearer cookie-token");
    assert_traceparent_valid(seen().traceparent);

    /* 404 -> 422, unavailable -> 503 + Retry-After, the caller's credentials refused -> 401
     * + WWW-Authenticate, refused otherwise -> 502 */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/fwd/%s", http_server_port(front), MISSING);
    r = client_get(url, NULL, NULL, NULL);
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "pizza does not exist"));
    snprintf(url, sizeof url, "http://127.0.0.1:%d/fwd/%s", http_server_port(front), PIZZA("0002"));
    script_fail(503, 1);
    r = client_get(url, NULL, NULL, NULL);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body, "pizza is unavailable"));
    assert_non_null(strcasestr(r.headers, "Retry-After: 5"));
    script_fail(401, 1);
    r = client_get(url, NULL, NULL, NULL);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(r.body, "pizza refused the caller's credentials"));
    assert_non_null(strcasestr(r.headers, "WWW-Authenticate: Bearer"));
    script_fail(403, 1);
    r = client_get(url, NULL, NULL, NULL);
    assert_int_equal(r.status, 502);
}

/* ---- configuration -------------------------------------------------------------------------- */

static void test_bad_config_exits_2(void **state) {
    const char *bad[][2] = {{"REMOTE_RETRIES", "two"},
                            {"REMOTE_TIMEOUT_MS", "0"},
                            {"REMOTE_CONNECT_TIMEOUT_MS", "-5"},
                            {"REMOTE_BREAKER_COOLDOWN_MS", "5s"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            setenv(bad[i][0], bad[i][1], 1);
            remote_config_from_env();
            _exit(0);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 2);
    }
    set_env("REMOTE_RETRIES", "3"); /* a good value is accepted */
    reset_env();
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    evthread_use_pthreads();
    setenv("LOG_LEVEL", "error", 1);
#define T(f) cmocka_unit_test_setup_teardown(f, server_start, server_stop)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_config_exits_2), /* first: a forked child inherits no leaks */
        T(test_get_ok),
        T(test_get_not_found_is_memoised),
        T(test_429_not_retried),
        T(test_503_twice_then_ok),
        T(test_retries_are_bounded),
        T(test_mutations_retry_rules),
        T(test_create_and_update),
        T(test_filter_path_and_escaping),
        T(test_connection_refused),
        T(test_timeout),
        T(test_closed_connection_is_retried),
        T(test_bad_json_and_huge_body),
        T(test_breaker_opens_and_recovers),
        T(test_breaker_trial_failure_reopens),
        T(test_breaker_half_open_admits_one_trial),
        T(test_breaker_ignores_4xx),
        T(test_memo_same_id_once),
        T(test_get_many_batches_and_memo),
        T(test_get_many_without_ctx),
        T(test_get_many_failure),
        T(test_headers_forwarded),
        T(test_client_spans),
        T(test_keep_alive),
        T(test_threads),
        T(test_metrics),
        T(test_through_http_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
