/* test_http -- http.h over a real server (127.0.0.1, one loop thread, two workers) with
 * libcurl as the client.
 *
 * What it holds the module to:
 * - http_finish_on_worker() from an HTTP_INLINE handler: the handler returns on the loop
 *   without answering, the continuation runs afterwards on another thread (a worker) with
 *   its argument, and its answer is what the client gets; the argument is the
 *   continuation's to free (ASan's leak check would see a leak).
 * - http_finish_on_worker() from an HTTP_OFFLOAD handler runs the continuation at once, on
 *   the same thread, before it returns.
 * - Replies hand their body to libevent without a copy: a 256 KiB body arrives byte for
 *   byte, and HEAD gets the same headers without a body.
 * - http_reply_if_invalid() answers a problem with field errors (its status, the errors as
 *   given) and returns -1; without errors it answers nothing, returns 0 and frees the
 *   problem (ASan's leak check).
 * - http_add_location() names the resource by its absolute URL on the address the client
 *   connected to (no PUBLIC_URL, no forwarding headers), never by the Host header.
 * - The server's own answers as written (test_http_router.c holds the decisions): 404, 405
 *   with Allow, 413 and 415 are problem+json documents with X-Request-Id; CORS headers on a
 *   simple request and a preflight (CORS_ORIGINS "https://app.example,*" here).
 * - Forwarded headers: 127.0.0.1 is the trusted proxy (TRUSTED_PROXIES); its X-Forwarded-For
 *   names the client and its X-Forwarded-Proto/-Host the base of absolute URLs. A client
 *   connecting from 127.0.0.2 is not trusted: the same headers change nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <pthread.h>
#include <unistd.h>

#include "http.h"
#include "problem.h"
#include "testlib.h"

#define BIG_LEN         (256 * 1024)
#define TEST_BODY_LIMIT 1024

static http_server_t *srv;
static pthread_t srv_thread;

/* ---- handlers ---- */

struct job {
    pthread_t handler_thread;
    int value;
    bool *ran; /* set by the continuation */
};

static void finish_job(http_req_t *req, void *arg) {
    struct job *job = arg;
    cJSON *body = cJSON_CreateObject();
    cJSON_AddBoolToObject(body, "same_thread", pthread_equal(job->handler_thread, pthread_self()));
    cJSON_AddNumberToObject(body, "value", job->value);
    if (job->ran) *job->ran = true;
    http_reply_json(req, 200, body);
    free(job);
}

/* HTTP_INLINE: hands the request to a worker; answers nothing itself. */
static void h_split(http_req_t *req, void *ctx) {
    struct job *job = malloc(sizeof *job);
    if (!job) abort();
    *job = (struct job){pthread_self(), 42, NULL};
    http_finish_on_worker(req, finish_job, job);
}

/* HTTP_OFFLOAD: the continuation must have run (and answered) before the call returns. */
static void h_offloaded(http_req_t *req, void *ctx) {
    bool ran = false;
    struct job *job = malloc(sizeof *job);
    if (!job) abort();
    *job = (struct job){pthread_self(), 7, &ran};
    http_finish_on_worker(req, finish_job, job);
    if (!ran) http_reply_problem(req, 500, "the continuation did not run at once");
}

/* A body of BIG_LEN bytes: "x" repeated, inside a JSON string. */
static void h_big(http_req_t *req, void *ctx) {
    char *s = malloc(BIG_LEN + 1);
    if (!s) abort();
    memset(s, 'x', BIG_LEN);
    s[BIG_LEN] = '\0';
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "big", s);
    free(s);
    http_reply_json(req, 200, body);
}

/* ?bad=1 adds a field error: answered by http_reply_if_invalid; else 204. */
static void h_check(http_req_t *req, void *ctx) {
    cJSON *p = problem_new(400, "invalid thing");
    if (http_query(req, "bad")) problem_add_error(p, "bad", "must not be given");
    if (http_reply_if_invalid(req, p) != 0) return;
    http_reply_empty(req, 204);
}

