/* test_http_router -- http_dispatch() (http_router.h) on requests made by hand, without a
 * socket: which route and handler a request gets, and what the server answers by itself --
 * 404, 405 with Allow, OPTIONS and the CORS preflight, 429, 413, 415 -- in that order, each as
 * a problem document of the shape problem.h makes. test_http.c sees the same answers on the
 * wire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "alloc.h"
#include "http_internal.h"
#include "problem.h"
#include "testlib.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define BODY_LIMIT 16

static http_server_t *srv;

static void h_get(http_req_t *req, void *ctx) {}
static void h_post(http_req_t *req, void *ctx) {}
static void h_item(http_req_t *req, void *ctx) {}
static void h_seen(http_req_t *req, void *ctx) {}
static void h_delete(http_req_t *req, void *ctx) {}

static const config_var_t test_vars[] = {
    {.name = "RATE_LIMIT_TEST_LOGIN", .type = CONFIG_RATE, .def = "1/1", .help = "a limit"},
    {.name = NULL},
};

static int setup(void **state) {
    setenv("CORS_ORIGINS", "https://app.example", 1);
    setenv("RATE_LIMIT_TEST_LOGIN", "60/2", 1);
    http_config_t cfg;
    http_config_from_env(&cfg, "test", 0);
    cfg.body_limit = BODY_LIMIT;
    config_declare(test_vars);
    srv = http_server_new(&cfg);
    http_route(srv, "GET", "/things", h_get, NULL, HTTP_INLINE);
    http_route(srv, "POST", "/things", h_post, NULL, HTTP_OFFLOAD);
    http_route(srv, "PUT", "/things/{id}", h_item, NULL, HTTP_INLINE);
    http_route(srv, "PATCH", "/things/{id}", h_item, NULL, HTTP_INLINE);
    http_route(srv, "GET", "/things/{id}", h_item, NULL, HTTP_INLINE);
    http_route(srv, "GET", "/things/seen", h_seen, NULL, HTTP_INLINE);
    http_route(srv, "DELETE", "/gone", h_delete, NULL, HTTP_INLINE);
    http_route(srv, "POST", "/login", h_post, NULL, HTTP_INLINE);
    http_rate_limit(srv, "POST", "/login", "test-login");
    return 0;
}

static int teardown(void **state) {
    http_server_free(srv);
    return 0;
}

/* A request; header pairs follow as name, value, ..., TEST_END. */
static http_req_t *req_of(const char *method, const char *path, const char *body, ...) {
    http_req_t *req = test_defer_req(http_req_new(srv, method, path));
    str_copy(req->peer, "192.0.2.7", sizeof req->peer);
    str_copy(req->client, "192.0.2.7", sizeof req->client);
    if (body) {
        req->body = xstrdup(body);
        req->body_len = strlen(body);
    }
    va_list ap;
    va_start(ap, body);
    for (const char *k; (k = va_arg(ap, const char *));)
        kv_add(&req->headers, k, va_arg(ap, const char *));
    va_end(ap);
    return req;
}

static const char *out_header(const http_req_t *req, const char *name) {
    return kv_get(&req->out_headers, name, 1);
}

/* req was answered `status` with a problem document {type, title, status, detail}. */
static void assert_problem(const http_req_t *req, int status, const char *detail) {
    assert_true(req->replied);
    assert_int_equal(req->status, status);
    assert_string_equal(req->resp_type, "application/problem+json");
    cJSON *p = test_defer_json(cJSON_ParseWithLength(req->resp_body, req->resp_len));
    assert_non_null(p);
    assert_int_equal(cJSON_GetArraySize(p), 4);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(p, "type")), "about:blank");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(p, "title")),
                        problem_title(status));
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(p, "status")), status);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(p, "detail")), detail);
}

/* req goes to its handler, unanswered. */
static void assert_routed(http_req_t *req, http_handler_fn fn, const char *pattern) {
    assert_int_equal(http_dispatch(req), 0);
    assert_false(req->replied);
    assert_non_null(req->entry);
    assert_ptr_equal(req->entry->fn, fn);
    assert_string_equal(http_route_pattern(req), pattern);
}

