/* Unit tests for route.c: which pattern a path matches and with which parameters, the
 * patterns and methods route_add() refuses, and the Allow list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "route.h"
#include "testlib.h"

static void table_free_any(void *t) { route_table_free(t, NULL); }

static route_table_t *new_table(void) { return test_defer(table_free_any, route_table_new()); }

/* Any non-NULL data: the tests only compare pointers. */
static int h_a, h_b, h_c;

/* Registers method on pattern with &h_a; fails the test when route_add refuses. */
static void add(route_table_t *t, const char *method, const char *pattern) {
    if (route_add(t, method, pattern, &h_a) != 0) fail_msg("route_add(%s %s)", method, pattern);
}

/* The pattern `path` matches in t, or NULL; its parameters into params, their count into *n. */
static const char *matched(const route_table_t *t, const char *path,
                           route_param_t params[ROUTE_MAX_SEGS], int *n) {
    const route_t *r = route_match(t, path, params, n);
    if (!r) {
        assert_int_equal(*n, 0);
        return NULL;
    }
    assert_int_equal(*n, route_nparams(r));
    return route_pattern(r);
}

/* The route table of a service like likes, plus the server's own routes. */
static route_table_t *likes_table(void) {
    route_table_t *t = new_table();
    add(t, "GET", "/health");
    add(t, "GET", "/api/v1/likes");
    add(t, "GET", "/api/v1/likes/seen");
    add(t, "GET", "/api/v1/likes/counts");
    add(t, "PUT", "/api/v1/likes/{pizza_id}");
    add(t, "GET", "/api/v1/likes/{pizza_id}");
    add(t, "DELETE", "/api/v1/likes/{pizza_id}");
    return t;
}

static void test_literal_beats_parameter(void **state) {
    route_table_t *t = likes_table();
    route_param_t p[ROUTE_MAX_SEGS];
    int n;
    assert_string_equal(matched(t, "/api/v1/likes/seen", p, &n), "/api/v1/likes/seen");
    assert_string_equal(matched(t, "/api/v1/likes/counts", p, &n), "/api/v1/likes/counts");
    assert_string_equal(matched(t, "/api/v1/likes", p, &n), "/api/v1/likes");
    /* literals compare still encoded: "se%65n" is a pizza id, not "seen" */
    assert_string_equal(matched(t, "/api/v1/likes/se%65n", p, &n), "/api/v1/likes/{pizza_id}");
    assert_int_equal(n, 1);
    assert_string_equal(p[0].name, "pizza_id");
    /* case matters */
    assert_string_equal(matched(t, "/api/v1/likes/SEEN", p, &n), "/api/v1/likes/{pizza_id}");
    assert_null(matched(t, "/API/v1/likes", p, &n));
}

static void test_parameters_are_segments_of_the_path(void **state) {
    route_table_t *t = new_table();
    add(t, "GET", "/api/v1/users/{id}/erasure");
    add(t, "GET", "/a/{x}/b/{y}");
    route_param_t p[ROUTE_MAX_SEGS];
    int n;
    const char *path = "/api/v1/users/0123abc/erasure";
    assert_string_equal(matched(t, path, p, &n), "/api/v1/users/{id}/erasure");
    assert_int_equal(n, 1);
    assert_string_equal(p[0].name, "id");
    assert_int_equal(p[0].off, 14);
    assert_int_equal(p[0].len, 7);

    path = "//a//x1/b/y%2F2//";
    assert_string_equal(matched(t, path, p, &n), "/a/{x}/b/{y}");
    assert_int_equal(n, 2);
    assert_string_equal(p[0].name, "x");
    assert_memory_equal(path + p[0].off, "x1", 2);
    assert_int_equal(p[0].len, 2);
    assert_string_equal(p[1].name, "y");
    assert_int_equal(p[1].len, 5);
    assert_memory_equal(path + p[1].off, "y%2F2", 5);
    char *v = test_defer_free(route_param_value(path, &p[1]));
    assert_string_equal(v, "y/2");
}