static void h_create(http_req_t *req, void *ctx) {
    http_add_location(req, "/things/%s/%d", "abc", 7);
    http_reply_empty(req, 201);
}

/* POST: 204 once the body reads as a JSON object. */
static void h_echo(http_req_t *req, void *ctx) {
    if (http_json_body(req)) http_reply_empty(req, 204);
}

/* {"client": the client address, "url": the absolute URL of /p, "id": the request id} */
static void h_who(http_req_t *req, void *ctx) {
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "client", http_client_addr(req));
    char *url = http_absolute_url(req, "/p");
    cJSON_AddStringToObject(body, "url", url);
    free(url);
    cJSON_AddStringToObject(body, "id", http_request_id(req));
    http_reply_json(req, 200, body);
}

/* ---- client ---- */

typedef struct {
    char *data;
    size_t len;
    long status;
    double content_length; /* from the headers, -1 when absent */
    char location[256];    /* the Location header, "" when absent */
    char headers[4096];    /* every header line as received */
} resp_t;

static size_t collect(char *p, size_t size, size_t n, void *arg) {
    resp_t *r = arg;
    char *d = realloc(r->data, r->len + size * n + 1);
    if (!d) return 0;
    memcpy(d + r->len, p, size * n);
    r->data = d;
    r->len += size * n;
    r->data[r->len] = '\0';
    return size * n;
}

static size_t header(char *p, size_t size, size_t n, void *arg) {
    resp_t *r = arg;
    size_t len = size * n;
    size_t used = strlen(r->headers);
    snprintf(r->headers + used, sizeof r->headers - used, "%.*s", (int)len, p);
    if (len > 10 && strncasecmp(p, "Location: ", 10) == 0) {
        size_t v = len - 10;
        while (v && (p[10 + v - 1] == '\r' || p[10 + v - 1] == '\n')) v--;
        snprintf(r->location, sizeof r->location, "%.*s", (int)v, p + 10);
    }
    return len;
}

/* The value of response header `name` (first of them), "" when absent. */
static const char *resp_header(const resp_t *r, const char *name) {
    static char value[512];
    size_t n = strlen(name);
    value[0] = '\0';
    for (const char *line = r->headers; *line;) {
        const char *end = strstr(line, "\r\n");
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > n + 1 && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ') v++;
            snprintf(value, sizeof value, "%.*s", (int)(line + len - v), v);
            return value;
        }
        line += end ? len + 2 : len;
    }
    return value;
}

static bool has_header(const resp_t *r, const char *name) {
    char want[64];
    snprintf(want, sizeof want, "\r\n%s:", name);
    return strcasestr(r->headers, want) != NULL;
}

typedef struct {
    const char *method;         /* GET when NULL */
    const char *body;           /* none when NULL */
    const char *from;           /* the local address to connect from, 127.0.0.1 when NULL */
    const char *const *headers; /* "Name: value" lines, NULL-terminated; may be NULL */
    bool head;
} call_t;

/* r.data is freed by the teardown. Every request says "Host: attacker.example". */
static resp_t call(const char *path, call_t how) {
    resp_t r = {0};
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", http_server_port(srv), path);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    struct curl_slist *h = curl_slist_append(NULL, "Host: attacker.example");
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
    for (int i = 0; how.headers && how.headers[i]; i++) h = curl_slist_append(h, how.headers[i]);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (how.from) curl_easy_setopt(c, CURLOPT_INTERFACE, how.from);
    if (how.method) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, how.method);
    if (how.body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, how.body);
    if (how.head) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_off_t cl = -1;
    curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
    r.content_length = (double)cl;
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    test_defer_free(r.data);
    assert_int_equal(rc, CURLE_OK);
    return r;
}

static resp_t fetch(const char *path, bool head) { return call(path, (call_t){.head = head}); }

/* ---- tests ---- */

/* GET path answers 200 {"same_thread": same, "value": value}. */
static void expect_job(const char *path, bool same, int value) {
    resp_t r = fetch(path, false);
    assert_int_equal(r.status, 200);
    cJSON *j = test_defer_json(cJSON_Parse(r.data));
    assert_non_null(j);
    assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(j, "same_thread")), same);
    assert_int_equal(cJSON_GetObjectItem(j, "value")->valueint, value);
}