static void test_routes(void **state) {
    assert_routed(req_of("GET", "/things", NULL, TEST_END), h_get, "/things");
    assert_routed(req_of("POST", "/things", "{}", "Content-Type", "application/json", TEST_END),
                  h_post, "/things");
    /* a literal segment wins over a parameter; a parameter is percent-decoded */
    assert_routed(req_of("GET", "/things/seen", NULL, TEST_END), h_seen, "/things/seen");
    http_req_t *item = req_of("GET", "/things/a%20b", NULL, TEST_END);
    assert_routed(item, h_item, "/things/{id}");
    assert_string_equal(http_param(item, "id"), "a b");
    /* HEAD is GET's handler */
    assert_routed(req_of("HEAD", "/things", NULL, TEST_END), h_get, "/things");
    /* flags come with the entry */
    http_req_t *post = req_of("POST", "/things", NULL, TEST_END);
    assert_int_equal(http_dispatch(post), 0);
    assert_int_equal(post->entry->flags, HTTP_OFFLOAD);
}

static void test_404(void **state) {
    http_req_t *req = req_of("GET", "/nothing/here", NULL, TEST_END);
    assert_int_equal(http_dispatch(req), 1);
    assert_problem(req, 404, "no such resource");
    assert_null(req->entry);
    assert_string_equal(http_route_pattern(req), "unmatched");
    /* a path longer than any route, and one deeper than a route */
    req = req_of("GET", "/things/a/b", NULL, TEST_END);
    assert_int_equal(http_dispatch(req), 1);
    assert_problem(req, 404, "no such resource");
    /* 404 before 405: no route, whatever the method */
    req = req_of("DELETE", "/nothing", NULL, TEST_END);
    assert_int_equal(http_dispatch(req), 1);
    assert_int_equal(req->status, 404);
}

static void test_405_with_allow(void **state) {
    http_req_t *req = req_of("DELETE", "/things", NULL, TEST_END);
    assert_int_equal(http_dispatch(req), 1);
    assert_problem(req, 405, "method not allowed on this resource");
    assert_string_equal(out_header(req, "Allow"), "GET, HEAD, POST, OPTIONS");

    req = req_of("GET", "/gone", NULL, TEST_END); /* no GET: no HEAD either */
    assert_int_equal(http_dispatch(req), 1);
    assert_problem(req, 405, "method not allowed on this resource");
    assert_string_equal(out_header(req, "Allow"), "DELETE, OPTIONS");
    req = req_of("HEAD", "/gone", NULL, TEST_END);
    assert_int_equal(http_dispatch(req), 1);
    assert_int_equal(req->status, 405);

    req = req_of("POST", "/things/x", "{}", "Content-Type", "application/json", TEST_END);
    assert_int_equal(http_dispatch(req), 1);
    assert_string_equal(out_header(req, "Allow"), "PUT, PATCH, GET, HEAD, OPTIONS");

    /* a method the parser did not know */
    req = req_of("OTHER", "/things", NULL, TEST_END);
    assert_int_equal(http_dispatch(req), 1);
    assert_int_equal(req->status, 405);

    /* 405 before 413 and 415 */
    req = req_of("DELETE", "/things", "way more than sixteen bytes", "Content-Type", "text/plain",
                 TEST_END);
    assert_int_equal(http_dispatch(req), 1);
    assert_int_equal(req->status, 405);
}

static void test_options(void **state) {
    /* no Origin: Allow only */
    http_req_t *req =
        req_of("OPTIONS", "/things", NULL, "Access-Control-Request-Method", "POST", TEST_END);
    assert_int_equal(http_dispatch(req), 1);
    assert_true(req->replied);
    assert_int_equal(req->status, 204);
    assert_int_equal(req->resp_len, 0);
    assert_string_equal(out_header(req, "Allow"), "GET, HEAD, POST, OPTIONS");
    assert_null(out_header(req, "Access-Control-Allow-Methods"));

    /* a preflight from an allowed origin */
    req = req_of("OPTIONS", "/things", NULL, "Origin", "https://app.example",
                 "Access-Control-Request-Method", "POST", TEST_END);
    assert_int_equal(http_dispatch(req), 1);
    assert_int_equal(req->status, 204);
    assert_string_equal(out_header(req, "Allow"), "GET, HEAD, POST, OPTIONS");
    assert_string_equal(out_header(req, "Access-Control-Allow-Methods"),
                        "GET, HEAD, POST, OPTIONS");
    assert_string_equal(out_header(req, "Access-Control-Allow-Headers"),
                        "Content-Type, Authorization, X-Request-Id, traceparent");
    assert_string_equal(out_header(req, "Access-Control-Max-Age"), "600");

    /* an allowed origin without Access-Control-Request-Method: no preflight */
    req = req_of("OPTIONS", "/things", NULL, "Origin", "https://app.example", TEST_END);
    assert_int_equal(http_dispatch(req), 1);
    assert_null(out_header(req, "Access-Control-Allow-Methods"));

    /* an origin not allowed: no preflight */
    req = req_of("OPTIONS", "/things", NULL, "Origin", "https://evil.example",
                 "Access-Control-Request-Method", "POST", TEST_END);
    assert_int_equal(http_dispatch(req), 1);
    assert_int_equal(req->status, 204);
    assert_null(out_header(req, "Access-Control-Allow-Methods"));
    assert_null(out_header(req, "Access-Control-Max-Age"));

    /* OPTIONS on no route is 404 */
    req = req_of("OPTIONS", "/nothing", NULL, TEST_END);
    assert_int_equal(http_dispatch(req), 1);
    assert_int_equal(req->status, 404);
}