static void test_slashes_and_depth(void **state) {
    route_table_t *t = new_table();
    add(t, "GET", "/");
    add(t, "GET", "/a/b");
    char deep[128] = "", pattern[128] = "";
    for (int i = 0; i < ROUTE_MAX_SEGS; i++) {
        strcat(deep, "/s");
        strcat(pattern, i == ROUTE_MAX_SEGS - 1 ? "/{last}" : "/s");
    }
    add(t, "GET", pattern);
    route_param_t p[ROUTE_MAX_SEGS];
    int n;
    assert_string_equal(matched(t, "/", p, &n), "/");
    assert_string_equal(matched(t, "", p, &n), "/");
    assert_string_equal(matched(t, "///", p, &n), "/");
    assert_string_equal(matched(t, "a/b", p, &n), "/a/b");
    assert_string_equal(matched(t, "/a/b/", p, &n), "/a/b");
    assert_string_equal(matched(t, "//a///b", p, &n), "/a/b");
    assert_null(matched(t, "/a", p, &n));
    assert_null(matched(t, "/a/b/c", p, &n));
    assert_null(matched(t, "/a/bb", p, &n));
    assert_null(matched(t, "/a/b\n", p, &n));
    assert_string_equal(matched(t, deep, p, &n), pattern);
    assert_int_equal(n, 1);
    assert_int_equal(p[0].off, strlen(deep) - 1);
    /* one segment more than a route can have: nothing, whatever the routes */
    strcat(deep, "/s");
    assert_null(matched(t, deep, p, &n));
    add(t, "GET", "/{a}");
    assert_string_equal(matched(t, "/a", p, &n), "/{a}");
    assert_null(matched(t, deep, p, &n));
}

static void test_fewest_parameters_then_first_registered(void **state) {
    route_table_t *t = new_table();
    add(t, "GET", "/{a}/{b}");
    add(t, "GET", "/t/{b}/x");
    add(t, "GET", "/t/y/{c}");
    add(t, "GET", "/t/{d}/{e}");
    route_param_t p[ROUTE_MAX_SEGS];
    int n;
    assert_string_equal(matched(t, "/t/y/x", p, &n), "/t/{b}/x"); /* registered before */
    assert_string_equal(p[0].name, "b");
    assert_string_equal(matched(t, "/t/y/z", p, &n), "/t/y/{c}");
    assert_string_equal(matched(t, "/t/z/z", p, &n), "/t/{d}/{e}");
    assert_string_equal(matched(t, "/t/z", p, &n), "/{a}/{b}");
    assert_int_equal(n, 2);
}

