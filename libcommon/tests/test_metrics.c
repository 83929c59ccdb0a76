/* test_metrics.c -- Prometheus text rendering, histogram buckets, callbacks, concurrency. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "metrics.h"
#include "testlib.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int reset(void **state) {
    metrics_reset();
    return 0;
}

/* The rendered text; freed by the teardown. */
static char *render(void) {
    size_t len = 12345;
    char *s = test_defer_free(metrics_render(&len));
    assert_non_null(s);
    assert_int_equal(len, strlen(s));
    return s;
}

static void test_empty(void **state) {
    char *s = render();
    assert_string_equal(s, "");
}

static void test_counter_and_gauge(void **state) {
    const char *health = "route=\"/health\",method=\"GET\",status=\"200\"";
    metrics_help("tizza_http_requests_total", "counter", "HTTP requests by route and status.");
    metrics_inc("tizza_http_requests_total", health, 1);
    metrics_inc("tizza_http_requests_total", "route=\"/ready\",method=\"GET\",status=\"503\"", 1);
    metrics_inc("tizza_http_requests_total", health, 2);
    metrics_set("tizza_up", NULL, 1);
    metrics_inc("tizza_store_ops_total", "", 5);
    metrics_set("tizza_temperature", "room=\"a\"", 0.1);
    metrics_set("tizza_temperature", "room=\"a\"", -2.5); /* set replaces */
    metrics_inc("tizza_temperature", "room=\"b\"", 1e21);

    char *s = render();
    assert_string_equal(
        s, "# HELP tizza_http_requests_total HTTP requests by route and status.\n"
           "# TYPE tizza_http_requests_total counter\n"
           "tizza_http_requests_total{route=\"/health\",method=\"GET\",status=\"200\"} 3\n"
           "tizza_http_requests_total{route=\"/ready\",method=\"GET\",status=\"503\"} 1\n"
           "# TYPE tizza_up gauge\n"
           "tizza_up 1\n"
           "# TYPE tizza_store_ops_total counter\n"
           "tizza_store_ops_total 5\n"
           "# TYPE tizza_temperature gauge\n"
           "tizza_temperature{room=\"a\"} -2.5\n"
           "tizza_temperature{room=\"b\"} 1e+21\n");
}

