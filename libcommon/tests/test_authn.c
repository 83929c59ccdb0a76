/* Unit tests for authn.c, without a running server.
 *
 * The few http.h functions authn uses (http_header, http_cookie, http_add_header,
 * http_reply_problem) are defined here over a fake request, so the linker takes them from
 * this file and never needs http.o. JWKS fetching is tested against a tiny scripted HTTP
 * responder on a loopback socket. The deleted-user memory runs on an injected clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "authn.h"
#include "testlib.h"

/* Test hook in authn.c (not part of the public header). */
void authn_set_clock_for_test(int64_t (*fn)(void));

/* ---- fake http layer ---- */

struct http_req {
    const char *authorization; /* Authorization header or NULL */
    const char *cookie;        /* value of the tizza_access cookie or NULL */
    int status;                /* answered status, 0 while unanswered */
    int replies;
    char www_authenticate[64];
};

const char *http_header(const http_req_t *req, const char *name) {
    return strcasecmp(name, "Authorization") == 0 ? req->authorization : NULL;
}

const char *http_cookie(const http_req_t *req, const char *name) {
    return strcmp(name, "tizza_access") == 0 ? req->cookie : NULL;
}

void http_add_header(http_req_t *req, const char *name, const char *value) {
    if (strcasecmp(name, "WWW-Authenticate") == 0)
        snprintf(req->www_authenticate, sizeof req->www_authenticate, "%s", value);
}

void http_reply_problem(http_req_t *req, int status, const char *detail) {
    req->status = status;
    req->replies++;
}

/* ---- helpers ---- */

static token_key_t key_a, key_b;

/* A signed token; freed by the teardown. */
static char *make_token(const token_key_t *k, const char *sub, const char *role, int64_t exp_in,
                        const char *drop_claim) {
    int64_t now = (int64_t)time(NULL);
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "sub", sub);
    cJSON_AddStringToObject(c, "username", "alice");
    cJSON_AddStringToObject(c, "role", role);
    cJSON_AddNumberToObject(c, "iat", (double)now);
    cJSON_AddNumberToObject(c, "exp", (double)(now + exp_in));
    cJSON_AddStringToObject(c, "jti", "8d0f6c1e-jti");
    if (drop_claim) cJSON_DeleteItemFromObject(c, drop_claim);
    char *jwt = token_sign(k, c);
    cJSON_Delete(c);
    assert_non_null(jwt);
    return test_defer_free(jwt);
}

/* "<scheme> <jwt>"; freed by the teardown. */
static char *bearer(const char *scheme, const char *jwt) {
    size_t n = strlen(scheme) + strlen(jwt) + 4;
    char *h = malloc(n);
    assert_non_null(h);
    snprintf(h, n, "%s %s", scheme, jwt);
    return test_defer_free(h);
}

/* Runs authn_require; checks the 401 contract when it fails. */
static int require(const char *authorization, const char *cookie, authn_user_t *u) {
    http_req_t req = {authorization, cookie, 0, 0, ""};
    int rc = authn_require(&req, u);
    if (rc == 0) {
        assert_int_equal(req.replies, 0);
    } else {
        assert_int_equal(rc, -1);
        assert_int_equal(req.replies, 1);
        assert_int_equal(req.status, 401);
        assert_string_equal(req.www_authenticate, "Bearer");
    }
    return rc;
}

static int64_t fake_s = 1000000;
static int64_t fake_clock(void) { return fake_s; }

static int group_setup(void **state) {
    token_key_generate(&key_a);
    token_key_generate(&key_b);
    authn_set_clock_for_test(fake_clock);
    return 0;
}

static int group_teardown(void **state) {
    authn_set_clock_for_test(NULL);
    return 0;
}

static int use_key_a(void **state) {
    authn_set_keys(&key_a, 1);
    return 0;
}

/* ---- token extraction and claims ---- */

static void test_bearer_valid(void **state) {
    char *jwt = make_token(&key_a, "65a1b2c3d4e5f60718293a4b", "user", 900, NULL);
    const char *schemes[] = {"Bearer", "bearer", "BEARER", "bEaReR"};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        char *h = bearer(schemes[i], jwt);
        authn_user_t u;
        assert_int_equal(require(h, NULL, &u), 0);
        assert_string_equal(u.id, "65a1b2c3d4e5f60718293a4b");
        assert_string_equal(u.username, "alice");
        assert_string_equal(u.role, "user");
        assert_string_equal(u.jti, "8d0f6c1e-jti");
        assert_true(u.exp > (int64_t)time(NULL) + 800);
        assert_false(authn_is_admin(&u));
    }
    /* extra spaces around the token */
    char *h = bearer("Bearer  ", jwt);
    size_t n = strlen(h);
    char *padded = test_defer_free(malloc(n + 3));
    snprintf(padded, n + 3, "%s  ", h);
    authn_user_t u;
    assert_int_equal(require(padded, NULL, &u), 0);
}

