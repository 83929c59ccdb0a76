/* test_trace.c -- traceparent parsing and formatting, refusals, sampling decisions, the OTLP
 * JSON of a span and of an export, queue overflow counting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "metrics.h"
#include "testlib.h"
#include "trace.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char *const GOOD = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

static int cleanup(void **state) {
    trace_stop();
    metrics_reset();
    return test_cleanup(state);
}

/* Tracing on with `sampler`, nothing sent (no thread). */
static void start(trace_sampler_t sampler, double ratio, int queue_max) {
    trace_settings_t s = {.endpoint = "http://127.0.0.1:9",
                          .service = "unit",
                          .sampler = sampler,
                          .ratio = ratio,
                          .queue_max = queue_max,
                          .no_thread = true};
    trace_start(&s);
    assert_true(trace_enabled());
}

static void test_parse_and_format(void **state) {
    trace_ctx_t c;
    assert_true(trace_parse(GOOD, "congo=t61rcWkgMzE", &c));
    assert_true(c.sampled);
    assert_int_equal(c.trace_id[0], 0x4b);
    assert_int_equal(c.span_id[7], 0xb7);
    assert_string_equal(c.tracestate, "congo=t61rcWkgMzE");
    char out[TRACE_PARENT_LEN + 1], hex[33];
    trace_format(&c, out);
    assert_string_equal(out, GOOD);
    trace_id_hex(&c, hex);
    assert_string_equal(hex, "4bf92f3577b34da6a3ce929d0e0e4736");
    trace_span_id_hex(&c, hex);
    assert_string_equal(hex, "00f067aa0ba902b7");

    assert_true(trace_parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", NULL, &c));
    assert_false(c.sampled);
    assert_string_equal(c.tracestate, "");
    trace_format(&c, out);
    assert_string_equal(out + 53, "00");
    /* other flag bits do not make it sampled; only bit 0 counts */
    assert_true(trace_parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02", NULL, &c));
    assert_false(c.sampled);
    /* a later version may carry more fields after a '-' */
    assert_true(
        trace_parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", NULL, &c));
}

static void test_refusals(void **state) {
    const char *bad[] = {
        NULL,
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",   /* short flags */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011", /* v00 too long */
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",   /* short trace id */
        "00-4bf92f3577b34da6a3ce929d0e0e47366-0f067aa0ba902b7-01",  /* shifted dash */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  /* upper case */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",  /* not hex */
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  /* zero trace id */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  /* zero span id */
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  /* version ff */
        "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  /* version not hex */
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", /* later: no dash */
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  /* separator */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",  /* flags not hex */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        trace_ctx_t c;
        memset(&c, 0x5a, sizeof c);
        assert_false(trace_parse(bad[i], NULL, &c));
        assert_int_equal(c.trace_id[0], 0x5a); /* untouched */
    }
}

static void test_tracestate_bounds(void **state) {
    trace_ctx_t c;
    char *long_state = test_defer_free(malloc(TRACE_STATE_MAX + 2));
    memset(long_state, 'a', TRACE_STATE_MAX + 1);
    long_state[TRACE_STATE_MAX + 1] = '\0';
    assert_true(trace_parse(GOOD, long_state, &c));
    assert_string_equal(c.tracestate, ""); /* too long: dropped, the parent kept */
    long_state[TRACE_STATE_MAX] = '\0';
    assert_true(trace_parse(GOOD, long_state, &c));
    assert_int_equal(strlen(c.tracestate), TRACE_STATE_MAX);
    assert_true(trace_parse(GOOD, "a=b\r\nX-Evil: 1", &c));
    assert_string_equal(c.tracestate, "");
}

static void test_sampling(void **state) {
    uint8_t low[16] = {0}, high[16];
    memset(high, 0xff, sizeof high);
    low[15] = 1;
    trace_ctx_t yes = {.sampled = true}, no = {.sampled = false};
    assert_true(trace_should_sample(TRACE_ALWAYS_ON, 0, &no, low));
    assert_false(trace_should_sample(TRACE_ALWAYS_OFF, 1, &yes, low));
    /* ratio: the last 8 bytes >> 1 against ratio * 2^63 */
    assert_true(trace_should_sample(TRACE_RATIO, 0.5, NULL, low));
    assert_false(trace_should_sample(TRACE_RATIO, 0.5, NULL, high));
    assert_true(trace_should_sample(TRACE_RATIO, 1.0, NULL, high));
    assert_false(trace_should_sample(TRACE_RATIO, 0.0, NULL, low));
    assert_true(trace_should_sample(TRACE_RATIO, 0.5, &no, low)); /* ignores the parent */
    uint8_t mid[16] = {0};
    mid[8] = 0x80; /* x >> 1 == 2^62: kept at 0.51, not at 0.5 */
    assert_false(trace_should_sample(TRACE_RATIO, 0.5, NULL, mid));
    assert_true(trace_should_sample(TRACE_RATIO, 0.51, NULL, mid));
    /* parent based: the parent decides; roots by the root sampler */
    assert_true(trace_should_sample(TRACE_PARENT_RATIO, 0.0, &yes, high));
    assert_false(trace_should_sample(TRACE_PARENT_RATIO, 1.0, &no, low));
    assert_true(trace_should_sample(TRACE_PARENT_RATIO, 0.5, NULL, low));
    assert_false(trace_should_sample(TRACE_PARENT_RATIO, 0.5, NULL, high));
    assert_true(trace_should_sample(TRACE_PARENT_ALWAYS_ON, 0, NULL, high));
    assert_false(trace_should_sample(TRACE_PARENT_ALWAYS_ON, 0, &no, high));
    assert_false(trace_should_sample(TRACE_PARENT_ALWAYS_OFF, 0, NULL, low));
    assert_true(trace_should_sample(TRACE_PARENT_ALWAYS_OFF, 0, &yes, low));
}

static void test_off_is_null(void **state) {
    assert_false(trace_enabled());
    assert_null(trace_span_start(NULL, "x", TRACE_SERVER));
    trace_span_attr_str(NULL, "k", "v"); /* NULL accepted everywhere */
    trace_span_attr_int(NULL, "k", 1);
    trace_span_set_error(NULL);
    trace_span_end(NULL);
    trace_settings_t s = {.endpoint = "", .no_thread = true};
    trace_start(&s);
    assert_false(trace_enabled());
}

static void test_spans_and_children(void **state) {
    start(TRACE_PARENT_RATIO, 1.0, 0);
    trace_ctx_t parent;
    assert_true(trace_parse(GOOD, "k=v", &parent));
    trace_span_t *server = trace_span_start(&parent, "GET /api/v1/likes", TRACE_SERVER);
    assert_non_null(server);
    assert_memory_equal(server->ctx.trace_id, parent.trace_id, 16);
    assert_memory_equal(server->parent_id, parent.span_id, 8);
    assert_memory_not_equal(server->ctx.span_id, parent.span_id, 8);
    assert_true(server->ctx.sampled);
    assert_string_equal(server->ctx.tracestate, "k=v");
    trace_span_t *client = trace_span_start(&server->ctx, "GET", TRACE_CLIENT);
    assert_memory_equal(client->parent_id, server->ctx.span_id, 8);
    trace_span_end(client);
    trace_span_end(server);
    assert_int_equal(trace_queued(), 2);

    /* not sampled: context kept for propagation, nothing queued */
    parent.sampled = false;
    trace_span_t *quiet = trace_span_start(&parent, "GET /x", TRACE_SERVER);
    assert_false(quiet->ctx.sampled);
    trace_span_end(quiet);
    assert_int_equal(trace_queued(), 2);

    /* a root: new random trace id, no parent */
    trace_span_t *root = trace_span_start(NULL, "GET /y", TRACE_SERVER);
    assert_false(root->has_parent);
    assert_false(sodium_is_zero(root->ctx.trace_id, 16));
    assert_memory_not_equal(root->ctx.trace_id, parent.trace_id, 16);
    trace_span_free(root);
}

static cJSON *attr_value(const cJSON *span, const char *key) {
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItem(span, "attributes")) {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(a, "key")), key) == 0)
            return cJSON_GetObjectItem(a, "value");
    }
    return NULL;
}

