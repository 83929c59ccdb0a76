/* Unit tests for query.c: how a query string reads as key=value pairs, which numbers
 * ?limit= and ?offset= accept, and which id lists (?ids=) query_ids() reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "query.h"
#include "testlib.h"

/* The pairs as "k=v|k=v" */
static void collect(const char *key, const char *value, void *ctx) {
    char *out = ctx;
    if (*out) strcat(out, "|");
    strcat(out, key);
    strcat(out, "=");
    strcat(out, value);
}

/* query_parse(qs): its pairs as "k=v|k=v" in out, or "malformed". */
static const char *pairs(const char *qs, char out[256]) {
    out[0] = '\0';
    int n = query_parse(qs, collect, out);
    if (n < 0) {
        assert_string_equal(out, ""); /* nothing given */
        strcpy(out, "malformed");
    }
    return out;
}

static void test_pairs(void **state) {
    static const struct {
        const char *qs, *want;
    } cases[] = {
        {"", ""},
        {"a=1", "a=1"},
        {"a=1&b=2&a=3", "a=1|b=2|a=3"},
        {"a=", "a="},
        {"a=1&", "a=1"},
        {"a=b=c", "a=b=c"},
        {"limit=5&offset=10", "limit=5|offset=10"},
        /* the value is decoded, '+' as a space; the key is not */
        {"a+b=c+d", "a+b=c d"},
        {"%41=%41", "%41=A"},
        {"a=%2B%2b", "a=++"},
        {"a=%zz%4%", "a=%zz%4%"},
        {"a=x%00y", "a=x"},
        {"a=1;b=2", "a=1;b=2"},
        {"a=%C3%A9", "a=\xc3\xa9"},
        /* one bad pair: nothing at all */
        {"a", "malformed"},
        {"a&b=1", "malformed"},
        {"a=1&b", "malformed"},
        {"=1", "malformed"},
        {"a=1&=2", "malformed"},
        {"&", "malformed"},
        {"&a=1", "malformed"},
        {"a=1&&b=2", "malformed"},
        {"a=1&&", "malformed"},
    };
    char out[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pairs(cases[i].qs, out);
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("\"%s\": \"%s\", want \"%s\"", cases[i].qs, out, cases[i].want);
    }
    out[0] = '\0';
    assert_int_equal(query_parse("a=1&b=2&a=3", collect, out), 3);
    assert_int_equal(query_parse("", collect, out), 0);
    assert_int_equal(query_parse("a", collect, out), -1);
}

static void test_nonneg(void **state) {
    static const struct {
        const char *s;
        long want;
    } ok[] = {{"0", 0}, {"7", 7}, {"007", 7}, {"100", 100}, {"999999999", 999999999}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        long v = -5;
        assert_int_equal(query_nonneg(ok[i].s, &v), 0);
        assert_int_equal(v, ok[i].want);
    }
    static const char *bad[] = {
        "",    "-1",       "+1",         " 1",         "1 ",
        "1a",  "0x10",     "1e3",        "1.",         "1,2",
        "\t1", "\xd9\xa1", "1000000000", "0000000000", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long v = -5;
        if (query_nonneg(bad[i], &v) != -1) fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(v, -5);
    }
    long v = -5;
    assert_int_equal(query_nonneg(NULL, &v), -1);
    assert_int_equal(v, -5);
}

static void test_page(void **state) {
    long limit = 5, offset = 0;
    assert_int_equal(query_page(NULL, NULL, &limit, &offset), 0);
    assert_int_equal(limit, 5);
    assert_int_equal(offset, 0);
    assert_int_equal(query_page("1", "0", &limit, &offset), 0);
    assert_int_equal(limit, 1);
    assert_int_equal(offset, 0);
    assert_int_equal(query_page("100", "999999999", &limit, &offset), 0);
    assert_int_equal(limit, 100);
    assert_int_equal(offset, 999999999);

    limit = 5, offset = 0;
    assert_int_equal(query_page("0", NULL, &limit, &offset), QUERY_BAD_LIMIT);
    assert_int_equal(query_page("101", "3", &limit, &offset), QUERY_BAD_LIMIT);
    assert_int_equal(offset, 3);
    assert_int_equal(query_page("", NULL, &limit, &offset), QUERY_BAD_LIMIT);
    assert_int_equal(query_page(NULL, "-1", &limit, &offset), QUERY_BAD_OFFSET);
    assert_int_equal(query_page("-5", "1000000000", &limit, &offset),
                     QUERY_BAD_LIMIT | QUERY_BAD_OFFSET);
    /* a bad value leaves the output as it was */
    assert_int_equal(limit, 5);
    assert_int_equal(offset, 3);
}