static void test_finish_on_worker_from_the_loop(void **state) {
    for (int i = 0; i < 20; i++) expect_job("/split", false, 42); /* every time, not by luck */
}

static void test_finish_on_worker_from_a_worker(void **state) { expect_job("/offloaded", true, 7); }

static void test_big_reply_and_head(void **state) {
    resp_t r = fetch("/big", false);
    assert_int_equal(r.status, 200);
    size_t want = strlen("{\"big\":\"\"}") + BIG_LEN;
    assert_int_equal(r.len, want);
    assert_int_equal((size_t)r.content_length, want);
    assert_memory_equal(r.data, "{\"big\":\"xxxx", 12);
    for (size_t i = 8; i < 8 + BIG_LEN; i++)
        if (r.data[i] != 'x') fail_msg("byte %zu is %d", i, r.data[i]);
    assert_string_equal(r.data + 8 + BIG_LEN, "\"}");

    resp_t h = fetch("/big", true);
    assert_int_equal(h.status, 200);
    assert_int_equal(h.len, 0);
}

static void test_reply_if_invalid(void **state) {
    resp_t r = fetch("/check?bad=1", false);
    assert_int_equal(r.status, 400);
    cJSON *j = test_defer_json(cJSON_Parse(r.data));
    assert_non_null(j);
    assert_int_equal(cJSON_GetObjectItem(j, "status")->valueint, 400);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "detail")), "invalid thing");
    const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "errors"), 0);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(e, "field")), "bad");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "errors")), 1);

    r = fetch("/check", false);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.len, 0);
}

static void test_add_location(void **state) {
    resp_t r = fetch("/create", false);
    assert_int_equal(r.status, 201);
    char want[128];
    snprintf(want, sizeof want, "http://127.0.0.1:%d/things/abc/7", http_server_port(srv));
    assert_string_equal(r.location, want);
}

/* r is a problem+json document {type, title, status, detail} of `status`, with a request id. */
static cJSON *assert_problem(const resp_t *r, int status) {
    assert_int_equal(r->status, status);
    assert_string_equal(resp_header(r, "Content-Type"), "application/problem+json");
    assert_true(has_header(r, "X-Request-Id"));
    cJSON *j = test_defer_json(cJSON_Parse(r->data));
    assert_non_null(j);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "type")), "about:blank");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "title")),
                        problem_title(status));
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "status")), status);
    assert_non_null(cJSON_GetStringValue(cJSON_GetObjectItem(j, "detail")));
    return j;
}

static const char *detail_of(const cJSON *problem) {
    return cJSON_GetStringValue(cJSON_GetObjectItem(problem, "detail"));
}

static void test_404_405_on_the_wire(void **state) {
    resp_t r = fetch("/no/such/thing", false);
    assert_string_equal(detail_of(assert_problem(&r, 404)), "no such resource");
    assert_false(has_header(&r, "Allow"));

    r = call("/who", (call_t){.method = "DELETE"});
    assert_string_equal(detail_of(assert_problem(&r, 405)), "method not allowed on this resource");
    assert_string_equal(resp_header(&r, "Allow"), "GET, HEAD, OPTIONS");

    r = call("/who", (call_t){.method = "OPTIONS"});
    assert_int_equal(r.status, 204);
    assert_string_equal(resp_header(&r, "Allow"), "GET, HEAD, OPTIONS");
}

static void test_413_415_on_the_wire(void **state) {
    static const char *const json[] = {"Content-Type: application/json", NULL};
    static const char *const text[] = {"Content-Type: text/plain", NULL};
    char big[TEST_BODY_LIMIT + 2];
    memset(big, ' ', sizeof big - 1);
    big[0] = '{';
    big[sizeof big - 2] = '}';
    big[sizeof big - 1] = '\0';
    resp_t r = call("/echo", (call_t){.method = "POST", .body = big, .headers = json});
    assert_problem(&r, 413);

    r = call("/echo", (call_t){.method = "POST", .body = "{}", .headers = text});
    assert_string_equal(detail_of(assert_problem(&r, 415)),
                        "request body must be application/json");

    big[sizeof big - 3] = '}'; /* at the limit: answered by the handler */
    big[sizeof big - 2] = '\0';
    r = call("/echo", (call_t){.method = "POST", .body = big, .headers = json});
    assert_int_equal(r.status, 204);
}