static void test_cookie_valid_and_precedence(void **state) {
    char *good = make_token(&key_a, "u1", "admin", 900, NULL);
    char *bad = make_token(&key_b, "u2", "user", 900, NULL); /* unknown key */
    authn_user_t u;
    assert_int_equal(require(NULL, good, &u), 0);
    assert_string_equal(u.id, "u1");
    assert_true(authn_is_admin(&u));

    /* another scheme: the cookie is used */
    assert_int_equal(require("Basic YWxpY2U6cHc=", good, &u), 0);
    /* a bearer token wins over the cookie, even an invalid one */
    char *h = bearer("Bearer", bad);
    assert_int_equal(require(h, good, &u), -1);
    h = bearer("Bearer", good);
    assert_int_equal(require(h, bad, &u), 0);
    /* "Bearertoken" is not the Bearer scheme */
    char glued[4096];
    snprintf(glued, sizeof glued, "Bearer%s", good);
    assert_int_equal(require(glued, NULL, &u), -1);
}

static void test_require_refusals(void **state) {
    authn_user_t u;
    assert_int_equal(require(NULL, NULL, &u), -1);      /* nothing */
    assert_int_equal(require("Bearer", NULL, &u), -1);  /* no token */
    assert_int_equal(require("Bearer ", NULL, &u), -1); /* empty token */
    assert_int_equal(require("Bearer abc.def.ghi", NULL, &u), -1);
    assert_int_equal(require(NULL, "garbage", &u), -1);

    struct {
        const char *role;
        int64_t exp_in;
        const char *drop;
    } bad[] = {{"user", -1, NULL},   {"user", 900, "sub"},  {"user", 900, "username"},
               {"user", 900, "jti"}, {"user", 900, "role"}, {"root", 900, NULL},
               {"", 900, NULL},      {"user", 900, "exp"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *jwt = make_token(&key_a, "u1", bad[i].role, bad[i].exp_in, bad[i].drop);
        char *h = bearer("Bearer", jwt);
        memset(&u, 0x5a, sizeof u);
        if (require(h, NULL, &u) != -1) fail_msg("case %zu accepted", i);
        assert_string_equal(u.id, ""); /* nothing half-filled on failure */
    }

    /* sub that does not fit an id */
    char *jwt = make_token(&key_a, "0123456789012345678901234567890123456789", "user", 900, NULL);
    assert_int_equal(require(NULL, jwt, &u), -1);
}

static void test_optional(void **state) {
    authn_user_t u;
    http_req_t none = {NULL, NULL, 0, 0, ""};
    assert_int_equal(authn_optional(&none, &u), 1);
    assert_int_equal(none.replies, 0);

    http_req_t bad = {"Bearer x.y.z", NULL, 0, 0, ""};
    assert_int_equal(authn_optional(&bad, &u), -1);
    assert_int_equal(bad.replies, 1);
    assert_int_equal(bad.status, 401);
    assert_string_equal(bad.www_authenticate, "Bearer");

    char *jwt = make_token(&key_a, "u9", "user", 900, NULL);
    http_req_t good = {NULL, jwt, 0, 0, ""};
    assert_int_equal(authn_optional(&good, &u), 0);
    assert_int_equal(good.replies, 0);
    assert_string_equal(u.id, "u9");
}

static void test_key_rotation(void **state) {
    char *ta = make_token(&key_a, "u1", "user", 900, NULL);
    char *tb = make_token(&key_b, "u1", "user", 900, NULL);
    authn_user_t u;
    token_key_t both[2] = {key_a, key_b};
    authn_set_keys(both, 2);
    assert_int_equal(require(NULL, ta, &u), 0);
    assert_int_equal(require(NULL, tb, &u), 0);
    authn_set_keys(&key_b, 1);
    assert_int_equal(require(NULL, ta, &u), -1);
    assert_int_equal(require(NULL, tb, &u), 0);
    authn_set_keys(NULL, 0);
    assert_int_equal(require(NULL, tb, &u), -1);
}

static void test_keys_from_env(void **state) {
    char *xa = test_defer_free(b64url_encode(key_a.pk, sizeof key_a.pk));
    char *xb = test_defer_free(b64url_encode(key_b.pk, sizeof key_b.pk));
    char *ta = make_token(&key_a, "u1", "user", 900, NULL);
    char *tb = make_token(&key_b, "u1", "user", 900, NULL);
    char buf[256];
    authn_user_t u;

    unsetenv("AUTH_PUBLIC_KEY");
    assert_int_equal(authn_keys_from_env(), 0);
    setenv("AUTH_PUBLIC_KEY", "", 1);
    assert_int_equal(authn_keys_from_env(), 0);

    setenv("AUTH_PUBLIC_KEY", xb, 1);
    assert_int_equal(authn_keys_from_env(), 1);
    assert_int_equal(require(NULL, tb, &u), 0);
    assert_int_equal(require(NULL, ta, &u), -1);

    snprintf(buf, sizeof buf, "%s, %s", xa, xb);
    setenv("AUTH_PUBLIC_KEY", buf, 1);
    assert_int_equal(authn_keys_from_env(), 1);
    assert_int_equal(require(NULL, ta, &u), 0);
    assert_int_equal(require(NULL, tb, &u), 0);

    /* invalid values are refused and keep the current keys */
    const char *bad[] = {"not-a-key", ",", "AAAA"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("AUTH_PUBLIC_KEY", bad[i], 1);
        assert_int_equal(authn_keys_from_env(), -1);
    }
    snprintf(buf, sizeof buf, "%s,bogus", xa);
    setenv("AUTH_PUBLIC_KEY", buf, 1);
    assert_int_equal(authn_keys_from_env(), -1);
    assert_int_equal(require(NULL, tb, &u), 0);

    unsetenv("AUTH_PUBLIC_KEY");
}

/* ---- deleted users ---- */

static void test_deleted_user_refused(void **state) {
    char *t1 = make_token(&key_a, "dead0000000000000000beef", "user", 900, NULL);
    char *t2 = make_token(&key_a, "live0000000000000000beef", "user", 900, NULL);
    authn_user_t u;
    assert_false(authn_is_deleted("dead0000000000000000beef"));
    assert_int_equal(require(NULL, t1, &u), 0);
    authn_mark_deleted("dead0000000000000000beef");
    assert_true(authn_is_deleted("dead0000000000000000beef"));
    assert_false(authn_is_deleted("live0000000000000000beef"));
    assert_int_equal(require(NULL, t1, &u), -1);
    assert_int_equal(require(NULL, t2, &u), 0);
    authn_mark_deleted("dead0000000000000000beef"); /* twice is fine */
    assert_true(authn_is_deleted("dead0000000000000000beef"));

    /* still refused a full token lifetime later */
    fake_s += 16 * 60;
    assert_true(authn_is_deleted("dead0000000000000000beef"));
    assert_int_equal(require(NULL, t1, &u), -1);

    /* degenerate ids */
    authn_mark_deleted(NULL);
    authn_mark_deleted("");
    authn_mark_deleted("0123456789012345678901234567890123456789");
    assert_false(authn_is_deleted(NULL));
    assert_false(authn_is_deleted(""));
    assert_false(authn_is_deleted("0123456789012345678901234567890123456789"));
}

static void test_deleted_expired_entries_purged(void **state) {
    char id[32];
    fake_s += 3600;
    for (int i = 0; i < 2500; i++) {
        snprintf(id, sizeof id, "old-%d", i);
        authn_mark_deleted(id);
    }
    fake_s += 21 * 60; /* the old entries are past every token's lifetime */
    authn_mark_deleted("keeper");
    for (int i = 0; i < 600; i++) { /* crosses the load limit: the table is rebuilt */
        snprintf(id, sizeof id, "new-%d", i);
        authn_mark_deleted(id);
    }
    assert_true(authn_is_deleted("keeper"));
    for (int i = 0; i < 600; i++) {
        snprintf(id, sizeof id, "new-%d", i);
        assert_true(authn_is_deleted(id));
    }
    int remembered = 0;
    for (int i = 0; i < 2500; i++) {
        snprintf(id, sizeof id, "old-%d", i);
        remembered += authn_is_deleted(id);
    }
    assert_int_equal(remembered, 0);
}

static void test_deleted_storm_bounded(void **state) {
    /* far more deletions than the table holds, all within one second: memory stays bounded
     * (the oldest are forgotten) and the most recent are always remembered */
    char id[32];
    fake_s += 3600;
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "storm-%d", i);
        authn_mark_deleted(id);
        assert_true(authn_is_deleted(id));
    }
    for (int i = 19000; i < 20000; i++) {
        snprintf(id, sizeof id, "storm-%d", i);
        assert_true(authn_is_deleted(id));
    }
    int remembered = 0;
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "storm-%d", i);
        remembered += authn_is_deleted(id);
    }
    assert_true(remembered >= 1000);
    assert_true(remembered <= 4096);
    assert_false(authn_is_deleted("storm-0"));
}

