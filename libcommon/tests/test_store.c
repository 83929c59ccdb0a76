/* test_store -- the one conformance suite for both document-store backends (store.h).
 *
 * Runs against STORE_URL (default: a fresh SQLite file in test_tmpdir(), see testlib.h),
 * database STORE_DB (default "tizza_test"). tests/store-conformance.sh runs it on SQLite,
 * on the MongoDB test double (tests/mongo_double.py) and, when MONGODB_TEST_URL is set, on
 * a real MongoDB. Every test works in collections of its own (a name plus a fresh
 * ObjectId), so the suite can run again and again against the same server. Two tests are
 * about SQLite URLs (":memory:", directory creation) and are skipped on MongoDB.
 *
 * cmocka assertions must stay on the main thread: worker threads record what went wrong
 * in their struct and the main thread asserts on it. What a test opens is registered for
 * its teardown (testlib.h), so that a failed assertion leaks nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "store_internal.h" /* store_fail(), as a backend reports */
#include "testlib.h"
#include "util.h"

static store_t *S;
static char url[1024];
static const char *dbname; /* STORE_DB or "tizza_test" */

#define OK(expr) RC(STORE_OK, expr)
#define RC(want, expr)                                                                             \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != (want)) fail_msg("%s -> %d, want %d (%s)", #expr, rc_, (want), store_errmsg()); \
    } while (0)

static bool on_sqlite(void) { return !strcmp(store_backend(S), "sqlite"); }

/* A collection name nobody used before: base_<ObjectId>. */
static void fresh(char out[64], const char *base) {
    char id[ID_LEN + 1];
    id_new(id);
    snprintf(out, 64, "%s_%s", base, id);
}

/* The object of json (NULL: {}) with "id": id; the caller's to free. Any thread. */
static cJSON *new_doc(const char *id, const char *json) {
    cJSON *d = cJSON_Parse(json ? json : "{}");
    if (d) cJSON_AddStringToObject(d, "id", id);
    return d;
}

/* text parsed; freed by the teardown. */
static cJSON *parse(const char *text) {
    cJSON *j = test_defer_json(cJSON_Parse(text));
    assert_non_null(j);
    return j;
}

/* new_doc(), freed by the teardown. */
static cJSON *doc(const char *id, const char *json) {
    cJSON *d = test_defer_json(new_doc(id, json));
    assert_non_null(d);
    return d;
}

static void put(const char *coll, const char *id, const char *json) {
    cJSON *d = new_doc(id, json);
    assert_non_null(d);
    int rc = store_insert(S, coll, d);
    cJSON_Delete(d);
    OK(rc);
}

/* The document; freed by the teardown. */
static cJSON *get(const char *coll, const char *id) {
    cJSON *d = NULL;
    int rc = store_get(S, coll, id, &d);
    test_defer_json(d);
    OK(rc);
    assert_non_null(d);
    return d;
}

static double num(const cJSON *d, const char *field) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, field);
    if (!cJSON_IsNumber(v)) fail_msg("field %s is not a number", field);
    return v->valuedouble;
}

static const char *str(const cJSON *d, const char *field) {
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, field));
    if (!s) fail_msg("field %s is not a string", field);
    return s;
}

/* Asserts the ids of the documents of arr, in order, joined by ','. Frees arr. */
static void expect_ids(cJSON *arr, const char *want) {
    test_defer_json(arr);
    char got[2048] = "";
    size_t len = 0;
    const cJSON *d;
    assert_true(cJSON_IsArray(arr));
    cJSON_ArrayForEach(d, arr) {
        len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", len ? "," : "", str(d, "id"));
        assert_true(len < sizeof got);
    }
    test_release(arr);
    assert_string_equal(got, want);
}

/* store_find(coll, f, sort, limit, offset) must return exactly the ids `want`. Frees f. */
static void find_ids(const char *coll, store_filter_t *f, const char *sort, long limit, long offset,
                     const char *want) {
    cJSON *out = NULL;
    int rc = store_find(S, coll, f, sort, limit, offset, &out);
    store_filter_free(f);
    if (rc != STORE_OK) fail_msg("find -> %d (%s)", rc, store_errmsg());
    expect_ids(out, want);
}

static store_filter_t *w_str(const char *field, enum store_op op, const char *v) {
    store_filter_t *f = store_filter_new();
    assert_non_null(f);
    store_where_str(f, field, op, v);
    return f;
}

static store_filter_t *w_num(const char *field, enum store_op op, double v) {
    store_filter_t *f = store_filter_new();
    assert_non_null(f);
    store_where_num(f, field, op, v);
    return f;
}

static store_filter_t *w_json(const char *field, enum store_op op, const char *json) {
    cJSON *v = cJSON_Parse(json);
    assert_non_null(v);
    store_filter_t *f = store_filter_new();
    assert_non_null(f);
    store_where(f, field, op, v);
    return f;
}

static long count(const char *coll, store_filter_t *f) {
    long n = -1;
    int rc = store_count(S, coll, f, &n);
    store_filter_free(f);
    OK(rc);
    return n;
}

/* ---- open, insert, get ------------------------------------------------------------- */

static void test_open_ping(void **state) {
    char err[256] = "";
    OK(store_ping(S));
    assert_string_equal(store_backend(S), strncmp(url, "sqlite://", 9) ? "mongodb" : "sqlite");
    assert_null(test_defer_store(store_open("redis://localhost/", "x", err, sizeof err)));
    assert_true(err[0] != '\0');
    err[0] = '\0';
    assert_null(test_defer_store(store_open(url, "bad/name", err, sizeof err)));
    assert_true(err[0] != '\0');
    assert_null(test_defer_store(store_open("sqlite://", "x", err, sizeof err)));
}

static void test_insert_get(void **state) {
    char c[64];
    fresh(c, "docs");
    cJSON *d = doc("a1", "{\"name\":\"Margherita\",\"price\":7.5,\"count\":3,\"veg\":true,"
                         "\"hot\":false,\"note\":null,\"tags\":[\"x\",1,true,null],"
                         "\"owner\":{\"id\":\"u1\",\"n\":2,\"deep\":{\"k\":[]}}}");
    OK(store_insert(S, c, d));
    /* The store keeps a copy: changing ours afterwards changes nothing. */
    cJSON_ReplaceItemInObjectCaseSensitive(d, "name", cJSON_CreateString("changed"));
    cJSON *got = get(c, "a1");
    assert_string_equal(str(got, "name"), "Margherita");
    cJSON_ReplaceItemInObjectCaseSensitive(d, "name", cJSON_CreateString("Margherita"));
    assert_true(cJSON_Compare(d, got, true));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(got, "veg")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(got, "hot")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(got, "note")));
    /* A nested "id" is an ordinary field, never the key. */
    assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(got, "owner"), "id"), "u1");
    assert_null(cJSON_GetObjectItemCaseSensitive(got, "_id"));
}

static void test_get_missing(void **state) {
    char c[64];
    cJSON *out = (cJSON *)&out;
    fresh(c, "missing");
    RC(STORE_NOTFOUND, store_get(S, c, "nope", &out)); /* collection never created */
    assert_null(out);
    put(c, "here", NULL);
    out = (cJSON *)&out;
    RC(STORE_NOTFOUND, store_get(S, c, "nope", &out));
    assert_null(out);
    RC(STORE_NOTFOUND, store_get(S, c, "HERE", &out)); /* ids are case-sensitive */
}

static void test_duplicate_id(void **state) {
    char c[64];
    fresh(c, "dup");
    put(c, "a1", "{\"v\":1}");
    cJSON *d = doc("a1", "{\"v\":2}");
    RC(STORE_CONFLICT, store_insert(S, c, d));
    assert_true(store_errmsg()[0] != '\0');
    cJSON *got = get(c, "a1");
    assert_int_equal((int)num(got, "v"), 1);
    assert_int_equal(count(c, NULL), 1);
}