static void test_cors_on_the_wire(void **state) {
    static const char *const listed[] = {"Origin: https://app.example", NULL};
    resp_t r = call("/who", (call_t){.headers = listed});
    assert_int_equal(r.status, 200);
    assert_string_equal(resp_header(&r, "Access-Control-Allow-Origin"), "https://app.example");
    assert_string_equal(resp_header(&r, "Access-Control-Allow-Credentials"), "true");
    assert_string_equal(resp_header(&r, "Access-Control-Expose-Headers"),
                        "X-Request-Id, Location, Retry-After, ETag");
    assert_string_equal(resp_header(&r, "Vary"), "Origin");

    static const char *const other[] = {"Origin: https://other.example", NULL};
    r = call("/who", (call_t){.headers = other});
    assert_string_equal(resp_header(&r, "Access-Control-Allow-Origin"), "*");
    assert_false(has_header(&r, "Access-Control-Allow-Credentials"));

    static const char *const null_origin[] = {"Origin: null", NULL};
    r = call("/who", (call_t){.headers = null_origin});
    assert_false(has_header(&r, "Access-Control-Allow-Origin"));
    assert_string_equal(resp_header(&r, "Vary"), "Origin"); /* CORS is on: answers vary */

    r = fetch("/who", false); /* no Origin */
    assert_false(has_header(&r, "Access-Control-Allow-Origin"));

    /* errors carry the CORS headers too, so a page can read them */
    r = call("/no/such/thing", (call_t){.headers = listed});
    assert_int_equal(r.status, 404);
    assert_string_equal(resp_header(&r, "Access-Control-Allow-Origin"), "https://app.example");

    static const char *const preflight[] = {"Origin: https://app.example",
                                            "Access-Control-Request-Method: POST",
                                            "Access-Control-Request-Headers: content-type", NULL};
    r = call("/echo", (call_t){.method = "OPTIONS", .headers = preflight});
    assert_int_equal(r.status, 204);
    assert_int_equal(r.len, 0);
    assert_string_equal(resp_header(&r, "Allow"), "POST, OPTIONS");
    assert_string_equal(resp_header(&r, "Access-Control-Allow-Methods"), "POST, OPTIONS");
    assert_string_equal(resp_header(&r, "Access-Control-Allow-Headers"),
                        "Content-Type, Authorization, X-Request-Id, traceparent");
    assert_string_equal(resp_header(&r, "Access-Control-Max-Age"), "600");
    assert_string_equal(resp_header(&r, "Access-Control-Allow-Origin"), "https://app.example");
    assert_string_equal(resp_header(&r, "Access-Control-Allow-Credentials"), "true");
}

/* GET /who from `from` with `headers`: the client address and the URL of /p it got. */
static void who(const char *from, const char *const *headers, const char **client,
                const char **url) {
    resp_t r = call("/who", (call_t){.from = from, .headers = headers});
    assert_int_equal(r.status, 200);
    cJSON *j = test_defer_json(cJSON_Parse(r.data));
    assert_non_null(j);
    *client = cJSON_GetStringValue(cJSON_GetObjectItem(j, "client"));
    *url = cJSON_GetStringValue(cJSON_GetObjectItem(j, "url"));
    assert_non_null(*client);
    assert_non_null(*url);
}

