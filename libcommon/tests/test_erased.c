/* Unit tests for erased.c on an in-memory SQLite store, without a running server.
 *
 * The http.h functions erased/authn use are defined here over a fake request (as in
 * test_authn.c), so the linker never needs http.o. Tokens are real (token_sign), so
 * erased_require_writer() runs the real authn_require(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "erased.h"
#include "token.h"

struct http_req {
    const char *authorization;
    int status, replies;
    char www_authenticate[64];
    char detail[128];
};

const char *http_header(const http_req_t *req, const char *name) {
    return strcasecmp(name, "Authorization") == 0 ? req->authorization : NULL;
}
const char *http_cookie(const http_req_t *req, const char *name) { return NULL; }
void http_add_header(http_req_t *req, const char *name, const char *value) {
    if (strcasecmp(name, "WWW-Authenticate") == 0)
        snprintf(req->www_authenticate, sizeof req->www_authenticate, "%s", value);
}
void http_reply_problem(http_req_t *req, int status, const char *detail) {
    req->status = status;
    req->replies++;
    snprintf(req->detail, sizeof req->detail, "%s", detail ? detail : "");
}

#define ALICE "aaaaaaaaaaaaaaaaaaaaaaaa"
#define BOB   "bbbbbbbbbbbbbbbbbbbbbbbb"

static token_key_t key;

static char *bearer_for(const char *sub) {
    int64_t now = (int64_t)time(NULL);
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "sub", sub);
    cJSON_AddStringToObject(c, "username", "someone");
    cJSON_AddStringToObject(c, "role", "user");
    cJSON_AddNumberToObject(c, "iat", (double)now);
    cJSON_AddNumberToObject(c, "exp", (double)(now + 600));
    cJSON_AddStringToObject(c, "jti", "jti-1");
    char *jwt = token_sign(&key, c);
    cJSON_Delete(c);
    assert_non_null(jwt);
    size_t n = strlen(jwt) + 8;
    char *h = malloc(n);
    snprintf(h, n, "Bearer %s", jwt);
    free(jwt);
    return h;
}

static int setup(void **state) {
    token_key_generate(&key);
    authn_set_keys(&key, 1);
    char err[256];
    store_t *s = store_open("sqlite://:memory:", "erased", err, sizeof err);
    assert_non_null(s);
    assert_int_equal(erased_migrate(s), STORE_OK);
    assert_int_equal(erased_migrate(s), STORE_OK); /* idempotent */
    *state = s;
    return 0;
}

static int teardown(void **state) {
    store_close(*state);
    return 0;
}

static void test_remember_is_idempotent(void **state) {
    store_t *s = *state;
    assert_int_equal(store_begin(s), STORE_OK);
    assert_int_equal(erased_remember(s, ALICE), STORE_OK);
    assert_int_equal(erased_remember(s, ALICE), STORE_OK); /* redelivery */
    assert_int_equal(store_commit(s), STORE_OK);
    assert_int_equal(erased_remember(s, ALICE), STORE_OK); /* outside a transaction too */
    long n = -1;
    assert_int_equal(store_count(s, "deleted_users", NULL, &n), STORE_OK);
    assert_int_equal(n, 1);
    cJSON *doc = NULL;
    assert_int_equal(store_get(s, "deleted_users", ALICE, &doc), STORE_OK);
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(doc, "deleted_at");
    assert_true(cJSON_IsString(at) && strlen(at->valuestring) >= 20);
    cJSON_Delete(doc);
}

static void test_rollback_forgets(void **state) {
    store_t *s = *state;
    assert_int_equal(store_begin(s), STORE_OK);
    assert_int_equal(erased_remember(s, BOB), STORE_OK);
    assert_int_equal(store_rollback(s), STORE_OK);
    cJSON *doc = NULL;
    assert_int_equal(store_get(s, "deleted_users", BOB, &doc), STORE_NOTFOUND);
}

static void test_require_writer(void **state) {
    store_t *s = *state;
    char *alice = bearer_for(ALICE), *bob = bearer_for(BOB);
    authn_user_t u;

    http_req_t anon = {0};
    assert_int_equal(erased_require_writer(&anon, s, &u), -1);
    assert_int_equal(anon.replies, 1);
    assert_int_equal(anon.status, 401);
    assert_string_equal(anon.detail, "authentication required");

    http_req_t live = {.authorization = bob};
    assert_int_equal(erased_require_writer(&live, s, &u), 0);
    assert_int_equal(live.replies, 0);
    assert_string_equal(u.id, BOB);

    assert_int_equal(erased_remember(s, ALICE), STORE_OK);
    http_req_t gone = {.authorization = alice};
    assert_int_equal(erased_require_writer(&gone, s, &u), -1);
    assert_int_equal(gone.replies, 1);
    assert_int_equal(gone.status, 401);
    assert_string_equal(gone.detail, "this account has been deleted");
    assert_string_equal(gone.www_authenticate, "Bearer");

    /* inside a transaction, as a creating handler calls it */
    assert_int_equal(store_begin(s), STORE_OK);
    http_req_t in_txn = {.authorization = alice};
    assert_int_equal(erased_require_writer(&in_txn, s, &u), -1);
    assert_int_equal(in_txn.status, 401);
    assert_int_equal(store_rollback(s), STORE_OK);
    free(alice);
    free(bob);
}

/* A deleted_users that cannot be read (a table without the document columns): 503, once. */
static void test_store_error_is_503(void **state) {
    const char *path = "/tmp/er-unit/broken.db";
    remove(path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE deleted_users (x INTEGER)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    char err[256], url[300];
    snprintf(url, sizeof url, "sqlite://%s", path);
    store_t *s = store_open(url, "erased", err, sizeof err);
    assert_non_null(s);
    char *h = bearer_for(BOB);
    authn_user_t u;
    http_req_t req = {.authorization = h};
    assert_int_equal(erased_require_writer(&req, s, &u), -1);
    assert_int_equal(req.replies, 1);
    assert_int_equal(req.status, 503);
    free(h);
    store_close(s);
    remove(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_remember_is_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_forgets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_require_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_error_is_503, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