/* MongoDB: the database named in the URL wins over store_open()'s dbname. */
static void test_mongo_database(void **state) {
    if (on_sqlite()) skip();
    const char *q = strstr(url, "/?");
    if (!q) skip(); /* the URL already names a database */
    char named[1200], coll[64], err[256], db[64];
    cJSON *d = NULL;
    fresh(db, "tizza_alt");
    snprintf(named, sizeof named, "%.*s/%s%s", (int)(q - url), url, db, q + 1);
    fresh(coll, "dbname");
    store_t *a = test_defer_store(store_open(named, "ignored", err, sizeof err));
    if (!a) fail_msg("open %s: %s", named, err);
    OK(store_insert(a, coll, doc("k", NULL)));
    RC(STORE_NOTFOUND, store_get(S, coll, "k", &d)); /* not in the default database */
    /* no name in the URL: dbname */
    store_t *b = test_defer_store(store_open(url, db, err, sizeof err));
    assert_non_null(b);
    OK(store_get(b, coll, "k", &d));
    cJSON_Delete(d);
}

/* ---- unique indexes ---------------------------------------------------------------- */

static void test_unique_single(void **state) {
    char c[64];
    fresh(c, "users");
    OK(store_ensure_collection(S, c));
    OK(store_ensure_collection(S, c)); /* idempotent */
    OK(store_ensure_index(S, c, "email", true));
    OK(store_ensure_index(S, c, "email", true));
    OK(store_ensure_index(S, c, "name", false));
    OK(store_ensure_index(S, c, "name", false));
    OK(store_ensure_index(S, c, "id", true)); /* the key: nothing to do */
    put(c, "u1", "{\"email\":\"a@x\",\"name\":\"Ann\"}");
    cJSON *d = doc("u2", "{\"email\":\"a@x\",\"name\":\"Bob\"}");
    RC(STORE_CONFLICT, store_insert(S, c, d));
    put(c, "u3", "{\"email\":\"b@x\",\"name\":\"Ann\"}"); /* non-unique index: fine */
    put(c, "u4", "{\"email\":\"A@x\"}");                  /* case-sensitive */
    put(c, "u5", "{\"name\":\"no email\"}");              /* missing fields never collide */
    put(c, "u6", "{\"name\":\"no email either\"}");
    assert_int_equal(count(c, NULL), 5);
    RC(STORE_NOTFOUND, store_get(S, c, "u2", &d));
    /* a unique index over data that already has duplicates is refused */
    RC(STORE_CONFLICT, store_ensure_index(S, c, "name", true));
    put(c, "u7", "{\"name\":\"Ann\"}");
}

static void test_unique_compound(void **state) {
    char c[64];
    fresh(c, "likes");
    OK(store_ensure_collection(S, c));
    OK(store_ensure_index(S, c, "user,pizza", true));
    OK(store_ensure_index(S, c, "user,pizza", true));
    OK(store_ensure_index(S, c, "pizza", false));
    put(c, "l1", "{\"user\":\"u1\",\"pizza\":\"p1\"}");
    put(c, "l2", "{\"user\":\"u1\",\"pizza\":\"p2\"}");
    put(c, "l3", "{\"user\":\"u2\",\"pizza\":\"p1\"}");
    cJSON *d = doc("l4", "{\"user\":\"u1\",\"pizza\":\"p1\",\"other\":1}");
    RC(STORE_CONFLICT, store_insert(S, c, d));
    put(c, "l5", "{\"user\":\"u1\"}"); /* part of the key missing: no collision */
    put(c, "l6", "{\"user\":\"u1\"}");
    assert_int_equal(count(c, NULL), 5);
    RC(STORE_ERR, store_ensure_index(S, c, "", false));
    RC(STORE_ERR, store_ensure_index(S, c, "a,,b", false));
    RC(STORE_ERR, store_ensure_index(S, c, "a.b", false));
}

static void test_unique_update_conflict(void **state) {
    char c[64];
    long matched = -1;
    fresh(c, "uupd");
    OK(store_ensure_collection(S, c));
    OK(store_ensure_index(S, c, "email", true));
    put(c, "u1", "{\"email\":\"a@x\"}");
    put(c, "u2", "{\"email\":\"b@x\"}");
    cJSON *set = parse("{\"email\":\"a@x\",\"name\":\"B\"}");
    store_filter_t *f = test_defer_filter(w_str("id", STORE_EQ, "u2"));
    RC(STORE_CONFLICT, store_update(S, c, f, set, NULL, &matched));
    cJSON *got = get(c, "u2");
    assert_string_equal(str(got, "email"), "b@x"); /* nothing changed */
    assert_null(cJSON_GetObjectItemCaseSensitive(got, "name"));
    set = parse("{\"email\":\"c@x\"}");
    OK(store_update(S, c, f, set, NULL, &matched));
    assert_int_equal(matched, 1);
    got = get(c, "u2");
    assert_string_equal(str(got, "email"), "c@x");
}

/* ---- filters ----------------------------------------------------------------------- */

static void test_find_eq_ne(void **state) {
    char c[64];
    fresh(c, "eq");
    put(c, "k1", "{\"kind\":\"a\"}");
    put(c, "k2", "{\"kind\":\"b\"}");
    put(c, "k3", "{}");
    put(c, "k4", "{\"kind\":\"a\"}");
    put(c, "k5", "{\"kind\":1}");
    find_ids(c, w_str("kind", STORE_EQ, "a"), NULL, 0, 0, "k1,k4");
    find_ids(c, w_str("kind", STORE_NE, "a"), NULL, 0, 0, "k2,k3,k5"); /* missing matches NE */
    find_ids(c, w_str("kind", STORE_EQ, "A"), NULL, 0, 0, "");
    find_ids(c, w_str("id", STORE_EQ, "k3"), NULL, 0, 0, "k3");
    find_ids(c, w_str("id", STORE_NE, "k3"), NULL, 0, 0, "k1,k2,k4,k5");
    find_ids(c, w_str("nothing", STORE_EQ, "a"), NULL, 0, 0, ""); /* missing never equals */
    store_filter_t *f = w_str("kind", STORE_EQ, "a");
    store_where_str(f, "id", STORE_NE, "k1");
    find_ids(c, f, NULL, 0, 0, "k4");
    find_ids(c, NULL, NULL, 0, 0, "k1,k2,k3,k4,k5");
    find_ids(c, store_filter_new(), NULL, 0, 0, "k1,k2,k3,k4,k5"); /* empty = everything */
}

static void test_find_prefix(void **state) {
    char c[64];
    fresh(c, "prefix");
    const char *names[] = {"abc", "abd", "Abc", "a%c",    "a_c", "axc",
                           "ab",  "b",   "a.c", "(x)[y]", "a\\b"};
    char id[16];
    for (int i = 0; i < 11; i++) {
        cJSON *d = cJSON_CreateObject();
        snprintf(id, sizeof id, "p%02d", i);
        cJSON_AddStringToObject(d, "id", id);
        cJSON_AddStringToObject(d, "name", names[i]);
        int rc = store_insert(S, c, d);
        cJSON_Delete(d);
        OK(rc);
    }
    put(c, "p99", "{\"name\":5}");
    find_ids(c, w_str("name", STORE_PREFIX, "ab"), NULL, 0, 0, "p00,p01,p06");
    find_ids(c, w_str("name", STORE_PREFIX, "a%"), NULL, 0, 0, "p03");
    find_ids(c, w_str("name", STORE_PREFIX, "a_"), NULL, 0, 0, "p04");
    find_ids(c, w_str("name", STORE_PREFIX, "a."), NULL, 0, 0, "p08");
    find_ids(c, w_str("name", STORE_PREFIX, "(x)["), NULL, 0, 0, "p09");
    find_ids(c, w_str("name", STORE_PREFIX, "a\\"), NULL, 0, 0, "p10");
    find_ids(c, w_str("name", STORE_PREFIX, "A"), NULL, 0, 0, "p02");
    find_ids(c, w_str("name", STORE_PREFIX, "abcd"), NULL, 0, 0, "");
    find_ids(c, w_str("name", STORE_PREFIX, ""), NULL, 0, 0,
             "p00,p01,p02,p03,p04,p05,p06,p07,p08,p09,p10"); /* strings only */
    find_ids(c, w_str("id", STORE_PREFIX, "p0"), NULL, 0, 0,
             "p00,p01,p02,p03,p04,p05,p06,p07,p08,p09");
    find_ids(c, w_str("id", STORE_PREFIX, "p99"), NULL, 0, 0, "p99");
    /* contains: anywhere, literally, case-sensitive, strings only */
    find_ids(c, w_str("name", STORE_CONTAINS, "bc"), NULL, 0, 0, "p00,p02");
    find_ids(c, w_str("name", STORE_CONTAINS, "%"), NULL, 0, 0, "p03");
    find_ids(c, w_str("name", STORE_CONTAINS, "_c"), NULL, 0, 0, "p04");
    find_ids(c, w_str("name", STORE_CONTAINS, ".c"), NULL, 0, 0, "p08");
    find_ids(c, w_str("name", STORE_CONTAINS, ")[y"), NULL, 0, 0, "p09");
    find_ids(c, w_str("name", STORE_CONTAINS, "\\b"), NULL, 0, 0, "p10");
    find_ids(c, w_str("name", STORE_CONTAINS, "5"), NULL, 0, 0, "");
    find_ids(c, w_str("name", STORE_CONTAINS, "C"), NULL, 0, 0, "");
}