static void test_forwarded_headers(void **state) {
    static const char *const fwd[] = {"X-Forwarded-For: 198.51.100.9, 203.0.113.5",
                                      "X-Forwarded-Proto: https", "X-Forwarded-Host: pizza.example",
                                      NULL};
    const char *client, *url;
    char own[64];
    snprintf(own, sizeof own, "http://127.0.0.1:%d/p", http_server_port(srv));

    /* from the trusted proxy: the rightmost hop it names, and its scheme and host */
    who("127.0.0.1", fwd, &client, &url);
    assert_string_equal(client, "203.0.113.5");
    assert_string_equal(url, "https://pizza.example/p");

    /* the trusted proxy without the headers: itself, and the address connected to */
    who("127.0.0.1", NULL, &client, &url);
    assert_string_equal(client, "127.0.0.1");
    assert_string_equal(url, own);

    /* from an untrusted peer: the headers change nothing */
    who("127.0.0.2", fwd, &client, &url);
    assert_string_equal(client, "127.0.0.2");
    assert_string_equal(url, own);
}

static void test_request_id(void **state) {
    static const char *const sane[] = {"X-Request-Id: abc-123_x.y", NULL};
    resp_t r = call("/who", (call_t){.headers = sane});
    assert_string_equal(resp_header(&r, "X-Request-Id"), "abc-123_x.y");
    cJSON *j = test_defer_json(cJSON_Parse(r.data));
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "id")), "abc-123_x.y");

    static const char *const insane[] = {"X-Request-Id: a b<script>", NULL};
    r = call("/who", (call_t){.headers = insane});
    const char *id = resp_header(&r, "X-Request-Id");
    assert_int_equal(strlen(id), 32); /* made here: 16 random bytes in hex */
    assert_int_equal(strspn(id, "0123456789abcdef"), 32);
}

/* ---- set-up ---- */

static void *serve(void *arg) {
    http_server_run(arg);
    return NULL;
}

static int start(void **state) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    setenv("CORS_ORIGINS", "https://app.example,*", 1);
    setenv("TRUSTED_PROXIES", "127.0.0.1", 1);
    http_config_t cfg;
    http_config_from_env(&cfg, "test", 0);
    cfg.body_limit = TEST_BODY_LIMIT;
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    cfg.threads = 1;
    cfg.workers = 2;
    cfg.drain_ms = 1000;
    srv = http_server_new(&cfg);
    http_route(srv, "GET", "/split", h_split, NULL, HTTP_INLINE);
    http_route(srv, "GET", "/offloaded", h_offloaded, NULL, HTTP_OFFLOAD);
    http_route(srv, "GET", "/big", h_big, NULL, HTTP_INLINE);
    http_route(srv, "GET", "/check", h_check, NULL, HTTP_INLINE);
    http_route(srv, "GET", "/create", h_create, NULL, HTTP_INLINE);
    http_route(srv, "GET", "/who", h_who, NULL, HTTP_INLINE);
    http_route(srv, "POST", "/echo", h_echo, NULL, HTTP_INLINE);
    if (pthread_create(&srv_thread, NULL, serve, srv) != 0) return -1;
    for (int i = 0; i < 500 && http_server_port(srv) == 0; i++) usleep(10000);
    return http_server_port(srv) ? 0 : -1;
}

static int stop(void **state) {
    http_server_stop(srv);
    pthread_join(srv_thread, NULL);
    http_server_free(srv);
    curl_global_cleanup();
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_finish_on_worker_from_the_loop, test_cleanup),
        cmocka_unit_test_teardown(test_finish_on_worker_from_a_worker, test_cleanup),
        cmocka_unit_test_teardown(test_big_reply_and_head, test_cleanup),
        cmocka_unit_test_teardown(test_reply_if_invalid, test_cleanup),
        cmocka_unit_test_teardown(test_add_location, test_cleanup),
        cmocka_unit_test_teardown(test_404_405_on_the_wire, test_cleanup),
        cmocka_unit_test_teardown(test_413_415_on_the_wire, test_cleanup),
        cmocka_unit_test_teardown(test_cors_on_the_wire, test_cleanup),
        cmocka_unit_test_teardown(test_forwarded_headers, test_cleanup),
        cmocka_unit_test_teardown(test_request_id, test_cleanup),
    };
    return cmocka_run_group_tests(tests, start, stop);
}