#define A        "aaaaaaaaaaaaaaaaaaaaaaaa"
#define B        "0123456789abcdef01234567"
#define NOT_IDS  "must be a comma-separated list of 24-hex ids"
#define TOO_MANY "at most 100 ids"

/* query_ids(list) fails with `why` and leaves n at 0. */
static void ids_refused(const char *list, const char *why) {
    query_ids_t ids;
    const char *got = NULL;
    if (query_ids(list, &ids, &got) != -1) fail_msg("accepted \"%s\"", list ? list : "(null)");
    assert_int_equal(ids.n, 0);
    assert_non_null(got);
    if (strcmp(got, why) != 0) fail_msg("\"%s\": \"%s\", want \"%s\"", list, got, why);
}

/* A list of n ids, each A with its last digit i % 16 in hex (so repeats), then `tail`. */
static char *id_list(int n, const char *tail) {
    size_t cap = (size_t)n * (ID_LEN + 1) + strlen(tail) + 1, off = 0;
    char *s = test_defer_free(malloc(cap));
    assert_non_null(s);
    s[0] = '\0';
    for (int i = 0; i < n; i++)
        off += (size_t)snprintf(s + off, cap - off, "%s%.23s%x", i ? "," : "", A, i % 16);
    snprintf(s + off, cap - off, "%s", tail);
    return s;
}

static void test_ids(void **state) {
    query_ids_t ids;
    const char *why = NULL;
    assert_int_equal(query_ids(A, &ids, &why), 0);
    assert_int_equal(ids.n, 1);
    assert_string_equal(ids.id[0], A);
    /* order and repeats are kept */
    assert_int_equal(query_ids(B "," A "," B, &ids, &why), 0);
    assert_int_equal(ids.n, 3);
    assert_string_equal(ids.id[0], B);
    assert_string_equal(ids.id[1], A);
    assert_string_equal(ids.id[2], B);

    /* QUERY_IDS_MAX ids fit; one more is refused, whatever it holds */
    assert_int_equal(QUERY_IDS_MAX, 100);
    assert_int_equal(query_ids(id_list(QUERY_IDS_MAX, ""), &ids, &why), 0);
    assert_int_equal(ids.n, QUERY_IDS_MAX);
    assert_string_equal(ids.id[0], "aaaaaaaaaaaaaaaaaaaaaaa0");
    assert_string_equal(ids.id[QUERY_IDS_MAX - 1], "aaaaaaaaaaaaaaaaaaaaaaa3"); /* 99 % 16 */
    ids_refused(id_list(QUERY_IDS_MAX, "," A), TOO_MANY);
    ids_refused(id_list(QUERY_IDS_MAX, ",x"), TOO_MANY);
    ids_refused(id_list(QUERY_IDS_MAX, ","), TOO_MANY);
    ids_refused(id_list(QUERY_IDS_MAX - 1, ",x"), NOT_IDS);

    static const char *bad[] = {
        "",
        ",",
        A ",",
        "," A,
        A ",," B,
        A " ",
        " " A,
        A "0",
        "aaaaaaaaaaaaaaaaaaaaaaa",
        "AAAAAAAAAAAAAAAAAAAAAAAA",
        A ";" B,
        A "%2C" B,
        "gggggggggggggggggggggggg",
        A "\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) ids_refused(bad[i], NOT_IDS);
    ids_refused(NULL, NOT_IDS); /* no list is no list of ids */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_pairs, test_cleanup),
        cmocka_unit_test_teardown(test_nonneg, test_cleanup),
        cmocka_unit_test_teardown(test_page, test_cleanup),
        cmocka_unit_test_teardown(test_ids, test_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