/* ---- JWKS over HTTP ---- */

typedef struct {
    int fd;
    int port;
    const char *responses[4]; /* served in order; the last one repeats */
    int nresponses;
    int served;
    char first_line[256];
    _Atomic int stop;
    pthread_t thread;
} responder_t;

static void *respond(void *arg) {
    responder_t *r = arg;
    while (!r->stop) {
        struct pollfd p = {r->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int c = accept(r->fd, NULL, NULL);
        if (c < 0) continue;
        char req[4096];
        size_t got = 0;
        while (got < sizeof req - 1) {
            ssize_t n = read(c, req + got, sizeof req - 1 - got);
            if (n <= 0) break;
            got += (size_t)n;
            req[got] = '\0';
            if (strstr(req, "\r\n\r\n")) break;
        }
        req[got] = '\0';
        if (r->served == 0) sscanf(req, "%255[^\r\n]", r->first_line);
        int i = r->served < r->nresponses ? r->served : r->nresponses - 1;
        const char *resp = r->responses[i];
        ssize_t w = write(c, resp, strlen(resp));
        (void)w;
        r->served++;
        close(c);
    }
    return NULL;
}

static int listen_loopback(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0) close(fd);
        fail_msg("cannot listen on 127.0.0.1");
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static void responder_stop(void *p) {
    responder_t *r = p;
    r->stop = 1;
    pthread_join(r->thread, NULL);
    close(r->fd);
}

/* A responder on a loopback port serving the n responses (which must outlive it). The
 * teardown stops and frees it; test_release(r) stops it earlier, leaving it readable. */
static responder_t *responder_start(const char *const *responses, int n) {
    assert_true(n > 0 && (size_t)n <= sizeof((responder_t *)0)->responses / sizeof *responses);
    responder_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    test_defer_free(r);
    memcpy(r->responses, responses, (size_t)n * sizeof *responses);
    r->nresponses = n;
    r->fd = listen_loopback(&r->port);
    if (pthread_create(&r->thread, NULL, respond, r) != 0) {
        close(r->fd);
        fail_msg("pthread_create failed");
    }
    return test_defer(responder_stop, r);
}

/* Freed by the teardown. */
static char *ok_response(const char *body) {
    size_t n = strlen(body) + 256;
    char *r = test_defer_free(malloc(n));
    assert_non_null(r);
    snprintf(r, n,
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n%s",
             strlen(body), body);
    return r;
}

static const char *unavailable =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_fetch_jwks_retries_then_succeeds(void **state) {
    cJSON *jwks = test_defer_json(token_jwks(&key_b, 1));
    char *body = test_defer(cJSON_free, cJSON_PrintUnformatted(jwks));
    const char *script[] = {unavailable, unavailable, ok_response(body)};
    responder_t *r = responder_start(script, 3);

    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", r->port); /* trailing slash tolerated */
    assert_int_equal(authn_fetch_jwks(url, 10000), 0);
    test_release(r); /* stops it */

    assert_int_equal(r->served, 3);
    assert_string_equal(r->first_line, "GET /api/v1/auth/jwks HTTP/1.1");
    char *tb = make_token(&key_b, "u1", "user", 900, NULL);
    char *ta = make_token(&key_a, "u1", "user", 900, NULL);
    authn_user_t u;
    assert_int_equal(require(NULL, tb, &u), 0);
    assert_int_equal(require(NULL, ta, &u), -1);
}

static void test_fetch_jwks_gives_up(void **state) {
    char url[64];
    authn_user_t u;
    char *ta = make_token(&key_a, "u1", "user", 900, NULL);

    /* nobody listening */
    int port = 0;
    int fd = listen_loopback(&port);
    close(fd);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    int64_t t0 = wall_ms();
    assert_int_equal(authn_fetch_jwks(url, 400), -1);
    int64_t took = wall_ms() - t0;
    assert_true(took >= 350);
    assert_true(took < 5000);

    /* answers, but with no usable key */
    const char *script[] = {ok_response("{\"keys\":[]}")};
    responder_t *r = responder_start(script, 1);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", r->port);
    assert_int_equal(authn_fetch_jwks(url, 500), -1);
    test_release(r);             /* stops it */
    assert_true(r->served >= 2); /* it retried */

    assert_int_equal(authn_fetch_jwks(NULL, 100), -1);
    assert_int_equal(authn_fetch_jwks("", 100), -1);
    /* failures keep the keys in place */
    assert_int_equal(require(NULL, ta, &u), 0);
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, use_key_a, test_cleanup)
    const struct CMUnitTest tests[] = {
        T(test_bearer_valid),          T(test_cookie_valid_and_precedence),
        T(test_require_refusals),      T(test_optional),
        T(test_key_rotation),          T(test_keys_from_env),
        T(test_deleted_user_refused),  T(test_deleted_expired_entries_purged),
        T(test_deleted_storm_bounded), T(test_fetch_jwks_retries_then_succeeds),
        T(test_fetch_jwks_gives_up),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