static void test_histogram(void **state) {
    const char *l = "route=\"/health\",method=\"GET\"";
    const char *name = "tizza_http_request_duration_seconds";
    metrics_help(name, "histogram", "Request latency.");
    /* powers of two so the sum is exact: 2^-10 (<=0.001), 2^-8 (<=0.005), 0.125, 16 (+Inf) */
    metrics_observe(name, l, 0.0009765625);
    metrics_observe(name, l, 0.00390625);
    metrics_observe(name, l, 0.125);
    metrics_observe(name, l, 16);
    metrics_observe(name, l, NAN);               /* ignored */
    metrics_observe("plain_seconds", NULL, 0.1); /* exactly on a bound: le is inclusive */

    char *s = render();
    assert_string_equal(s, "# HELP tizza_http_request_duration_seconds Request latency.\n"
                           "# TYPE tizza_http_request_duration_seconds histogram\n"
                           "tizza_http_request_duration_seconds_bucket{route=\"/health\","
                           "method=\"GET\",le=\"0.001\"} 1\n"
                           "tizza_http_request_duration_seconds_bucket{route=\"/health\","
                           "method=\"GET\",le=\"0.0025\"} 1\n"
                           "tizza_http_request_duration_seconds_bucket{route=\"/health\","
                           "method=\"GET\",le=\"0.005\"} 2\n"
                           "tizza_http_request_duration_seconds_bucket{route=\"/health\","
                           "method=\"GET\",le=\"0.01\"} 2\n"
                           "tizza_http_request_duration_seconds_bucket{route=\"/health\","
                           "method=\"GET\",le=\"0.025\"} 2\n"
                           "tizza_http_request_duration_seconds_bucket{route=\"/health\","
                           "method=\"GET\",le=\"0.05\"} 2\n"
                           "tizza_http_request_duration_seconds_bucket{route=\"/health\","
                           "method=\"GET\",le=\"0.1\"} 2\n"
                           "tizza_http_request_duration_seconds_bucket{route=\"/health\","
                           "method=\"GET\",le=\"0.25\"} 3\n"
                           "tizza_http_request_duration_seconds_bucket{route=\"/health\","
                           "method=\"GET\",le=\"0.5\"} 3\n"
                           "tizza_http_request_duration_seconds_bucket{route=\"/health\","
                           "method=\"GET\",le=\"1\"} 3\n"
                           "tizza_http_request_duration_seconds_bucket{route=\"/health\","
                           "method=\"GET\",le=\"2.5\"} 3\n"
                           "tizza_http_request_duration_seconds_bucket{route=\"/health\","
                           "method=\"GET\",le=\"5\"} 3\n"
                           "tizza_http_request_duration_seconds_bucket{route=\"/health\","
                           "method=\"GET\",le=\"10\"} 3\n"
                           "tizza_http_request_duration_seconds_bucket{route=\"/health\","
                           "method=\"GET\",le=\"+Inf\"} 4\n"
                           "tizza_http_request_duration_seconds_sum{route=\"/health\","
                           "method=\"GET\"} 16.1298828125\n"
                           "tizza_http_request_duration_seconds_count{route=\"/health\","
                           "method=\"GET\"} 4\n"
                           "# TYPE plain_seconds histogram\n"
                           "plain_seconds_bucket{le=\"0.001\"} 0\n"
                           "plain_seconds_bucket{le=\"0.0025\"} 0\n"
                           "plain_seconds_bucket{le=\"0.005\"} 0\n"
                           "plain_seconds_bucket{le=\"0.01\"} 0\n"
                           "plain_seconds_bucket{le=\"0.025\"} 0\n"
                           "plain_seconds_bucket{le=\"0.05\"} 0\n"
                           "plain_seconds_bucket{le=\"0.1\"} 1\n"
                           "plain_seconds_bucket{le=\"0.25\"} 1\n"
                           "plain_seconds_bucket{le=\"0.5\"} 1\n"
                           "plain_seconds_bucket{le=\"1\"} 1\n"
                           "plain_seconds_bucket{le=\"2.5\"} 1\n"
                           "plain_seconds_bucket{le=\"5\"} 1\n"
                           "plain_seconds_bucket{le=\"10\"} 1\n"
                           "plain_seconds_bucket{le=\"+Inf\"} 1\n"
                           "plain_seconds_sum 0.1\n"
                           "plain_seconds_count 1\n");
}

static void test_help_escaping_and_order(void **state) {
    metrics_help("x_total", NULL, "line one\nback\\slash");
    metrics_help("x_total", NULL, "line one\nback\\slash (again)"); /* replaces */
    metrics_inc("x_total", "a=\"1\"", 1);
    metrics_help("idle", "gauge", "Declared, no samples yet.");
    char *s = render();
    assert_string_equal(s, "# HELP x_total line one\\nback\\\\slash (again)\n"
                           "# TYPE x_total counter\n"
                           "x_total{a=\"1\"} 1\n"
                           "# HELP idle Declared, no samples yet.\n"
                           "# TYPE idle gauge\n");
}

static double read_ctx(void *ctx) { return *(double *)ctx; }

/* Touches the registry from inside a callback: would deadlock if render held the mutex. */
static double reentrant(void *ctx) {
    metrics_inc("tizza_callback_calls_total", NULL, 1);
    return 7;
}

static void test_gauge_fn(void **state) {
    double backlog = 3;
    metrics_gauge_fn("tizza_outbox_backlog", NULL, read_ctx, &backlog);
    metrics_gauge_fn("tizza_reentrant", "k=\"v\"", reentrant, NULL);
    char *s = render();
    assert_string_equal(s, "# TYPE tizza_outbox_backlog gauge\n"
                           "tizza_outbox_backlog 3\n"
                           "# TYPE tizza_reentrant gauge\n"
                           "tizza_reentrant{k=\"v\"} 7\n"
                           "# TYPE tizza_callback_calls_total counter\n"
                           "tizza_callback_calls_total 1\n");
    backlog = 42.5; /* evaluated again at every render */
    s = render();
    assert_non_null(strstr(s, "\ntizza_outbox_backlog 42.5\n"));
    assert_non_null(strstr(s, "\ntizza_callback_calls_total 2\n"));
}