static void test_find_in_nin(void **state) {
    char c[64];
    fresh(c, "in");
    put(c, "i1", "{\"color\":\"red\",\"n\":1}");
    put(c, "i2", "{\"color\":\"green\",\"n\":2}");
    put(c, "i3", "{\"color\":\"blue\",\"n\":3}");
    put(c, "i4", "{\"n\":\"2\"}");
    put(c, "i5", "{\"color\":\"red\",\"n\":true}");
    const char *rb[] = {"red", "blue"};
    store_filter_t *f = store_filter_new();
    store_where_in(f, "color", STORE_IN, rb, 2);
    find_ids(c, f, NULL, 0, 0, "i1,i3,i5");
    f = store_filter_new();
    store_where_in(f, "color", STORE_NIN, rb, 2);
    find_ids(c, f, NULL, 0, 0, "i2,i4"); /* missing matches NIN */
    f = store_filter_new();
    store_where_in(f, "color", STORE_IN, NULL, 0);
    find_ids(c, f, NULL, 0, 0, "");
    f = store_filter_new();
    store_where_in(f, "color", STORE_NIN, NULL, 0);
    find_ids(c, f, NULL, 0, 0, "i1,i2,i3,i4,i5");
    const char *ids[] = {"i4", "i2", "zz"};
    f = store_filter_new();
    store_where_in(f, "id", STORE_IN, ids, 3);
    find_ids(c, f, NULL, 0, 0, "i2,i4");
    f = store_filter_new();
    store_where_in(f, "id", STORE_NIN, ids, 3);
    find_ids(c, f, NULL, 0, 0, "i1,i3,i5");
    /* Typed: numbers match numbers only (not "2", not true). */
    find_ids(c, w_json("n", STORE_IN, "[1,2]"), NULL, 0, 0, "i1,i2");
    find_ids(c, w_json("n", STORE_IN, "[\"2\",true]"), NULL, 0, 0, "i4,i5");
    find_ids(c, w_json("n", STORE_NIN, "[1,\"2\"]"), NULL, 0, 0, "i2,i3,i5");
}

static void test_find_ranges(void **state) {
    char c[64];
    fresh(c, "range");
    put(c, "r1", "{\"n\":1,\"at\":\"2026-01-01T00:00:00.000Z\"}");
    put(c, "r2", "{\"n\":2,\"at\":\"2026-01-02T00:00:00.000Z\"}");
    put(c, "r3", "{\"n\":3,\"at\":\"2026-01-03T00:00:00.000Z\"}");
    put(c, "r4", "{\"n\":4}");
    put(c, "r5", "{\"n\":5}");
    put(c, "r6", "{\"n\":\"3\"}");
    put(c, "r7", "{\"n\":true}");
    put(c, "r8", "{}");
    put(c, "r9", "{\"n\":2.5}");
    put(c, "rm", "{\"n\":-7}");
    find_ids(c, w_num("n", STORE_LT, 3), NULL, 0, 0, "r1,r2,r9,rm");
    find_ids(c, w_num("n", STORE_LTE, 3), NULL, 0, 0, "r1,r2,r3,r9,rm");
    find_ids(c, w_num("n", STORE_GT, 3), NULL, 0, 0, "r4,r5");
    find_ids(c, w_num("n", STORE_GTE, 3), NULL, 0, 0, "r3,r4,r5");
    store_filter_t *f = w_num("n", STORE_GT, 1);
    store_where_num(f, "n", STORE_LT, 5);
    find_ids(c, f, NULL, 0, 0, "r2,r3,r4,r9");
    find_ids(c, w_str("n", STORE_GTE, "3"), NULL, 0, 0, "r6"); /* strings only */
    find_ids(c, w_str("at", STORE_GTE, "2026-01-02"), NULL, 0, 0, "r2,r3");
    find_ids(c, w_str("at", STORE_LT, "2026-01-02T00:00:00.000Z"), NULL, 0, 0, "r1");
    find_ids(c, w_str("id", STORE_GT, "r7"), NULL, 0, 0, "r8,r9,rm");
}

static void test_bool_number_eq(void **state) {
    char c[64];
    fresh(c, "types");
    put(c, "n1", "{\"v\":1}");
    put(c, "nf", "{\"v\":false}");
    put(c, "nm", "{}");
    put(c, "nn", "{\"v\":null}");
    put(c, "ns", "{\"v\":\"1\"}");
    put(c, "nt", "{\"v\":true}");
    put(c, "nz", "{\"v\":0}");
    find_ids(c, w_num("v", STORE_EQ, 1), NULL, 0, 0, "n1");
    find_ids(c, w_num("v", STORE_EQ, 0), NULL, 0, 0, "nz");
    find_ids(c, w_str("v", STORE_EQ, "1"), NULL, 0, 0, "ns");
    store_filter_t *f = store_filter_new();
    store_where_bool(f, "v", true);
    find_ids(c, f, NULL, 0, 0, "nt");
    f = store_filter_new();
    store_where_bool(f, "v", false);
    find_ids(c, f, NULL, 0, 0, "nf");
    find_ids(c, w_json("v", STORE_EQ, "null"), NULL, 0, 0, "nn"); /* missing is not null */
    find_ids(c, w_json("v", STORE_NE, "null"), NULL, 0, 0, "n1,nf,nm,ns,nt,nz");
    find_ids(c, w_num("v", STORE_NE, 1), NULL, 0, 0, "nf,nm,nn,ns,nt,nz");
    find_ids(c, w_json("v", STORE_NE, "true"), NULL, 0, 0, "n1,nf,nm,nn,ns,nz");
    find_ids(c, w_num("v", STORE_GT, 0), NULL, 0, 0, "n1");
    /* and after an update, set booleans are still booleans */
    cJSON *set = parse("{\"v\":true}");
    f = test_defer_filter(w_str("id", STORE_EQ, "nm"));
    OK(store_update(S, c, f, set, NULL, NULL));
    cJSON *got = get(c, "nm");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(got, "v")));
    f = store_filter_new();
    store_where_bool(f, "v", true);
    find_ids(c, f, NULL, 0, 0, "nm,nt");
}

/* ---- sort, limit, offset, count ---------------------------------------------------- */

static void test_sort(void **state) {
    char c[64];
    fresh(c, "sort");
    put(c, "s3", "{\"g\":\"x\",\"n\":3}");
    put(c, "s1", "{\"g\":\"x\",\"n\":2}");
    put(c, "s6", "{}");
    put(c, "s4", "{\"g\":\"y\",\"n\":1}");
    put(c, "s2", "{\"g\":\"y\",\"n\":1}");
    put(c, "s5", "{\"g\":\"x\",\"n\":2}");
    find_ids(c, NULL, NULL, 0, 0, "s1,s2,s3,s4,s5,s6");
    find_ids(c, NULL, "n", 0, 0, "s6,s2,s4,s1,s5,s3"); /* missing first, ties by id */
    find_ids(c, NULL, "-n", 0, 0, "s3,s1,s5,s2,s4,s6");
    find_ids(c, NULL, "g,-n", 0, 0, "s6,s3,s1,s5,s2,s4");
    find_ids(c, NULL, "-g,n", 0, 0, "s2,s4,s1,s5,s3,s6");
    find_ids(c, NULL, "-id", 0, 0, "s6,s5,s4,s3,s2,s1");
    find_ids(c, NULL, "n,-id", 0, 0, "s6,s4,s2,s5,s1,s3");
    find_ids(c, w_str("g", STORE_EQ, "x"), "-n", 0, 0, "s3,s1,s5");
    cJSON *out = NULL;
    RC(STORE_ERR, store_find(S, c, NULL, "n;drop", 0, 0, &out));
    RC(STORE_ERR, store_find(S, c, NULL, "n,n", 0, 0, &out));
    RC(STORE_ERR, store_find(S, c, NULL, "-", 0, 0, &out));
    assert_null(out);
}

