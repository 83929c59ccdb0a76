/* Unit tests for http_store.c, without a running server: http_reply_problem() is defined
 * here over a fake request (as in test_erased.c), so the linker never needs http.o.
 *
 * What it holds the module to: every store failure -- a real STORE_ERR of an SQLite store,
 * STORE_RETRY, any other code -- is answered once, 503, "the store is unavailable", and
 * logged as one error line naming the operation, the code and store_errmsg(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <unistd.h>

#include "http_store.h"
#include "testlib.h"

struct http_req {
    int status, replies;
    char detail[128];
};

void http_reply_problem(http_req_t *req, int status, const char *detail) {
    req->status = status;
    req->replies++;
    snprintf(req->detail, sizeof req->detail, "%s", detail ? detail : "");
}

/* Runs http_reply_store_error(req, rc, what) with stdout (the log) going to a file, and
 * returns the log line as JSON (freed by the teardown). */
static cJSON *reply_and_log(http_req_t *req, int rc, const char *what) {
    char path[4096];
    test_tmppath(path, sizeof path, "log");
    fflush(stdout);
    int saved = dup(1), fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 1);
    http_reply_store_error(req, rc, what);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    char line[2048] = "";
    ssize_t n = pread(fd, line, sizeof line - 1, 0);
    close(fd);
    assert_true(n > 0);
    line[n] = '\0';
    assert_non_null(strchr(line, '\n'));
    assert_ptr_equal(strchr(line, '\n'), line + n - 1); /* one line */
    cJSON *j = test_defer_json(cJSON_Parse(line));
    if (!j) fail_msg("not JSON: %s", line);
    return j;
}

static const char *str(const cJSON *j, const char *name) {
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, name));
}

static void expect_503(const http_req_t *req) {
    assert_int_equal(req->replies, 1);
    assert_int_equal(req->status, 503);
    assert_string_equal(req->detail, "the store is unavailable");
}

static void test_a_store_error(void **state) {
    char err[256];
    store_t *s = test_defer_store(store_open("sqlite://:memory:", "t", err, sizeof err));
    assert_non_null(s);
    cJSON *doc = NULL;
    int rc = store_get(s, "sqlite_master", "aaaaaaaaaaaaaaaaaaaaaaaa", &doc); /* refused */
    assert_int_equal(rc, STORE_ERR);
    char msg[256];
    snprintf(msg, sizeof msg, "%s", store_errmsg());
    assert_true(msg[0] != '\0');

    http_req_t req = {0};
    cJSON *log = reply_and_log(&req, rc, "get thing");
    expect_503(&req);
    assert_string_equal(str(log, "level"), "error");
    assert_string_equal(str(log, "msg"), "store error");
    assert_string_equal(str(log, "op"), "get thing");
    assert_string_equal(str(log, "error"), msg);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(log, "rc")->valueint, STORE_ERR);
}

static void test_every_failure_is_503(void **state) {
    static const int codes[] = {STORE_RETRY, STORE_ERR, 100};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        http_req_t req = {0};
        cJSON *log = reply_and_log(&req, codes[i], "write");
        expect_503(&req);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(log, "rc")->valueint, codes[i]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_a_store_error, test_cleanup),
        cmocka_unit_test_teardown(test_every_failure_is_503, test_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
