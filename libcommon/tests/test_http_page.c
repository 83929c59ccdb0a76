/* test_http_page -- http_page.h on requests made by hand: the page parameters (defaults,
 * bounds, the 400 naming each bad one) and the page object's links (the other parameters
 * kept, limit and offset replaced, null at the ends). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http_internal.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

static http_server_t *srv;

static int setup(void **state) {
    setenv("PUBLIC_URL", "https://tizza.example/", 1);
    http_config_t cfg;
    http_config_from_env(&cfg, "test", 0);
    cfg.page_size = 5;
    srv = http_server_new(&cfg);
    return 0;
}

static int teardown(void **state) {
    http_server_free(srv);
    return 0;
}

/* A GET of path with query pairs key, value, ..., TEST_END (as the server parsed them). */
static http_req_t *req_of(const char *path, ...) {
    http_req_t *req = test_defer_req(http_req_new(srv, "GET", path));
    va_list ap;
    va_start(ap, path);
    for (const char *k; (k = va_arg(ap, const char *));)
        kv_add(&req->query, k, va_arg(ap, const char *));
    va_end(ap);
    return req;
}

static void test_params(void **state) {
    http_page_t page;
    assert_int_equal(http_page_params(req_of("/x", TEST_END), &page), 0);
    assert_int_equal(page.limit, 5); /* PAGE_SIZE */
    assert_int_equal(page.offset, 0);
    assert_int_equal(http_page_params(req_of("/x", "limit", "100", "offset", "7", TEST_END), &page),
                     0);
    assert_int_equal(page.limit, 100);
    assert_int_equal(page.offset, 7);
    assert_int_equal(http_page_params(req_of("/x", "limit", "1", TEST_END), &page), 0);
    assert_int_equal(page.limit, 1);

    http_req_t *req = req_of("/x", "limit", "101", "offset", "-1", TEST_END);
    assert_int_equal(http_page_params(req, &page), -1);
    assert_int_equal(req->status, 400);
    cJSON *p = test_defer_json(cJSON_ParseWithLength(req->resp_body, req->resp_len));
    const cJSON *errors = cJSON_GetObjectItem(p, "errors");
    assert_int_equal(cJSON_GetArraySize(errors), 2);
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(errors, 0), "field")), "limit");
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(errors, 1), "field")),
        "offset");

    req = req_of("/x", "limit", "0", TEST_END);
    assert_int_equal(http_page_params(req, &page), -1);
    p = test_defer_json(cJSON_ParseWithLength(req->resp_body, req->resp_len));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(p, "errors")), 1);
}

static const char *link_of(const cJSON *body, const char *name) {
    const cJSON *v = cJSON_GetObjectItem(body, name);
    return cJSON_IsNull(v) ? "null" : cJSON_GetStringValue(v);
}

static cJSON *body_of(http_req_t *req, long limit, long offset, long count) {
    http_page_t page = {limit, offset};
    return test_defer_json(http_page_body(req, &page, count, cJSON_CreateArray()));
}

static void test_links(void **state) {
    http_req_t *req =
        req_of("/api/v1/pizzas", "kind", "a b&c", "limit", "2", "offset", "2", TEST_END);
    cJSON *b = body_of(req, 2, 2, 7);
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(b, "count")), 7);
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(b, "results")));
    assert_string_equal(link_of(b, "next"),
                        "https://tizza.example/api/v1/pizzas?kind=a%20b%26c&limit=2&offset=4");
    /* the first page has no offset */
    assert_string_equal(link_of(b, "previous"),
                        "https://tizza.example/api/v1/pizzas?kind=a%20b%26c&limit=2");

    /* pages of 5 of /p: previous and next */
    static const struct {
        long offset, count;
        const char *previous, *next;
    } pages[] = {
        {0, 7, "null", "https://tizza.example/p?limit=5&offset=5"}, /* first */
        {5, 10, "https://tizza.example/p?limit=5", "null"},         /* last */
        {3, 10, "https://tizza.example/p?limit=5", /* starts before 5: previous is the first */
         "https://tizza.example/p?limit=5&offset=8"},
        {20, 10, "https://tizza.example/p?limit=5&offset=15", "null"}, /* past the end */
    };
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        b = body_of(req_of("/p", TEST_END), 5, pages[i].offset, pages[i].count);
        assert_string_equal(link_of(b, "previous"), pages[i].previous);
        assert_string_equal(link_of(b, "next"), pages[i].next);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_params, test_cleanup),
        cmocka_unit_test_teardown(test_links, test_cleanup),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
