/* Unit tests for wire.c: which request bytes are refused, with which status, however the
 * bytes are split across reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "testlib.h"
#include "wire.h"

#define LIMIT 65536

static void wire_free_any(void *w) { wire_free(w); }

/* The status for `req` fed whole, then fed in two pieces split at every position, and one
 * byte at a time: all must agree. */
static int verdict(const char *req, size_t n) {
    const char *detail = NULL;
    wire_t *w = test_defer(wire_free_any, wire_new(LIMIT));
    int whole = wire_feed(w, req, n, &detail);
    if (whole) assert_non_null(detail);
    for (size_t cut = 0; cut <= n; cut++) {
        wire_t *s = wire_new(LIMIT);
        int st = wire_feed(s, req, cut, NULL);
        if (!st) st = wire_feed(s, req + cut, n - cut, NULL);
        wire_free(s);
        assert_int_equal(st, whole);
    }
    wire_t *b = wire_new(LIMIT);
    int st = 0;
    for (size_t i = 0; i < n && !st; i++) st = wire_feed(b, req + i, 1, NULL);
    wire_free(b);
    assert_int_equal(st, whole);
    return whole;
}
#define V(lit) verdict(lit, sizeof lit - 1)

static void test_accepts_plain_requests(void **state) {
    assert_int_equal(V("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    assert_int_equal(V("GET /health HTTP/1.0\r\n\r\n"), 0); /* no Host needed in 1.0 */
    assert_int_equal(V("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"), 0);
    assert_int_equal(V("GET /a?b=c%20d HTTP/1.1\r\nhost: x\r\nX-A: a b  c\r\n\r\n"), 0);
    /* pipelined */
    assert_int_equal(V("GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\n"
                       "Content-Length: 1\r\n\r\nxGET /c HTTP/1.1\r\nHost: x\r\n\r\n"),
                     0);
    /* an Upgrade request is served as plain HTTP/1.1; the next request follows */
    assert_int_equal(V("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
                       "GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
                     0);
}

static void test_refuses_smuggling_blocks(void **state) {
    /* two Content-Length, the second one a smuggled request's length */
    assert_int_equal(V("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 34"
                       "\r\n\r\n{}GET /b HTTP/1.1\r\nHost: x\r\n\r\n"),
                     400);
    assert_int_equal(V("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\n{}"), 400);
    assert_int_equal(V("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2 2\r\n\r\n{}"), 400);
    assert_int_equal(V("GET /a HTTP/1.1\r\n\r\n"), 400);                            /* no Host */
    assert_int_equal(V("GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);      /* two */
    assert_int_equal(V("GET /a HTTP/1.1\r\nHost : x\r\n\r\n"), 400);                /* space */
    assert_int_equal(V("GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n"), 400); /* fold */
    assert_int_equal(V("GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tb\r\n\r\n"), 400);
    assert_int_equal(V("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "2;ext=1\r\n{}\r\n0\r\n\r\n"),
                     411);
    assert_int_equal(V("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n{}"),
                     400);
}

static void test_refuses_malformed_requests(void **state) {
    assert_int_equal(V("GET /a HTTP/1.99999999999\r\nHost: x\r\n\r\n"), 400);
    assert_int_equal(V("GET /a HTTP/2.0\r\nHost: x\r\n\r\n"), 505);
    assert_int_equal(V("BREW /a HTTP/1.1\r\nHost: x\r\n\r\n"), 501);
    assert_int_equal(V("\x01\x02 hello\r\n\r\n"), 501);
    assert_int_equal(V("CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n"), 405);
    assert_int_equal(V("GET /a HTTP/1.1\r\nHost: x\r\nX\x01: y\r\n\r\n"), 400);
    assert_int_equal(V("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n"), 413);
    assert_int_equal(V("POST /a HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\n"
                       "Content-Length: 2\r\n\r\n{}"),
                     0);
    assert_int_equal(V("GET /a HTTP/1.1\r\nHost: x\r\nExpect: tea\r\n\r\n"), 417);
}

static void test_head_limit(void **state) {
    size_t pad = WIRE_HEAD_LIMIT + 10;
    char *req = test_defer_free(malloc(pad + 64));
    assert_non_null(req);
    int n = snprintf(req, 64, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(req + n, 'a', pad);
    memcpy(req + n + pad, "\r\n\r\n", 4);
    wire_t *w = test_defer(wire_free_any, wire_new(LIMIT));
    const char *detail = NULL;
    assert_int_equal(wire_feed(w, req, (size_t)n + pad + 4, &detail), 431);
    /* once refused, everything after is refused too */
    assert_int_equal(wire_feed(w, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 28, &detail), 431);
}

/* wire_allow_uploads: a request its function names may send up to the upload limit; the
 * function sees the method and the target as sent; any other request keeps the body limit. */
static bool upload_route(const char *method, const char *target, void *ctx) {
    (*(int *)ctx)++;
    return strcmp(method, "PUT") == 0 && strncmp(target, "/up", 3) == 0;
}

static int with_uploads(const char *head, int *asked) {
    wire_t *w = test_defer(wire_free_any, wire_new(LIMIT));
    wire_allow_uploads(w, 4 * LIMIT, upload_route, asked);
    return wire_feed(w, head, strlen(head), NULL);
}

static void test_upload_limit_on_named_routes_only(void **state) {
    int asked = 0;
    assert_int_equal(
        with_uploads("PUT /up?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 262144\r\n\r\n", &asked),
        0);
    assert_int_equal(asked, 1);
    assert_int_equal(
        with_uploads("PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 262145\r\n\r\n", &asked), 413);
    assert_int_equal(
        with_uploads("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n", &asked), 413);
    assert_int_equal(
        with_uploads("PUT /other HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n", &asked),
        413);
    asked = 0; /* within the body limit it is not asked */
    assert_int_equal(
        with_uploads("PUT /other HTTP/1.1\r\nHost: x\r\nContent-Length: 65536\r\n\r\n", &asked), 0);
    assert_int_equal(asked, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_accepts_plain_requests, test_cleanup),
        cmocka_unit_test_teardown(test_refuses_smuggling_blocks, test_cleanup),
        cmocka_unit_test_teardown(test_refuses_malformed_requests, test_cleanup),
        cmocka_unit_test_teardown(test_head_limit, test_cleanup),
        cmocka_unit_test_teardown(test_upload_limit_on_named_routes_only, test_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