static void test_limit_offset(void **state) {
    char c[64], id[16], json[32];
    fresh(c, "page");
    for (int i = 9; i >= 0; i--) {
        snprintf(id, sizeof id, "l%02d", i);
        snprintf(json, sizeof json, "{\"n\":%d}", i);
        put(c, id, json);
    }
    find_ids(c, NULL, "n", 3, 2, "l02,l03,l04");
    find_ids(c, NULL, "-n", 3, 2, "l07,l06,l05");
    find_ids(c, NULL, "n", 5, 8, "l08,l09");
    find_ids(c, NULL, "n", 5, 20, "");
    find_ids(c, NULL, "n", 0, 7, "l07,l08,l09");
    find_ids(c, NULL, "n", -1, 0, "l00,l01,l02,l03,l04,l05,l06,l07,l08,l09");
    find_ids(c, NULL, NULL, 1, 0, "l00");
    find_ids(c, w_num("n", STORE_GTE, 5), "n", 2, 0, "l05,l06");
    find_ids(c, w_num("n", STORE_GTE, 5), "n", 2, 2, "l07,l08");
}

static void test_count_find_one(void **state) {
    char c[64], never[64];
    fresh(c, "count");
    fresh(never, "never");
    put(c, "c2", "{\"k\":\"a\"}");
    put(c, "c1", "{\"k\":\"a\"}");
    put(c, "c3", "{\"k\":\"b\"}");
    assert_int_equal(count(c, NULL), 3);
    assert_int_equal(count(c, w_str("k", STORE_EQ, "a")), 2);
    assert_int_equal(count(c, w_str("k", STORE_EQ, "zz")), 0);
    assert_int_equal(count(never, NULL), 0);
    find_ids(never, NULL, NULL, 0, 0, "");
    cJSON *one = NULL;
    store_filter_t *f = w_str("k", STORE_EQ, "a");
    int rc = store_find_one(S, c, f, &one);
    store_filter_free(f);
    test_defer_json(one);
    OK(rc);
    assert_string_equal(str(one, "id"), "c1"); /* first by id */
    f = test_defer_filter(w_str("k", STORE_EQ, "zz"));
    one = (cJSON *)&one;
    RC(STORE_NOTFOUND, store_find_one(S, c, f, &one));
    assert_null(one);
    RC(STORE_NOTFOUND, store_find_one(S, never, NULL, &one));
}

/* ---- update, delete ---------------------------------------------------------------- */

static void update(const char *coll, store_filter_t *f, const char *set, const char *inc,
                   long want_matched) {
    cJSON *s = set ? cJSON_Parse(set) : NULL, *i = inc ? cJSON_Parse(inc) : NULL;
    long matched = -1;
    int rc = store_update(S, coll, f, s, i, &matched);
    store_filter_free(f);
    cJSON_Delete(s);
    cJSON_Delete(i);
    OK(rc);
    assert_int_equal(matched, want_matched);
}

static void test_update(void **state) {
    char c[64], never[64];
    fresh(c, "upd");
    fresh(never, "never");
    put(c, "u1", "{\"name\":\"a\",\"n\":1,\"flag\":false}");
    put(c, "u2", "{\"name\":\"b\",\"n\":5}");
    put(c, "u3", "{\"name\":\"c\"}");
    update(c, w_str("id", STORE_EQ, "u1"),
           "{\"name\":\"A\",\"flag\":true,\"obj\":{\"x\":1,\"s\":\"t\"},\"arr\":[1,\"2\"]}",
           "{\"n\":2}", 1);
    cJSON *got = get(c, "u1");
    cJSON *want = parse("{\"id\":\"u1\",\"name\":\"A\",\"n\":3,\"flag\":true,"
                        "\"obj\":{\"x\":1,\"s\":\"t\"},\"arr\":[1,\"2\"]}");
    assert_true(cJSON_Compare(want, got, true));
    update(c, NULL, NULL, "{\"n\":10}", 3); /* a missing field counts as 0 */
    got = get(c, "u3");
    assert_int_equal((int)num(got, "n"), 10);
    got = get(c, "u2");
    assert_int_equal((int)num(got, "n"), 15);
    update(c, w_num("n", STORE_GT, 12), "{\"big\":true}", NULL, 2);
    store_filter_t *f = store_filter_new();
    store_where_bool(f, "big", true);
    find_ids(c, f, NULL, 0, 0, "u1,u2");
    update(c, w_str("name", STORE_EQ, "nobody"), "{\"x\":1}", NULL, 0);
    update(c, w_str("id", STORE_EQ, "u3"), "{\"name\":null}", "{\"n\":0.5,\"m\":-2}", 1);
    got = get(c, "u3");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(got, "name")));
    assert_true(num(got, "n") == 10.5);
    assert_true(num(got, "m") == -2);
    update(c, w_str("name", STORE_PREFIX, ""), "{}", NULL, 2); /* nothing to change: counts */
    update(never, NULL, "{\"x\":1}", NULL, 0);
    /* "id" cannot change; inc needs numbers; a field is set or incremented, not both */
    cJSON *bad = parse("{\"id\":\"zz\"}"), *inc = parse("{\"n\":\"1\"}");
    cJSON *set = parse("{\"n\":1}"), *inc2 = parse("{\"n\":1}");
    RC(STORE_ERR, store_update(S, c, NULL, bad, NULL, NULL));
    RC(STORE_ERR, store_update(S, c, NULL, NULL, bad, NULL));
    RC(STORE_ERR, store_update(S, c, NULL, NULL, inc, NULL));
    RC(STORE_ERR, store_update(S, c, NULL, set, inc2, NULL));
    assert_true(store_errmsg()[0] != '\0');
    RC(STORE_NOTFOUND, store_get(S, c, "zz", &got));
}

static void test_delete(void **state) {
    char c[64], never[64];
    long deleted = -1;
    fresh(c, "del");
    fresh(never, "never");
    put(c, "d1", "{\"k\":\"a\"}");
    put(c, "d2", "{\"k\":\"a\"}");
    put(c, "d3", "{\"k\":\"b\"}");
    put(c, "d4", "{\"k\":\"a\"}");
    put(c, "d5", "{}");
    OK(store_delete_id(S, c, "d1"));
    RC(STORE_NOTFOUND, store_delete_id(S, c, "d1"));
    RC(STORE_NOTFOUND, store_delete_id(S, never, "d1"));
    store_filter_t *f = test_defer_filter(w_str("k", STORE_EQ, "a"));
    OK(store_delete(S, c, f, &deleted));
    assert_int_equal(deleted, 2);
    find_ids(c, NULL, NULL, 0, 0, "d3,d5");
    f = test_defer_filter(w_str("k", STORE_EQ, "zz"));
    OK(store_delete(S, c, f, &deleted));
    assert_int_equal(deleted, 0);
    OK(store_delete(S, never, NULL, &deleted));
    assert_int_equal(deleted, 0);
    OK(store_delete(S, c, NULL, &deleted));
    assert_int_equal(deleted, 2);
    assert_int_equal(count(c, NULL), 0);
    OK(store_delete(S, c, NULL, NULL));
}

/* ---- transactions ------------------------------------------------------------------ */