static void test_methods_and_allow(void **state) {
    route_table_t *t = new_table();
    assert_int_equal(route_add(t, "GET", "/p", &h_a), 0);
    assert_int_equal(route_add(t, "POST", "/p", &h_b), 0);
    assert_int_equal(route_add(t, "PUT", "/p/{id}", &h_c), 0);
    assert_int_equal(route_add(t, "GET", "/p/{id}", &h_a), 0);
    assert_int_equal(route_add(t, "PATCH", "/p/{id}", &h_b), 0);
    assert_int_equal(route_add(t, "DELETE", "/p/{id}", &h_b), 0);
    assert_int_equal(route_add(t, "DELETE", "/d", &h_c), 0);
    assert_int_equal(route_count(t), 3);

    route_t *p = route_find(t, "/p"), *id = route_find(t, "/p/{id}"), *d = route_find(t, "/d");
    assert_ptr_equal(p, route_at(t, 0));
    assert_ptr_equal(id, route_at(t, 1));
    assert_ptr_equal(d, route_at(t, 2));
    assert_null(route_at(t, 3));
    assert_null(route_find(t, "/p/{x}"));
    assert_ptr_equal(route_method(p, "GET"), &h_a);
    assert_ptr_equal(route_method(p, "POST"), &h_b);
    assert_null(route_method(p, "get"));
    assert_null(route_method(p, "HEAD"));
    assert_null(route_method(p, "OPTIONS"));
    assert_null(route_method(p, "PUT"));
    assert_null(route_method(p, ""));
    assert_ptr_equal(route_method(id, "PUT"), &h_c);

    char allow[ROUTE_ALLOW_MAX];
    assert_int_equal(route_allow(p, allow, sizeof allow), strlen("GET, HEAD, POST, OPTIONS"));
    assert_string_equal(allow, "GET, HEAD, POST, OPTIONS");
    route_allow(id, allow, sizeof allow); /* registration order, HEAD after GET */
    assert_string_equal(allow, "PUT, GET, HEAD, PATCH, DELETE, OPTIONS");
    route_allow(d, allow, sizeof allow);
    assert_string_equal(allow, "DELETE, OPTIONS");

    /* all five: the longest list, and ROUTE_ALLOW_MAX holds it */
    route_table_t *all = new_table();
    const char *five[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    for (int i = 0; i < 5; i++) add(all, five[i], "/all");
    const route_t *r = route_find(all, "/all");
    assert_int_equal(route_allow(r, allow, sizeof allow), ROUTE_ALLOW_MAX - 1);
    assert_string_equal(allow, "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    /* too short: cut, terminated, the full length returned; size 0 writes nothing */
    char small[8];
    memset(small, 'x', sizeof small);
    assert_int_equal(route_allow(r, small, sizeof small), ROUTE_ALLOW_MAX - 1);
    assert_string_equal(small, "GET, HE");
    small[0] = 'x';
    assert_int_equal(route_allow(r, small, 0), ROUTE_ALLOW_MAX - 1);
    assert_int_equal(small[0], 'x');
    assert_int_equal(route_allow(r, small, 1), ROUTE_ALLOW_MAX - 1);
    assert_string_equal(small, "");
}

static void test_refuses_bad_registrations(void **state) {
    route_table_t *t = new_table();
    add(t, "GET", "/ok/{id}");
    static const char *methods[] = {"HEAD", "OPTIONS", "get", "CONNECT", "", "GETX"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        assert_int_equal(route_add(t, methods[i], "/m", &h_a), -1);
    assert_int_equal(route_add(t, NULL, "/m", &h_a), -1);
    static const char *patterns[] = {
        "",        "ok",         "//ok",
        "/ok/",    "/ok//x",     "/{}",
        "/{id",    "/id}",       "/{i d}",
        "/{a-b}",  "/{id}/{id}", "/x{y}",
        "/x}",     "/{{a}}",     "/{a}}",
        "/a/{b}c", "/{a}/b/{a}", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17",
    };
    for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++)
        if (route_add(t, "GET", patterns[i], &h_a) != -1) fail_msg("accepted %s", patterns[i]);
    assert_int_equal(route_add(t, "GET", NULL, &h_a), -1);
    assert_int_equal(route_add(t, "GET", "/m", NULL), -1);
    assert_int_equal(route_add(t, "GET", "/ok/{id}", &h_b), -1); /* twice */
    /* nothing changed */
    assert_int_equal(route_count(t), 1);
    assert_ptr_equal(route_method(route_at(t, 0), "GET"), &h_a);
    /* accepted: the deepest pattern, names of letters, digits and '_' */
    add(t, "GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16");
    add(t, "POST", "/{A_z09}/%7B/a.b/~");
    assert_int_equal(route_count(t), 3);
}

static void test_param_value_decoding(void **state) {
    struct {
        const char *seg, *want;
    } cases[] = {
        {"plain", "plain"}, {"%41b", "Ab"}, {"a+b", "a+b"}, {"%2b", "+"},           {"%zz", "%zz"},
        {"%4", "%4"},       {"%", "%"},     {"a%00b", "a"}, {"%C3%A9", "\xc3\xa9"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[64];
        snprintf(path, sizeof path, "/x/%s/y", cases[i].seg);
        route_param_t p = {"v", 3, strlen(cases[i].seg)};
        char *v = route_param_value(path, &p);
        assert_string_equal(v, cases[i].want);
        free(v);
    }
}

static int freed;
static void count_free(void *data) {
    freed++;
    free(data);
}

static void test_free_hands_back_data(void **state) {
    route_table_t *t = route_table_new();
    assert_int_equal(route_add(t, "GET", "/a", malloc(1)), 0);
    assert_int_equal(route_add(t, "PUT", "/a", malloc(1)), 0);
    assert_int_equal(route_add(t, "GET", "/b/{c}", malloc(1)), 0);
    void *refused = malloc(1);
    assert_int_equal(route_add(t, "GET", "/a", refused), -1); /* still the caller's */
    free(refused);
    freed = 0;
    route_table_free(t, count_free);
    assert_int_equal(freed, 3);
    route_table_free(NULL, count_free);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_literal_beats_parameter, test_cleanup),
        cmocka_unit_test_teardown(test_parameters_are_segments_of_the_path, test_cleanup),
        cmocka_unit_test_teardown(test_slashes_and_depth, test_cleanup),
        cmocka_unit_test_teardown(test_fewest_parameters_then_first_registered, test_cleanup),
        cmocka_unit_test_teardown(test_methods_and_allow, test_cleanup),
        cmocka_unit_test_teardown(test_refuses_bad_registrations, test_cleanup),
        cmocka_unit_test_teardown(test_param_value_decoding, test_cleanup),
        cmocka_unit_test_teardown(test_free_hands_back_data, test_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
