/* test_util.c -- ids, clocks, ISO timestamps, string helpers and the UTF-8 validator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testlib.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool all_lower_hex(const char *s) {
    for (; *s; s++)
        if (!strchr("0123456789abcdef", *s)) return false;
    return true;
}

static void test_id_new_format_and_unique(void **state) {
    enum { N = 2000 };
    static char ids[N][ID_LEN + 1];
    for (int i = 0; i < N; i++) {
        memset(ids[i], 'x', sizeof ids[i]);
        id_new(ids[i]);
        assert_int_equal(strlen(ids[i]), ID_LEN);
        assert_true(all_lower_hex(ids[i]));
        assert_true(id_valid(ids[i]));
    }
    /* ObjectIds from one process are increasing in their counter; just check uniqueness. */
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) assert_string_not_equal(ids[i], ids[j]);
}

static void test_id_valid(void **state) {
    assert_true(id_valid("507f1f77bcf86cd799439011"));
    assert_true(id_valid("000000000000000000000000"));
    assert_false(id_valid(NULL));
    assert_false(id_valid(""));
    assert_false(id_valid("507f1f77bcf86cd79943901"));   /* 23 */
    assert_false(id_valid("507f1f77bcf86cd7994390111")); /* 25 */
    assert_false(id_valid("507F1F77BCF86CD799439011"));  /* uppercase rejected */
    assert_false(id_valid("507f1f77bcf86cd79943901g"));
    assert_false(id_valid("507f1f77bcf86cd79943901 "));
    assert_false(id_valid("../f1f77bcf86cd799439011"));
}

static void test_clocks(void **state) {
    int64_t before = (int64_t)time(NULL) * 1000;
    int64_t ms = now_ms();
    int64_t after = (int64_t)time(NULL) * 1000 + 1000;
    assert_true(ms >= before && ms <= after);

    uint64_t a = mono_ns();
    struct timespec ts = {0, 2000000}; /* 2 ms */
    nanosleep(&ts, NULL);
    uint64_t b = mono_ns();
    assert_true(b > a);
    assert_true(b - a >= 2000000u);
}