/* Inside a transaction: insert x3, x1.n += 1, delete x2, and read them back. */
static void txn_work(const char *c) {
    OK(store_begin(S));
    assert_true(store_in_txn(S));
    put(c, "x3", "{\"n\":30}");
    update(c, w_str("id", STORE_EQ, "x1"), NULL, "{\"n\":1}", 1);
    update(c, NULL, "{\"seen\":true}", NULL, 3);
    OK(store_delete_id(S, c, "x2"));
    get(c, "x3"); /* reads see the transaction's writes */
    cJSON *got = get(c, "x1");
    assert_int_equal((int)num(got, "n"), 2);
    RC(STORE_NOTFOUND, store_get(S, c, "x2", &got));
    assert_int_equal(count(c, NULL), 2);
}

static void txn_setup(char c[64]) {
    fresh(c, "txn");
    OK(store_ensure_collection(S, c));
    put(c, "x1", "{\"n\":1}");
    put(c, "x2", "{\"n\":2}");
}

static void test_txn_commit(void **state) {
    char c[64];
    txn_setup(c);
    txn_work(c);
    OK(store_commit(S));
    assert_false(store_in_txn(S));
    find_ids(c, NULL, NULL, 0, 0, "x1,x3");
    cJSON *got = get(c, "x1");
    assert_int_equal((int)num(got, "n"), 2);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(got, "seen")));
}

static void test_txn_rollback(void **state) {
    char c[64];
    txn_setup(c);
    txn_work(c);
    OK(store_rollback(S));
    assert_false(store_in_txn(S));
    find_ids(c, NULL, NULL, 0, 0, "x1,x2"); /* no trace */
    cJSON *got = get(c, "x1"), *want = parse("{\"id\":\"x1\",\"n\":1}");
    assert_true(cJSON_Compare(want, got, true));
    /* the connection works normally afterwards */
    put(c, "x4", NULL);
    assert_int_equal(count(c, NULL), 3);
}

static void test_txn_misuse(void **state) {
    char c[64];
    fresh(c, "txnm");
    OK(store_ensure_collection(S, c));
    RC(STORE_ERR, store_commit(S));
    RC(STORE_ERR, store_rollback(S));
    OK(store_begin(S));
    RC(STORE_ERR, store_begin(S)); /* nested */
    assert_true(store_in_txn(S));
    put(c, "m1", NULL);
    OK(store_rollback(S));
    assert_false(store_in_txn(S));
    assert_int_equal(count(c, NULL), 0);
    /* A failed write inside a transaction, then the rollback the caller owes. */
    put(c, "m2", NULL);
    OK(store_begin(S));
    put(c, "m3", NULL);
    cJSON *d = doc("m2", NULL);
    RC(STORE_CONFLICT, store_insert(S, c, d));
    OK(store_rollback(S));
    find_ids(c, NULL, NULL, 0, 0, "m2");
    put(c, "m4", NULL);
    find_ids(c, NULL, NULL, 0, 0, "m2,m4");
}

struct peek {
    const char *coll, *id;
    int get_rc, commit_rc;
    bool in_txn;
};

static void *peek_thread(void *p) {
    struct peek *k = p;
    cJSON *d = NULL;
    k->in_txn = store_in_txn(S);
    k->commit_rc = store_commit(S); /* not this thread's transaction */
    k->get_rc = store_get(S, k->coll, k->id, &d);
    cJSON_Delete(d);
    return NULL;
}

static struct peek peek(const char *coll, const char *id) {
    struct peek k = {coll, id, -99, -99, true};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, peek_thread, &k), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    return k;
}

static void test_txn_isolation(void **state) {
    char c[64];
    fresh(c, "txni");
    OK(store_ensure_collection(S, c));
    put(c, "before", NULL);
    OK(store_begin(S));
    put(c, "inside", NULL);
    struct peek k = peek(c, "inside");
    assert_false(k.in_txn);                     /* the transaction is this thread's */
    assert_int_equal(k.commit_rc, STORE_ERR);   /* another thread cannot end it */
    assert_int_equal(k.get_rc, STORE_NOTFOUND); /* nor see its writes */
    assert_true(store_in_txn(S));
    OK(store_commit(S));
    k = peek(c, "inside");
    assert_int_equal(k.get_rc, STORE_OK);
}

struct bystander {
    char coll[64];
    int rc;
};

static void *bystander_thread(void *p) {
    struct bystander *b = p;
    cJSON *d = new_doc("outside", NULL);
    b->rc = store_insert(S, b->coll, d);
    cJSON_Delete(d);
    return NULL;
}

/* Read, then another thread writes, then write: the transaction must still commit (on
 * SQLite this needs BEGIN IMMEDIATE: a deferred transaction could not upgrade its stale
 * read snapshot and would fail with SQLITE_BUSY_SNAPSHOT). */
static void test_txn_concurrent_writer(void **state) {
    char c[64];
    fresh(c, "txnw");
    OK(store_ensure_collection(S, c));
    put(c, "first", NULL);
    OK(store_begin(S));
    assert_int_equal(count(c, NULL), 1);
    /* static: the thread may outlive a failed test body, until the teardown joins it */
    static struct bystander b;
    b = (struct bystander){.rc = -99};
    memcpy(b.coll, c, sizeof b.coll);
    pthread_t *th = test_thread(bystander_thread, &b);
    usleep(200 * 1000); /* the other writer runs now (or waits for our commit) */
    put(c, "inside", NULL);
    OK(store_commit(S));
    test_release(th); /* joins */
    assert_int_equal(b.rc, STORE_OK);
    find_ids(c, NULL, NULL, 0, 0, "first,inside,outside");
}

/* ---- store_transact, write conflicts ------------------------------------------------- */

/* n += 1 on document id of coll, through store s (in s's transaction, if any). */
static int bump(store_t *s, const char *coll, const char *id) {
    store_filter_t *f = w_str("id", STORE_EQ, id);
    cJSON *inc = cJSON_Parse("{\"n\":1}");
    long matched = 0;
    int rc = store_update(s, coll, f, NULL, inc, &matched);
    store_filter_free(f);
    cJSON_Delete(inc);
    return rc == STORE_OK && matched != 1 ? STORE_NOTFOUND : rc;
}

static double n_of(const char *coll, const char *id) { return num(get(coll, id), "n"); }

/* What a transact_fn run does: insert "<id>-<run>", then return results[run - 1]. */
struct scripted {
    const char *coll;
    store_rc_t results[8];
    int runs;
};

static store_rc_t scripted_fn(store_t *s, void *arg) {
    struct scripted *k = arg;
    char id[32];
    snprintf(id, sizeof id, "r-%d", ++k->runs);
    cJSON *d = new_doc(id, NULL);
    int rc = store_insert(s, k->coll, d);
    cJSON_Delete(d);
    if (!store_in_txn(s)) return store_fail(STORE_ERR, "fn ran outside the transaction");
    return rc == STORE_OK ? k->results[k->runs - 1] : rc;
}

/* Run 1 has an operation report STORE_RETRY (as MongoDB does at a conflicting write; here
 * simulated through the backends' store_fail()) and then stops on its own account
 * (STORE_ABORTED): the run is doomed all the same, so store_transact() runs it again. */
static store_rc_t masking_fn(store_t *s, void *arg) {
    struct scripted *k = arg;
    int rc = scripted_fn(s, arg);
    if (k->runs == 1 && rc == STORE_OK) {
        store_fail(STORE_RETRY, "simulated write conflict");
        return STORE_ABORTED;
    }
    return rc;
}

/* Conflicts on every run: store_transact() runs it again until its budget ends. */
static store_rc_t conflicting_fn(store_t *s, void *arg) {
    struct scripted *k = arg;
    k->runs++;
    return store_fail(STORE_RETRY, "simulated write conflict, run %d", k->runs);
}

static store_rc_t failing_fn(store_t *s, void *arg) {
    cJSON *d = new_doc("x", NULL);
    int rc = store_insert(s, "bad name!", d); /* sets the message */
    cJSON_Delete(d);
    return rc;
}

/* store_page: the count of every match and the page; with a NULL count the page alone;
 * nothing left in *out on an error. */