static void test_span_json(void **state) {
    trace_span_t sp = {.kind = TRACE_SERVER, .has_parent = true};
    assert_true(trace_parse(GOOD, "a=1", &sp.ctx));
    memcpy(sp.parent_id, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    strcpy(sp.name, "GET /api/v1/likes");
    sp.start_ns = 1700000000123456789ull;
    sp.end_ns = 1700000000223456789ull;
    start(TRACE_ALWAYS_ON, 1, 0); /* attributes are only kept on sampled spans */
    sp.ctx.sampled = true;
    trace_span_attr_str(&sp, "http.route", "/api/v1/likes");
    trace_span_attr_int(&sp, "http.response.status_code", 503);
    trace_span_set_error(&sp);
    cJSON *j = test_defer_json(trace_span_json(&sp));
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "traceId")),
                        "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "spanId")), "00f067aa0ba902b7");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "parentSpanId")),
                        "0102030405060708");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "traceState")), "a=1");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "name")), "GET /api/v1/likes");
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "kind")), 2);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "startTimeUnixNano")),
                        "1700000000123456789");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "endTimeUnixNano")),
                        "1700000000223456789");
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(attr_value(j, "http.route"), "stringValue")),
        "/api/v1/likes");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
                            attr_value(j, "http.response.status_code"), "intValue")),
                        "503");
    assert_int_equal(
        cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "status"), "code")), 2);

    /* no parent: no parentSpanId; no error: an empty status */
    sp.has_parent = false;
    sp.error = false;
    cJSON *k = test_defer_json(trace_span_json(&sp));
    assert_null(cJSON_GetObjectItem(k, "parentSpanId"));
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(k, "status"), "code"));

    cJSON *doc = test_defer_json(trace_export_json("likes", &sp));
    cJSON *rs = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "resourceSpans"), 0);
    cJSON *res = cJSON_GetObjectItem(rs, "resource");
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(attr_value(res, "service.name"), "stringValue")),
        "likes");
    cJSON *ss = cJSON_GetArrayItem(cJSON_GetObjectItem(rs, "scopeSpans"), 0);
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(ss, "scope"), "name")),
        "tizza");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(ss, "spans")), 1);
}