static void test_special_values(void **state) {
    metrics_set("v", "k=\"inf\"", INFINITY);
    metrics_set("v", "k=\"ninf\"", -INFINITY);
    metrics_set("v", "k=\"nan\"", NAN);
    metrics_set("v", "k=\"third\"", 1.0 / 3);
    char *s = render();
    assert_string_equal(s, "# TYPE v gauge\n"
                           "v{k=\"inf\"} +Inf\n"
                           "v{k=\"ninf\"} -Inf\n"
                           "v{k=\"nan\"} NaN\n"
                           "v{k=\"third\"} 0.33333333333333331\n");
}

static void test_reset(void **state) {
    metrics_inc("a_total", NULL, 1);
    metrics_reset();
    char *s = render();
    assert_string_equal(s, "");
    metrics_inc("a_total", NULL, 2); /* usable after a reset, starts from zero */
    s = render();
    assert_string_equal(s, "# TYPE a_total counter\na_total 2\n");
}

enum { THREADS = 4, PER_THREAD = 100000 };

static void *worker(void *arg) {
    for (int i = 0; i < PER_THREAD; i++) {
        metrics_inc("hits_total", "k=\"shared\"", 1);
        if (i % 10 == 0) metrics_observe("lat_seconds", NULL, 0.5);
        if (i % 1000 == 0)
            metrics_inc("hits_total", (intptr_t)arg % 2 ? "k=\"odd\"" : "k=\"even\"", 1);
    }
    return NULL;
}

static void *scraper(void *arg) {
    for (int i = 0; i < 50; i++) {
        char *s = metrics_render(NULL);
        free(s);
    }
    return NULL;
}

static void test_concurrent(void **state) {
    pthread_t *t[THREADS + 1];
    for (intptr_t i = 0; i < THREADS; i++) t[i] = test_thread(worker, (void *)i);
    t[THREADS] = test_thread(scraper, NULL);
    for (int i = 0; i <= THREADS; i++) test_release(t[i]); /* joins */
    char *s = render();
    assert_non_null(strstr(s, "\nhits_total{k=\"shared\"} 400000\n"));
    assert_non_null(strstr(s, "\nhits_total{k=\"even\"} 200\n"));
    assert_non_null(strstr(s, "\nhits_total{k=\"odd\"} 200\n"));
    assert_non_null(strstr(s, "\nlat_seconds_bucket{le=\"0.25\"} 0\n"));
    assert_non_null(strstr(s, "\nlat_seconds_bucket{le=\"0.5\"} 40000\n"));
    assert_non_null(strstr(s, "\nlat_seconds_bucket{le=\"+Inf\"} 40000\n"));
    assert_non_null(strstr(s, "\nlat_seconds_sum 20000\n"));
    assert_non_null(strstr(s, "\nlat_seconds_count 40000\n"));
}

int main(void) {
    alarm(120); /* a deadlock fails the suite instead of hanging it */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty, reset, test_cleanup),
        cmocka_unit_test_setup_teardown(test_counter_and_gauge, reset, test_cleanup),
        cmocka_unit_test_setup_teardown(test_histogram, reset, test_cleanup),
        cmocka_unit_test_setup_teardown(test_help_escaping_and_order, reset, test_cleanup),
        cmocka_unit_test_setup_teardown(test_gauge_fn, reset, test_cleanup),
        cmocka_unit_test_setup_teardown(test_special_values, reset, test_cleanup),
        cmocka_unit_test_setup_teardown(test_reset, reset, test_cleanup),
        cmocka_unit_test_setup_teardown(test_concurrent, reset, test_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