static void test_413(void **state) {
    char at[BODY_LIMIT + 1], over[BODY_LIMIT + 2];
    memset(at, 'x', BODY_LIMIT);
    at[BODY_LIMIT] = '\0';
    memset(over, 'x', BODY_LIMIT + 1);
    over[BODY_LIMIT + 1] = '\0';
    http_req_t *req = req_of("POST", "/things", over, "Content-Type", "application/json", TEST_END);
    assert_int_equal(http_dispatch(req), 1);
    assert_problem(req, 413, "request body is over the limit of 16 bytes");
    /* at the limit: through */
    assert_routed(req_of("POST", "/things", at, "Content-Type", "application/json", TEST_END),
                  h_post, "/things");
    /* any method: a GET with a body over the limit too */
    req = req_of("GET", "/things", over, TEST_END);
    assert_int_equal(http_dispatch(req), 1);
    assert_int_equal(req->status, 413);
    /* 413 before 415 */
    req = req_of("POST", "/things", over, "Content-Type", "text/plain", TEST_END);
    assert_int_equal(http_dispatch(req), 1);
    assert_int_equal(req->status, 413);
}

static void expect_415(const char *method, const char *path, const char *content_type) {
    http_req_t *req = content_type
                          ? req_of(method, path, "{}", "Content-Type", content_type, TEST_END)
                          : req_of(method, path, "{}", TEST_END);
    assert_int_equal(http_dispatch(req), 1);
    assert_problem(req, 415, "request body must be application/json");
}

static void test_415(void **state) {
    expect_415("POST", "/things", "text/plain");
    expect_415("POST", "/things", NULL);
    expect_415("POST", "/things", "application/jsonp");
    expect_415("POST", "/things", "application/x-www-form-urlencoded");
    expect_415("PUT", "/things/x", "text/plain");
    expect_415("PATCH", "/things/x", "text/json");

    const char *fine[] = {"application/json", "application/json; charset=utf-8", "Application/JSON",
                          " application/json", "application/json ;q=1"};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++)
        assert_routed(req_of("POST", "/things", "{}", "Content-Type", fine[i], TEST_END), h_post,
                      "/things");
    /* a mutation without a body needs no Content-Type */
    assert_routed(req_of("POST", "/things", NULL, TEST_END), h_post, "/things");
    /* only POST, PUT and PATCH are held to it */
    assert_routed(req_of("GET", "/things", "{}", "Content-Type", "text/plain", TEST_END), h_get,
                  "/things");
    assert_routed(req_of("DELETE", "/gone", "{}", "Content-Type", "text/plain", TEST_END), h_delete,
                  "/gone");
}

static void test_429(void **state) {
    /* RATE_LIMIT_TEST_LOGIN=60/2: two at once, then one a second, per client address */
    for (int i = 0; i < 2; i++)
        assert_routed(req_of("POST", "/login", NULL, TEST_END), h_post, "/login");
    http_req_t *req = req_of("POST", "/login", NULL, TEST_END);
    assert_int_equal(http_dispatch(req), 1);
    assert_problem(req, 429, "too many requests; try again later");
    assert_string_equal(out_header(req, "Retry-After"), "1");
    /* another client is not affected */
    req = req_of("POST", "/login", NULL, TEST_END);
    str_copy(req->client, "192.0.2.8", sizeof req->client);
    assert_int_equal(http_dispatch(req), 0);
    /* the route's other methods and other routes are not limited */
    for (int i = 0; i < 3; i++)
        assert_routed(req_of("GET", "/things", NULL, TEST_END), h_get, "/things");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_routes, test_cleanup),
        cmocka_unit_test_teardown(test_404, test_cleanup),
        cmocka_unit_test_teardown(test_405_with_allow, test_cleanup),
        cmocka_unit_test_teardown(test_options, test_cleanup),
        cmocka_unit_test_teardown(test_413, test_cleanup),
        cmocka_unit_test_teardown(test_415, test_cleanup),
        cmocka_unit_test_teardown(test_429, test_cleanup),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