static void test_page(void **state) {
    char c[64];
    fresh(c, "page");
    OK(store_ensure_collection(S, c));
    put(c, "p1", "{\"k\":1}");
    put(c, "p2", "{\"k\":1}");
    put(c, "p3", "{\"k\":2}");
    store_filter_t *f = test_defer_filter(w_str("id", STORE_NE, "p2"));
    long n = -1;
    cJSON *docs = NULL;
    OK(store_page(S, c, f, "-id", 1, 0, &n, &docs));
    test_defer_json(docs);
    assert_int_equal(n, 2);
    assert_int_equal(cJSON_GetArraySize(docs), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(docs, 0), "id")->valuestring, "p3");
    OK(store_page(S, c, f, "-id", 1, 1, NULL, &docs));
    test_defer_json(docs);
    assert_int_equal(cJSON_GetArraySize(docs), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(docs, 0), "id")->valuestring, "p1");
    docs = (cJSON *)1;
    RC(STORE_ERR, store_page(S, "bad name!", NULL, NULL, 10, 0, &n, &docs));
    assert_null(docs);
}

/* The retry loop itself, on every backend: what commits, what is returned, what runs again. */
static void test_transact(void **state) {
    char c[64];
    fresh(c, "xact");
    OK(store_ensure_collection(S, c));
    struct scripted ok = {c, {STORE_OK}, 0};
    OK(store_transact(S, scripted_fn, &ok));
    assert_int_equal(ok.runs, 1);
    assert_false(store_in_txn(S));
    find_ids(c, NULL, NULL, 0, 0, "r-1"); /* committed */

    fresh(c, "xact");
    struct scripted own = {c, {STORE_ABORTED}, 0};
    RC(STORE_ABORTED, store_transact(S, scripted_fn, &own)); /* fn stopped: not run again */
    assert_int_equal(own.runs, 1);
    assert_false(store_in_txn(S));
    assert_int_equal(count(c, NULL), 0); /* rolled back */

    fresh(c, "xact");
    struct scripted twice = {c, {STORE_RETRY, STORE_RETRY, STORE_OK}, 0};
    OK(store_transact(S, scripted_fn, &twice));
    assert_int_equal(twice.runs, 3);
    find_ids(c, NULL, NULL, 0, 0, "r-3"); /* only the last run left a trace */

    fresh(c, "xact");
    struct scripted never = {c, {0}, 0};
    store_set_transact_budget(S, 150);
    uint64_t t0 = mono_ns();
    RC(STORE_RETRY, store_transact(S, conflicting_fn, &never));
    store_set_transact_budget(S, STORE_TRANSACT_BUDGET_MS);
    assert_true(mono_ns() - t0 >= 150 * 1000000ULL); /* ran again until the budget ended */
    assert_true(never.runs > 5);
    assert_int_equal(count(c, NULL), 0);
    assert_false(store_in_txn(S));

    fresh(c, "xact");
    struct scripted masked = {c, {STORE_OK, STORE_OK}, 0};
    OK(store_transact(S, masking_fn, &masked));
    assert_int_equal(masked.runs, 2);
    find_ids(c, NULL, NULL, 0, 0, "r-2");

    /* a store error of fn: returned, and its message survives the rollback */
    RC(STORE_ERR, store_transact(S, failing_fn, NULL));
    assert_non_null(strstr(store_errmsg(), "bad collection name"));

    /* nested: refused, fn never runs, the outer transaction goes on */
    fresh(c, "xact");
    struct scripted inner = {c, {STORE_OK}, 0};
    OK(store_begin(S));
    RC(STORE_ERR, store_transact(S, scripted_fn, &inner));
    assert_int_equal(inner.runs, 0);
    assert_true(store_in_txn(S));
    OK(store_rollback(S));
}

struct waiter {
    char coll[64];
    atomic_int committing; /* set by the main thread just before its commit */
    int begin_rc, saw_commit, bump_rc, commit_rc;
};

static void *waiter_thread(void *p) {
    struct waiter *w = p;
    w->begin_rc = store_begin(S);
    w->saw_commit = w->committing;
    w->bump_rc = bump(S, w->coll, "d");
    w->commit_rc = store_commit(S);
    return NULL;
}

/* Two transactions writing one document. SQLite: the second one's store_begin() waits for
 * the first to commit (BEGIN IMMEDIATE), then both increments count. MongoDB: both run, one
 * commits and the other gets STORE_RETRY -- at its write (the second writer, on MongoDB and
 * on the test double) or at its commit -- and writes nothing. */
static void test_txn_write_conflict(void **state) {
    char c[64];
    fresh(c, "wconf");
    OK(store_ensure_collection(S, c));
    put(c, "d", "{\"n\":0}");
    if (on_sqlite()) {
        /* static: the thread may outlive a failed test body, until the teardown joins it */
        static struct waiter w;
        w = (struct waiter){.begin_rc = -99, .saw_commit = -99, .bump_rc = -99, .commit_rc = -99};
        memcpy(w.coll, c, sizeof w.coll);
        OK(store_begin(S));
        OK(bump(S, c, "d"));
        pthread_t *th = test_thread(waiter_thread, &w);
        usleep(200 * 1000); /* the other transaction is waiting in store_begin() now */
        w.committing = 1;
        OK(store_commit(S));
        test_release(th); /* joins */
        assert_int_equal(w.begin_rc, STORE_OK);
        assert_int_equal(w.saw_commit, 1); /* it began only once this one was committing */
        assert_int_equal(w.bump_rc, STORE_OK);
        assert_int_equal(w.commit_rc, STORE_OK);
        assert_int_equal((int)n_of(c, "d"), 2);
        return;
    }
    /* A second store: its own connection on this thread, so its own transaction. */
    char err[256];
    store_t *other = test_defer_store(store_open(url, dbname, err, sizeof err));
    if (!other) fail_msg("store_open: %s", err);
    OK(store_begin(S));
    OK(bump(S, c, "d"));
    OK(store_begin(other));
    int rc = bump(other, c, "d");
    if (rc == STORE_OK) rc = store_commit(other); /* the double reports it at the commit... */
    if (rc == STORE_RETRY) {                      /* ...MongoDB at the write */
        if (store_in_txn(other)) store_rollback(other);
        OK(store_commit(S)); /* the first writer commits */
    } else {                 /* the other committed first: then this one must lose */
        OK(rc);
        RC(STORE_RETRY, store_commit(S));
    }
    assert_false(store_in_txn(S));
    assert_false(store_in_txn(other));
    assert_int_equal((int)n_of(c, "d"), 1); /* one increment, not two, not zero */
    test_release(other);

    /* A failed statement aborts a MongoDB transaction; what follows fails with
     * NoSuchTransaction, labelled TransientTransactionError: STORE_RETRY as well. */
    OK(store_begin(S));
    cJSON *dup = doc("d", NULL), *got = NULL;
    RC(STORE_CONFLICT, store_insert(S, c, dup));
    RC(STORE_RETRY, store_get(S, c, "d", &got));
    OK(store_rollback(S));
}

/* A run of raced_fn: read d (the snapshot), and on the first run only have another
 * connection change d outside any transaction; then increment d. */
struct raced {
    const char *coll;
    store_t *other;
    int runs, other_rc;
};

static store_rc_t raced_fn(store_t *s, void *arg) {
    struct raced *r = arg;
    r->runs++;
    cJSON *d = NULL;
    int rc = store_get(s, r->coll, "d", &d);
    cJSON_Delete(d);
    if (rc != STORE_OK) return rc;
    if (r->runs == 1) r->other_rc = bump(r->other, r->coll, "d");
    return bump(s, r->coll, "d");
}

/* MongoDB: store_transact() runs a transaction that lost a write conflict again, and the
 * lost run leaves no trace. (SQLite cannot lose: the other writer would wait for us, here
 * on the same thread, forever; test_txn_write_conflict covers what it does.) */
static void test_transact_retries_a_conflict(void **state) {
    if (on_sqlite()) skip();
    char c[64], err[256];
    fresh(c, "xconf");
    OK(store_ensure_collection(S, c));
    put(c, "d", "{\"n\":0}");
    store_t *other = test_defer_store(store_open(url, dbname, err, sizeof err));
    if (!other) fail_msg("store_open: %s", err);
    struct raced r = {c, other, 0, -99};
    OK(store_transact(S, raced_fn, &r));
    assert_int_equal(r.other_rc, STORE_OK);
    assert_int_equal(r.runs, 2);            /* the first run conflicted */
    assert_int_equal((int)n_of(c, "d"), 2); /* the other's +1 and the second run's +1 */
}

