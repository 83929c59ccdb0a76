/* Unit tests for ratelimit.c: token buckets on an injected clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <pthread.h>

#include "ratelimit.h"
#include "testlib.h"

/* Test hook in ratelimit.c (not part of the public header). */
void ratelimit_set_clock_for_test(uint64_t (*fn)(void));

#define SEC 1000000000ull

static uint64_t fake_now = 1000 * SEC;
static uint64_t fake_clock(void) { return fake_now; }

static int setup(void **state) {
    fake_now = 1000 * SEC;
    ratelimit_set_clock_for_test(fake_clock);
    return 0;
}

static int teardown(void **state) {
    test_cleanup(state);
    ratelimit_set_clock_for_test(NULL);
    return 0;
}

static void test_invalid_parameters(void **state) {
    assert_null(test_defer_ratelimit(ratelimit_new(0, 5)));
    assert_null(test_defer_ratelimit(ratelimit_new(-1, 5)));
    assert_null(test_defer_ratelimit(ratelimit_new(60, 0)));
    assert_null(test_defer_ratelimit(ratelimit_new(60, 0.5)));
    ratelimit_t *rl = test_defer_ratelimit(ratelimit_new(60, 1));
    assert_non_null(rl);
    test_release(rl); /* ratelimit_free() */
    ratelimit_free(NULL);
}

static void test_burst_then_refused(void **state) {
    ratelimit_t *rl = test_defer_ratelimit(ratelimit_new(60, 3)); /* 1 token/s */
    int retry = -1;
    for (int i = 0; i < 3; i++) assert_true(ratelimit_take(rl, "1.2.3.4", &retry));
    assert_int_equal(retry, -1); /* untouched when allowed */
    assert_false(ratelimit_take(rl, "1.2.3.4", &retry));
    assert_int_equal(retry, 1);
    assert_false(ratelimit_take(rl, "1.2.3.4", NULL)); /* NULL retry pointer is fine */
}

static void test_retry_after_slow_rate(void **state) {
    ratelimit_t *rl = test_defer_ratelimit(ratelimit_new(6, 2)); /* one token per 10 s */
    int retry = 0;
    assert_true(ratelimit_take(rl, "k", &retry));
    assert_true(ratelimit_take(rl, "k", &retry));
    assert_false(ratelimit_take(rl, "k", &retry));
    assert_int_equal(retry, 10);
    fake_now += 3 * SEC + SEC / 2; /* 0.35 token */
    assert_false(ratelimit_take(rl, "k", &retry));
    assert_int_equal(retry, 7);        /* ceil(6.5) */
    fake_now += 6 * SEC + SEC / 2 - 1; /* just short of a token */
    assert_false(ratelimit_take(rl, "k", &retry));
    assert_int_equal(retry, 1);
    fake_now += SEC / 100;
    assert_true(ratelimit_take(rl, "k", &retry));
}

static void test_refill_over_time(void **state) {
    ratelimit_t *rl = test_defer_ratelimit(ratelimit_new(60, 3));
    int retry = 0;
    for (int i = 0; i < 3; i++) assert_true(ratelimit_take(rl, "k", &retry));
    assert_false(ratelimit_take(rl, "k", &retry));

    fake_now += SEC; /* one token back */
    assert_true(ratelimit_take(rl, "k", &retry));
    assert_false(ratelimit_take(rl, "k", &retry));

    fake_now += SEC / 2; /* half a token: still refused, retry rounds up */
    assert_false(ratelimit_take(rl, "k", &retry));
    assert_int_equal(retry, 1);

    fake_now += 100 * SEC; /* long idle: capped at the burst, not 100 */
    for (int i = 0; i < 3; i++) assert_true(ratelimit_take(rl, "k", &retry));
    assert_false(ratelimit_take(rl, "k", &retry));

    /* a clock that does not move gives nothing back */
    for (int i = 0; i < 5; i++) assert_false(ratelimit_take(rl, "k", &retry));
}

static void test_refill_capped_at_burst(void **state) {
    /* An idle bucket never holds more than `burst`, even when it is not the oldest one (the
     * oldest, still refilling, keeps it from being forgotten and recreated). */
    ratelimit_t *rl = test_defer_ratelimit(ratelimit_new(60, 5));
    for (int i = 0; i < 5; i++) assert_true(ratelimit_take(rl, "older", NULL));
    fake_now += SEC / 10;
    assert_true(ratelimit_take(rl, "k", NULL)); /* 4 left */
    fake_now += 4 * SEC + 8 * SEC / 10;         /* "older" at 4.9, "k" would be 8.8 */
    for (int i = 0; i < 5; i++) assert_true(ratelimit_take(rl, "k", NULL));
    assert_false(ratelimit_take(rl, "k", NULL));
}

