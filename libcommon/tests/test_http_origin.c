/* test_http_origin -- http_origin.h's rules, without a server: the client address behind
 * trusted proxies, the base of absolute URLs, and the CORS origin decision. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http_origin.h"
#include "testlib.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void free_rules(void *o) { http_origin_rules_free(o); }
static http_origin_rules_t *rules(const char *cors, const char *trusted, const char *public_url) {
    return test_defer(free_rules, http_origin_rules_new(cors, trusted, public_url));
}

static const char *client(const http_origin_rules_t *o, const char *peer, const char *xff) {
    static char out[64];
    memset(out, 'x', sizeof out);
    http_origin_client(o, peer, xff, out, sizeof out);
    return out;
}

static void test_client_untrusted_peer_ignores_xff(void **state) {
    http_origin_rules_t *o = rules(NULL, "10.0.0.1", NULL);
    assert_string_equal(client(o, "192.0.2.7", "203.0.113.5"), "192.0.2.7");
    assert_string_equal(client(o, "192.0.2.7", NULL), "192.0.2.7");
    http_origin_rules_t *none = rules(NULL, NULL, NULL);
    assert_string_equal(client(none, "10.0.0.1", "203.0.113.5"), "10.0.0.1");
}

static void test_client_walks_xff_past_trusted_hops(void **state) {
    http_origin_rules_t *o = rules(NULL, "10.0.0.1, 10.0.0.2", NULL);
    /* the rightmost untrusted hop, not the leftmost (a client may forge the left part) */
    assert_string_equal(client(o, "10.0.0.1", "198.51.100.9, 203.0.113.5"), "203.0.113.5");
    assert_string_equal(client(o, "10.0.0.1", "198.51.100.9, 203.0.113.5, 10.0.0.2"),
                        "203.0.113.5");
    /* every hop trusted: the leftmost */
    assert_string_equal(client(o, "10.0.0.1", "10.0.0.2"), "10.0.0.2");
    /* a trusted peer without the header: the peer */
    assert_string_equal(client(o, "10.0.0.2", NULL), "10.0.0.2");
    /* spaces around hops are trimmed */
    assert_string_equal(client(o, "10.0.0.1", "  203.0.113.5  "), "203.0.113.5");
}

static void test_client_star_trusts_every_peer(void **state) {
    http_origin_rules_t *o = rules(NULL, "*", NULL);
    assert_true(http_origin_trusted(o, "192.0.2.1"));
    /* every hop is trusted as well: the leftmost */
    assert_string_equal(client(o, "192.0.2.1", "198.51.100.9, 203.0.113.5"), "198.51.100.9");
    http_origin_rules_t *one = rules(NULL, "10.0.0.1", NULL);
    assert_true(http_origin_trusted(one, "10.0.0.1"));
    assert_false(http_origin_trusted(one, "10.0.0.10"));
    assert_false(http_origin_trusted(one, "10.0.0"));
}

static char *url(const http_origin_rules_t *o, const char *peer, const char *proto,
                 const char *host, const char *local) {
    return test_defer_free(http_origin_url(o, peer, proto, host, local, "/api/v1/x?limit=5"));
}

static void test_url_from_the_local_address(void **state) {
    http_origin_rules_t *o = rules(NULL, "10.0.0.1", NULL);
    /* untrusted peer: its forwarding headers are ignored */
    assert_string_equal(url(o, "192.0.2.7", "https", "evil.example", "127.0.0.1:8001"),
                        "http://127.0.0.1:8001/api/v1/x?limit=5");
    assert_string_equal(url(o, "192.0.2.7", NULL, NULL, ""), "http://127.0.0.1/api/v1/x?limit=5");
}

static void test_url_from_a_trusted_proxy(void **state) {
    http_origin_rules_t *o = rules(NULL, "10.0.0.1", NULL);
    assert_string_equal(url(o, "10.0.0.1", "https", "pizza.example", "10.0.0.5:8002"),
                        "https://pizza.example/api/v1/x?limit=5");
    /* only http and https are schemes */
    assert_string_equal(url(o, "10.0.0.1", "javascript", "pizza.example", "10.0.0.5:8002"),
                        "http://pizza.example/api/v1/x?limit=5");
    /* a host that is not a bare host[:port] falls back to the local address */
    assert_string_equal(url(o, "10.0.0.1", "https", "a.example/evil", "10.0.0.5:8002"),
                        "https://10.0.0.5:8002/api/v1/x?limit=5");
    assert_string_equal(url(o, "10.0.0.1", "https", "user@a.example", "10.0.0.5:8002"),
                        "https://10.0.0.5:8002/api/v1/x?limit=5");
    assert_string_equal(url(o, "10.0.0.1", "https", "", "10.0.0.5:8002"),
                        "https://10.0.0.5:8002/api/v1/x?limit=5");
}

static void test_url_from_public_url(void **state) {
    /* PUBLIC_URL wins over everything; its trailing slashes go */
    http_origin_rules_t *o = rules(NULL, "10.0.0.1", "https://tizza.example/base//");
    assert_string_equal(url(o, "10.0.0.1", "http", "other.example", "10.0.0.5:8002"),
                        "https://tizza.example/base/api/v1/x?limit=5");
    assert_string_equal(url(o, "192.0.2.7", NULL, NULL, "10.0.0.5:8002"),
                        "https://tizza.example/base/api/v1/x?limit=5");
}

static void test_cors(void **state) {
    bool cred = true;
    http_origin_rules_t *listed = rules("https://app.example, https://admin.example", NULL, NULL);
    assert_true(http_origin_cors_on(listed));
    assert_string_equal(http_origin_cors(listed, "https://admin.example", &cred),
                        "https://admin.example");
    assert_true(cred);
    assert_null(http_origin_cors(listed, "https://evil.example", &cred));
    assert_false(cred);
    cred = true;
    assert_null(http_origin_cors(listed, NULL, &cred));
    assert_false(cred);
    /* exact match only: no prefix, no other scheme */
    assert_null(http_origin_cors(listed, "https://app.example.evil", &cred));
    assert_null(http_origin_cors(listed, "http://app.example", &cred));

    http_origin_rules_t *star = rules("https://app.example,*", NULL, NULL);
    assert_string_equal(http_origin_cors(star, "https://app.example", &cred),
                        "https://app.example");
    assert_true(cred); /* a listed origin keeps its credentials next to "*" */
    assert_string_equal(http_origin_cors(star, "https://any.example", &cred), "*");
    assert_false(cred);                                 /* never credentials for "*" */
    assert_null(http_origin_cors(star, "null", &cred)); /* never "null" */

    http_origin_rules_t *listed_null = rules("null", NULL, NULL);
    assert_null(http_origin_cors(listed_null, "null", &cred)); /* not even when listed */

    http_origin_rules_t *off = rules(NULL, NULL, NULL);
    assert_false(http_origin_cors_on(off));
    assert_null(http_origin_cors(off, "https://app.example", &cred));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_client_untrusted_peer_ignores_xff, test_cleanup),
        cmocka_unit_test_teardown(test_client_walks_xff_past_trusted_hops, test_cleanup),
        cmocka_unit_test_teardown(test_client_star_trusts_every_peer, test_cleanup),
        cmocka_unit_test_teardown(test_url_from_the_local_address, test_cleanup),
        cmocka_unit_test_teardown(test_url_from_a_trusted_proxy, test_cleanup),
        cmocka_unit_test_teardown(test_url_from_public_url, test_cleanup),
        cmocka_unit_test_teardown(test_cors, test_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