/* ---- sample ------------------------------------------------------------------------ */

static void expect_sample(const char *coll, const char *color, long n, int want) {
    store_filter_t *f = color ? w_str("color", STORE_EQ, color) : NULL;
    cJSON *out = NULL, *d;
    int rc = store_sample(S, coll, f, n, &out);
    store_filter_free(f);
    test_defer_json(out);
    OK(rc);
    assert_int_equal(cJSON_GetArraySize(out), want);
    cJSON_ArrayForEach(d, out) {
        if (color) assert_string_equal(str(d, "color"), color);
        for (cJSON *e = d->next; e; e = e->next)
            assert_string_not_equal(str(d, "id"), str(e, "id")); /* distinct */
    }
    test_release(out);
}

static void test_sample(void **state) {
    char c[64], never[64], id[16], json[48];
    fresh(c, "sample");
    fresh(never, "never");
    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof id, "sm%02d", i);
        snprintf(json, sizeof json, "{\"color\":\"%s\",\"n\":%d}", i % 2 ? "blue" : "red", i);
        put(c, id, json);
    }
    expect_sample(c, "red", 4, 4);
    expect_sample(c, "red", 50, 10);
    expect_sample(c, NULL, 5, 5);
    expect_sample(c, "green", 5, 0);
    expect_sample(c, NULL, 0, 0);
    expect_sample(never, NULL, 3, 0);
    /* random: 20 draws of 3 out of 20 are not all the same sequence */
    char first[64] = "", now[64];
    bool differs = false;
    for (int round = 0; round < 20 && !differs; round++) {
        cJSON *out = NULL, *d;
        OK(store_sample(S, c, NULL, 3, &out));
        test_defer_json(out);
        now[0] = '\0';
        cJSON_ArrayForEach(d, out) { strcat(now, str(d, "id")); }
        test_release(out);
        if (!round)
            strcpy(first, now);
        else
            differs = strcmp(first, now) != 0;
    }
    assert_true(differs);
}

/* ---- threads ----------------------------------------------------------------------- */

struct writer {
    const char *coll;
    int base;
    int failures;
    char why[256];
};

static void writer_fail(struct writer *w, const char *what, int rc) {
    if (!w->failures++) snprintf(w->why, sizeof w->why, "%s -> %d (%s)", what, rc, store_errmsg());
}

/* A writer's transaction: read, two inserts, an increment of the shared "tcounter" (which
 * only transactions write: on MongoDB two of them may conflict, and store_transact() runs
 * the loser again). */
struct writer_txn {
    struct writer *w;
    int i;
};

static store_rc_t writer_txn(store_t *s, void *arg) {
    struct writer_txn *t = arg;
    char id[32];
    long n = 0;
    int rc = store_count(s, t->w->coll, NULL, &n);
    for (int j = 0; rc == STORE_OK && j < 2; j++) {
        cJSON *d = cJSON_CreateObject();
        snprintf(id, sizeof id, "t%d_%03d_%d", t->w->base, t->i, j);
        cJSON_AddStringToObject(d, "id", id);
        rc = store_insert(s, t->w->coll, d);
        cJSON_Delete(d);
    }
    return rc == STORE_OK ? bump(s, t->w->coll, "tcounter") : rc;
}

static void *writer_thread(void *p) {
    struct writer *w = p;
    char id[32];
    int rc;
    cJSON *inc = cJSON_Parse("{\"n\":1}");
    store_filter_t *counter = store_filter_new();
    store_where_str(counter, "id", STORE_EQ, "counter");
    for (int i = 0; i < 40; i++) {
        cJSON *d = cJSON_CreateObject();
        snprintf(id, sizeof id, "w%d_%03d", w->base, i);
        cJSON_AddStringToObject(d, "id", id);
        cJSON_AddNumberToObject(d, "i", i);
        if ((rc = store_insert(S, w->coll, d)) != STORE_OK) writer_fail(w, "insert", rc);
        cJSON_Delete(d);
        long matched = 0;
        if ((rc = store_update(S, w->coll, counter, NULL, inc, &matched)) != STORE_OK ||
            matched != 1)
            writer_fail(w, "inc", rc);
        struct writer_txn t = {w, i};
        if (i % 8 == 0 && (rc = store_transact(S, writer_txn, &t)) != STORE_OK)
            writer_fail(w, "transaction", rc);
    }
    store_filter_free(counter);
    cJSON_Delete(inc);
    return NULL;
}

static void test_threads(void **state) {
    char c[64];
    fresh(c, "threads");
    OK(store_ensure_collection(S, c));
    put(c, "counter", "{\"n\":0}");
    put(c, "tcounter", "{\"n\":0}");
    struct writer w[2] = {{c, 1, 0, ""}, {c, 2, 0, ""}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, writer_thread, &w[i]), 0);
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < 2; i++)
        if (w[i].failures)
            fail_msg("writer %d: %d failures, first: %s", i, w[i].failures, w[i].why);
    assert_int_equal(count(c, NULL), 2 + 2 * (40 + 5 * 2));
    assert_int_equal(count(c, w_str("id", STORE_PREFIX, "w1_")), 40);
    assert_int_equal(count(c, w_str("id", STORE_PREFIX, "t2_")), 10);
    cJSON *got = get(c, "counter");
    assert_int_equal((int)num(got, "n"), 2 * 40);      /* increments are atomic */
    assert_int_equal((int)n_of(c, "tcounter"), 2 * 5); /* once per committed transaction */
}

struct errmsg_probe {
    char msg[512];
};

static void *errmsg_thread(void *p) {
    struct errmsg_probe *e = p;
    store_insert(S, "bad name!", NULL);
    snprintf(e->msg, sizeof e->msg, "%s", store_errmsg());
    return NULL;
}

static void test_errmsg_per_thread(void **state) {
    char mine[512];
    cJSON *out = NULL;
    RC(STORE_ERR, store_find(S, "ok_name", NULL, "bad sort!", 0, 0, &out));
    snprintf(mine, sizeof mine, "%s", store_errmsg());
    assert_non_null(strstr(mine, "sort"));
    struct errmsg_probe e = {""};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, errmsg_thread, &e), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_non_null(strstr(e.msg, "collection"));
    assert_string_equal(store_errmsg(), mine);
}

/* ---- data ---------------------------------------------------------------------------- */

static void test_unicode(void **state) {
    char c[64];
    fresh(c, "unicode");
    const char *text = "Grüße, 世界! 🍕 \"quoted\" \\ back\nslash\ttab é";
    cJSON *d = test_defer_json(cJSON_CreateObject());
    cJSON_AddStringToObject(d, "id", "üñî-1");
    cJSON_AddStringToObject(d, "text", text);
    cJSON_AddStringToObject(d, "ключ", "значение");
    OK(store_insert(S, c, d));
    put(c, "plain", "{\"text\":\"世界\"}");
    cJSON *got = get(c, "üñî-1");
    assert_true(cJSON_Compare(d, got, true));
    assert_string_equal(str(got, "text"), text);
    find_ids(c, w_str("text", STORE_EQ, text), NULL, 0, 0, "üñî-1");
    find_ids(c, w_str("text", STORE_PREFIX, "Grü"), NULL, 0, 0, "üñî-1");
    find_ids(c, w_str("text", STORE_PREFIX, "Gru"), NULL, 0, 0, "");
    find_ids(c, w_str("text", STORE_PREFIX, "世"), NULL, 0, 0, "plain");
    update(c, w_str("id", STORE_EQ, "plain"), "{\"text\":\"🍕 ok\"}", NULL, 1);
    got = get(c, "plain");
    assert_string_equal(str(got, "text"), "🍕 ok");
}