static void test_iso_time(void **state) {
    char out[32];
    iso_time(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    iso_time(1795593776123LL, out);
    assert_string_equal(out, "2026-11-25T08:02:56.123Z");
    iso_time(951868799999LL, out);
    assert_string_equal(out, "2000-02-29T23:59:59.999Z");
    iso_time(7, out);
    assert_string_equal(out, "1970-01-01T00:00:00.007Z");
    iso_time(-1, out);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
}

static void test_iso_now(void **state) {
    char a[32], lo[32], hi[32];
    int64_t t0 = now_ms();
    iso_now(a);
    int64_t t1 = now_ms();
    assert_int_equal(strlen(a), 24);
    assert_int_equal(a[10], 'T');
    assert_int_equal(a[19], '.');
    assert_int_equal(a[23], 'Z');
    /* Taken between t0 and t1, and string order is time order. */
    iso_time(t0, lo);
    iso_time(t1, hi);
    assert_true(strcmp(lo, a) <= 0);
    assert_true(strcmp(a, hi) <= 0);
    iso_time(1795593776123LL, lo);
    iso_time(1795593776124LL, hi);
    assert_true(strcmp(lo, hi) < 0);
}

static void test_str_copy(void **state) {
    char buf[6];
    assert_int_equal(str_copy(buf, "abc", sizeof buf), 3);
    assert_string_equal(buf, "abc");
    assert_int_equal(str_copy(buf, "abcdefgh", sizeof buf), 5);
    assert_string_equal(buf, "abcde");
    assert_int_equal(str_copy(buf, "", sizeof buf), 0);
    assert_string_equal(buf, "");
    buf[0] = 'z';
    assert_int_equal(str_copy(buf, "abc", 0), 0);
    assert_int_equal(buf[0], 'z'); /* size 0: nothing written */
    assert_int_equal(str_copy(buf, "abc", 1), 0);
    assert_string_equal(buf, "");
}

static void test_str_lower(void **state) {
    char *s = test_defer_free(str_lower("Hello_World-42.Ä"));
    assert_non_null(s);
    assert_string_equal(s, "hello_world-42.Ä"); /* ASCII only; UTF-8 bytes untouched */
    s = test_defer_free(str_lower(""));
    assert_string_equal(s, "");
    assert_null(test_defer_free(str_lower(NULL)));
}

#define U8(s) utf8_len(s, sizeof(s) - 1)

static void test_utf8_valid(void **state) {
    assert_int_equal(U8(""), 0);
    assert_int_equal(U8("abc"), 3);
    assert_int_equal(U8("caf\xc3\xa9"), 4);      /* é */
    assert_int_equal(U8("\xe2\x82\xac"), 1);     /* € */
    assert_int_equal(U8("\xf0\x9f\x8d\x95"), 1); /* 🍕 */
    assert_int_equal(U8("\xed\x9f\xbf"), 1);     /* U+D7FF, just below surrogates */
    assert_int_equal(U8("\xee\x80\x80"), 1);     /* U+E000, just above */
    assert_int_equal(U8("\xf4\x8f\xbf\xbf"), 1); /* U+10FFFF */
    assert_int_equal(U8("\xc2\x80"), 1);         /* U+0080, smallest 2-byte */
    assert_int_equal(U8("\xe0\xa0\x80"), 1);     /* U+0800, smallest 3-byte */
    assert_int_equal(U8("\xf0\x90\x80\x80"), 1); /* U+10000, smallest 4-byte */
    assert_int_equal(U8("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x8d\x95z"), 5);
    assert_int_equal(utf8_len("a\0b", 3), 3); /* NUL is U+0000 */
    assert_int_equal(utf8_len("abc", 2), 2);  /* only n bytes are read */
}

static void test_utf8_invalid(void **state) {
    assert_int_equal(U8("\x80"), -1); /* lone continuation */
    assert_int_equal(U8("a\xbf"), -1);
    assert_int_equal(U8("\xc0\xaf"), -1);         /* overlong '/' */
    assert_int_equal(U8("\xc1\xbf"), -1);         /* overlong */
    assert_int_equal(U8("\xe0\x80\xaf"), -1);     /* overlong 3-byte */
    assert_int_equal(U8("\xe0\x9f\xbf"), -1);     /* overlong U+07FF */
    assert_int_equal(U8("\xf0\x80\x80\xaf"), -1); /* overlong 4-byte */
    assert_int_equal(U8("\xf0\x8f\xbf\xbf"), -1); /* overlong U+FFFF */
    assert_int_equal(U8("\xed\xa0\x80"), -1);     /* U+D800 surrogate */
    assert_int_equal(U8("\xed\xbf\xbf"), -1);     /* U+DFFF surrogate */
    assert_int_equal(U8("\xf4\x90\x80\x80"), -1); /* U+110000 */
    assert_int_equal(U8("\xf5\x80\x80\x80"), -1);
    assert_int_equal(U8("\xff"), -1);
    assert_int_equal(U8("\xfe"), -1);
    assert_int_equal(U8("\xc3"), -1);         /* truncated 2-byte */
    assert_int_equal(U8("\xe2\x82"), -1);     /* truncated 3-byte */
    assert_int_equal(U8("\xf0\x9f\x8d"), -1); /* truncated 4-byte */
    assert_int_equal(U8("\xc3("), -1);        /* bad continuation */
    assert_int_equal(U8("\xe2\x28\xa1"), -1);
    assert_int_equal(U8("\xf0\x9f\x8d("), -1);
    assert_int_equal(utf8_len("\xe2\x82\xac", 2), -1); /* cut by n */
    assert_int_equal(U8("ok\xc3\xa9\x80"), -1);        /* valid prefix, then junk */
}

/* Always in [max/2, max], and spread over it (both halves of the range are reached). */
static void test_jitter_half(void **state) {
    (void)state;
    const long maxes[] = {0, 1, 2, 7, 1000, 16000};
    for (size_t m = 0; m < sizeof maxes / sizeof maxes[0]; m++) {
        long max = maxes[m], lo = max, hi = 0;
        for (int i = 0; i < 2000; i++) {
            long d = jitter_half(max);
            assert_true(d >= max / 2 && d <= max);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        if (max >= 2) assert_true(lo * 4 < max * 3 && hi * 4 > max * 3);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_new_format_and_unique),
        cmocka_unit_test(test_id_valid),
        cmocka_unit_test(test_clocks),
        cmocka_unit_test(test_iso_time),
        cmocka_unit_test(test_iso_now),
        cmocka_unit_test(test_str_copy),
        cmocka_unit_test_teardown(test_str_lower, test_cleanup),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_invalid),
        cmocka_unit_test(test_jitter_half),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