static void test_attribute_limit(void **state) {
    start(TRACE_ALWAYS_ON, 1, 0);
    trace_span_t *sp = trace_span_start(NULL, "x", TRACE_INTERNAL);
    test_defer(free, sp);
    for (int i = 0; i < TRACE_ATTRS_MAX + 3; i++) trace_span_attr_int(sp, "n", i);
    assert_int_equal(sp->nattrs, TRACE_ATTRS_MAX);
}

static void test_queue_overflow_counted(void **state) {
    start(TRACE_ALWAYS_ON, 1, 3);
    for (int i = 0; i < 5; i++) trace_span_end(trace_span_start(NULL, "s", TRACE_INTERNAL));
    assert_int_equal(trace_queued(), 3);
    size_t len;
    char *text = test_defer_free(metrics_render(&len));
    assert_non_null(strstr(text, "tizza_trace_spans_dropped_total{reason=\"queue_full\"} 2"));
    trace_stop(); /* frees the queued ones */
    assert_int_equal(trace_queued(), 0);
    assert_false(trace_enabled());
}

int main(void) {
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_parse_and_format, cleanup),
        cmocka_unit_test_teardown(test_refusals, cleanup),
        cmocka_unit_test_teardown(test_tracestate_bounds, cleanup),
        cmocka_unit_test_teardown(test_sampling, cleanup),
        cmocka_unit_test_teardown(test_off_is_null, cleanup),
        cmocka_unit_test_teardown(test_spans_and_children, cleanup),
        cmocka_unit_test_teardown(test_span_json, cleanup),
        cmocka_unit_test_teardown(test_attribute_limit, cleanup),
        cmocka_unit_test_teardown(test_queue_overflow_counted, cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