static void test_numbers(void **state) {
    char c[64];
    fresh(c, "numbers");
    put(c, "n",
        "{\"big\":9007199254740992,\"neg\":-42,\"frac\":0.1,\"tiny\":1e-300,"
        "\"huge\":1.5e300,\"zero\":0}");
    cJSON *got = get(c, "n");
    assert_true(num(got, "big") == 9007199254740992.0);
    assert_true(num(got, "neg") == -42);
    assert_true(num(got, "frac") == 0.1);
    assert_true(num(got, "tiny") == 1e-300);
    assert_true(num(got, "huge") == 1.5e300);
    assert_true(num(got, "zero") == 0);
    find_ids(c, w_num("big", STORE_EQ, 9007199254740992.0), NULL, 0, 0, "n");
    find_ids(c, w_num("frac", STORE_EQ, 0.1), NULL, 0, 0, "n");
    find_ids(c, w_num("neg", STORE_LT, -41.5), NULL, 0, 0, "n");
    cJSON *set = test_defer_json(cJSON_CreateObject());
    cJSON_AddNumberToObject(set, "sum", 0.1 + 0.2);
    cJSON_AddNumberToObject(set, "big2", 9007199254740991.0);
    store_filter_t *f = test_defer_filter(w_str("id", STORE_EQ, "n"));
    OK(store_update(S, c, f, set, NULL, NULL));
    got = get(c, "n");
    assert_true(num(got, "sum") == 0.1 + 0.2);
    assert_true(num(got, "big2") == 9007199254740991.0);
    update(c, NULL, NULL, "{\"frac\":0.2,\"neg\":-0.5}", 1);
    got = get(c, "n");
    assert_true(num(got, "frac") == 0.1 + 0.2); /* exactly the double sum */
    assert_true(num(got, "neg") == -42.5);
}

static void test_bad_args(void **state) {
    char c[64];
    cJSON *out = NULL, *d = doc("x", NULL);
    fresh(c, "bad");
    const char *bad_names[] = {"", "a b", "x;drop", "a.b", "1abc", "sqlite_master", "a\"b"};
    for (int i = 0; i < 7; i++) {
        RC(STORE_ERR, store_insert(S, bad_names[i], d));
        RC(STORE_ERR, store_find(S, bad_names[i], NULL, NULL, 0, 0, &out));
    }
    RC(STORE_ERR, store_insert(S, NULL, d));
    RC(STORE_ERR, store_insert(S, c, parse("{\"id\":5}")));
    RC(STORE_ERR, store_insert(S, c, parse("{\"id\":\"\"}")));
    RC(STORE_ERR, store_insert(S, c, parse("[1]")));
    RC(STORE_ERR, store_insert(S, c, NULL));
    /* misused filters are refused by the operation that uses them */
    store_filter_t *f = test_defer_filter(w_str("a.b", STORE_EQ, "x"));
    RC(STORE_ERR, store_find(S, c, f, NULL, 0, 0, &out));
    RC(STORE_ERR, store_delete(S, c, f, NULL));
    f = test_defer_filter(w_num("name", STORE_PREFIX, 1));
    RC(STORE_ERR, store_count(S, c, f, &(long){0}));
    f = test_defer_filter(w_json("name", STORE_EQ, "{\"a\":1}"));
    RC(STORE_ERR, store_update(S, c, f, NULL, NULL, NULL));
    f = test_defer_filter(w_json("name", STORE_IN, "\"notarray\""));
    RC(STORE_ERR, store_sample(S, c, f, 1, &out));
    f = test_defer_filter(w_json("name", STORE_LT, "true"));
    RC(STORE_ERR, store_find(S, c, f, NULL, 0, 0, &out));
    assert_null(out);
    assert_true(strlen(store_errmsg()) > 0);
    /* nothing was written */
    assert_int_equal(count(c, NULL), 0);
}

/* ---- SQLite URLs --------------------------------------------------------------------- */

struct mem_worker {
    store_t *s;
    const char *id;
    int rc;
};

static void *mem_thread(void *p) {
    struct mem_worker *m = p;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "id", m->id);
    m->rc = store_insert(m->s, "mem", d);
    cJSON_Delete(d);
    return NULL;
}

static void test_sqlite_memory(void **state) {
    if (!on_sqlite()) skip();
    char err[256];
    store_t *m = test_defer_store(store_open("sqlite://:memory:", "mem", err, sizeof err));
    if (!m) fail_msg("open :memory: %s", err);
    OK(store_ensure_collection(m, "mem"));
    struct mem_worker w[2] = {{m, "a", -99}, {m, "b", -99}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, mem_thread, &w[i]), 0);
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(w[0].rc, STORE_OK);
    assert_int_equal(w[1].rc, STORE_OK);
    long n = 0;
    OK(store_count(m, "mem", NULL, &n)); /* one database for every thread */
    assert_int_equal(n, 2);
    test_release(m);
    /* and a second :memory: store is a different database */
    m = test_defer_store(store_open("sqlite://:memory:", "mem", err, sizeof err));
    assert_non_null(m);
    OK(store_count(m, "mem", NULL, &n));
    assert_int_equal(n, 0);
}

static void test_sqlite_mkdir(void **state) {
    if (!on_sqlite()) skip();
    char base[512], path[600], u[700], err[256], f[700];
    struct stat st;
    test_tmppath(base, sizeof base, "mkdir"); /* what is left here goes at exit */
    snprintf(path, sizeof path, "%s/a/b/x.db", base);
    snprintf(u, sizeof u, "sqlite://%s", path);
    store_t *m = test_defer_store(store_open(u, "x", err, sizeof err));
    if (!m) fail_msg("open %s: %s", u, err);
    OK(store_insert(m, "t", doc("k", NULL)));
    test_release(m);
    assert_int_equal(stat(path, &st), 0);
    m = test_defer_store(store_open(u, "x", err, sizeof err)); /* data persists */
    assert_non_null(m);
    cJSON *d = NULL;
    OK(store_get(m, "t", "k", &d));
    cJSON_Delete(d);
    test_release(m);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(f, sizeof f, "%s%s", path, suffix[i]);
        unlink(f);
    }
    snprintf(f, sizeof f, "%s/a/b", base);
    assert_int_equal(rmdir(f), 0);
    snprintf(f, sizeof f, "%s/a", base);
    assert_int_equal(rmdir(f), 0);
    assert_int_equal(rmdir(base), 0);
}

/* ---- suite --------------------------------------------------------------------------- */

static int suite_setup(void **state) {
    const char *env = getenv("STORE_URL"), *db = getenv("STORE_DB");
    char err[256] = "", path[512];
    if (env && *env)
        snprintf(url, sizeof url, "%s", env);
    else
        snprintf(url, sizeof url, "sqlite://%s", test_tmppath(path, sizeof path, "store.db"));
    dbname = db && *db ? db : "tizza_test";
    S = store_open(url, dbname, err, sizeof err);
    if (!S) {
        fprintf(stderr, "store_open(%s): %s\n", url, err);
        return -1;
    }
    fprintf(stderr, "test_store: %s backend at %s\n", store_backend(S), url);
    return 0;
}

static int suite_teardown(void **state) {
    store_close(S);
    return 0;
}

/* A failed assertion must not leave the next test inside a transaction, nor leak what the
 * test opened (a thread waiting for the transaction is joined after the rollback). */
static int end_test(void **state) {
    if (store_in_txn(S)) store_rollback(S);
    return test_cleanup(state);
}

#define T(f) cmocka_unit_test_teardown(f, end_test)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_open_ping),
        T(test_insert_get),
        T(test_mongo_database),
        T(test_get_missing),
        T(test_duplicate_id),
        T(test_unique_single),
        T(test_unique_compound),
        T(test_unique_update_conflict),
        T(test_find_eq_ne),
        T(test_find_prefix),
        T(test_find_in_nin),
        T(test_find_ranges),
        T(test_bool_number_eq),
        T(test_sort),
        T(test_limit_offset),
        T(test_count_find_one),
        T(test_update),
        T(test_delete),
        T(test_txn_commit),
        T(test_txn_rollback),
        T(test_txn_misuse),
        T(test_txn_isolation),
        T(test_txn_concurrent_writer),
        T(test_page),
        T(test_transact),
        T(test_txn_write_conflict),
        T(test_transact_retries_a_conflict),
        T(test_sample),
        T(test_threads),
        T(test_errmsg_per_thread),
        T(test_unicode),
        T(test_numbers),
        T(test_bad_args),
        T(test_sqlite_memory),
        T(test_sqlite_mkdir),
    };
    return cmocka_run_group_tests_name("store", tests, suite_setup, suite_teardown);
}