static void test_reset(void **state) {
    ratelimit_t *rl = test_defer_ratelimit(ratelimit_new(1, 2));
    assert_true(ratelimit_take(rl, "alice", NULL));
    assert_true(ratelimit_take(rl, "alice", NULL));
    assert_false(ratelimit_take(rl, "alice", NULL));
    ratelimit_reset(rl, "alice");
    assert_true(ratelimit_take(rl, "alice", NULL));
    assert_true(ratelimit_take(rl, "alice", NULL));
    assert_false(ratelimit_take(rl, "alice", NULL));
    ratelimit_reset(rl, "nobody"); /* unknown key: no effect */
    assert_false(ratelimit_take(rl, "alice", NULL));
}

static void test_independent_keys(void **state) {
    ratelimit_t *a = test_defer_ratelimit(ratelimit_new(1, 1));
    ratelimit_t *b = test_defer_ratelimit(ratelimit_new(1, 1));
    assert_true(ratelimit_take(a, "x", NULL));
    assert_false(ratelimit_take(a, "x", NULL));
    assert_true(ratelimit_take(a, "y", NULL)); /* another key */
    assert_true(ratelimit_take(a, "x2", NULL));
    assert_true(ratelimit_take(b, "x", NULL)); /* another limiter */
    assert_false(ratelimit_take(a, "y", NULL));
    assert_false(ratelimit_take(b, "x", NULL));
    ratelimit_reset(a, "y");
    assert_false(ratelimit_take(a, "x", NULL)); /* resetting y leaves x alone */
    assert_true(ratelimit_take(a, "y", NULL));
}

static void test_many_keys_survive_growth(void **state) {
    /* table growth must keep every bucket: each of 5000 drained keys stays refused */
    ratelimit_t *rl = test_defer_ratelimit(ratelimit_new(1, 1));
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
        assert_true(ratelimit_take(rl, key, NULL));
    }
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
        assert_false(ratelimit_take(rl, key, NULL));
    }
}

static void test_idle_buckets_forgotten(void **state) {
    /* after the refill time, an idle key behaves exactly like a new one */
    ratelimit_t *rl = test_defer_ratelimit(ratelimit_new(60, 2));
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_true(ratelimit_take(rl, key, NULL));
        assert_true(ratelimit_take(rl, key, NULL));
    }
    fake_now += 2 * SEC;
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_true(ratelimit_take(rl, key, NULL));
        assert_true(ratelimit_take(rl, key, NULL));
        assert_false(ratelimit_take(rl, key, NULL));
    }
}

static void test_sweep_keeps_drained_buckets(void **state) {
    /* the oldest bucket is swept only when full again: a drained one must survive churn */
    ratelimit_t *rl = test_defer_ratelimit(ratelimit_new(60, 1));
    char key[32];
    assert_true(ratelimit_take(rl, "victim", NULL));
    fake_now += SEC / 2;
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "other-%d", i);
        assert_true(ratelimit_take(rl, key, NULL));
    }
    assert_false(ratelimit_take(rl, "victim", NULL)); /* half a token: still refused */
    fake_now += SEC;
    assert_true(ratelimit_take(rl, "victim", NULL));
}

static void test_eviction_bound(void **state) {
    /* With the clock frozen nothing refills, so a key is refused again only while its bucket
     * is remembered. Past the cap (100k keys) the least recently used bucket is evicted. */
    const int cap = 100000;
    ratelimit_t *rl = test_defer_ratelimit(ratelimit_new(1, 1));
    char key[32];
    for (int i = 0; i <= cap; i++) { /* cap + 1 keys */
        snprintf(key, sizeof key, "key-%d", i);
        assert_true(ratelimit_take(rl, key, NULL));
    }
    assert_false(ratelimit_take(rl, "key-1", NULL)); /* still remembered */
    assert_false(ratelimit_take(rl, "key-100000", NULL));
    assert_true(ratelimit_take(rl, "key-0", NULL)); /* evicted: a fresh bucket */
    /* key-0 came back and evicted the then-oldest, key-2 (key-1 was used just above) */
    assert_false(ratelimit_take(rl, "key-1", NULL));
    assert_true(ratelimit_take(rl, "key-2", NULL));
}

typedef struct {
    ratelimit_t *rl;
    int allowed;
} worker_t;

static void *hammer(void *arg) {
    worker_t *w = arg;
    for (int i = 0; i < 2000; i++)
        if (ratelimit_take(w->rl, i % 2 ? "shared" : "other", NULL)) w->allowed++;
    return NULL;
}

static void test_threads_share_buckets(void **state) {
    ratelimit_t *rl = test_defer_ratelimit(ratelimit_new(1, 50));
    pthread_t th[4];
    worker_t w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker_t){rl, 0};
        pthread_create(&th[i], NULL, hammer, &w[i]);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        total += w[i].allowed;
    }
    assert_int_equal(total, 100); /* exactly the burst of each of the two keys */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_invalid_parameters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_burst_then_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_slow_rate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refill_over_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refill_capped_at_burst, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_independent_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_keys_survive_growth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_buckets_forgotten, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_keeps_drained_buckets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eviction_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_share_buckets, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
