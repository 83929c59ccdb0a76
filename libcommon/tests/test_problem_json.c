/* test_problem_json.c -- RFC 9457 problem bodies (problem.c) and request field validation
 * (json.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "json.h"
#include "problem.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The problem's errors as "field:message;field:message;" for compact assertions. */
static char *errors_of(const cJSON *p) {
    static char buf[1024];
    buf[0] = '\0';
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(p, "errors");
    const cJSON *e;
    cJSON_ArrayForEach(e, errors) {
        assert_int_equal(cJSON_GetArraySize(e), 2);
        const char *field = cJSON_GetObjectItemCaseSensitive(e, "field")->valuestring;
        const char *msg = cJSON_GetObjectItemCaseSensitive(e, "message")->valuestring;
        size_t n = strlen(buf);
        snprintf(buf + n, sizeof buf - n, "%s:%s;", field, msg);
    }
    return buf;
}

/* --- problem -------------------------------------------------------------------------------- */

static void test_titles(void **state) {
    static const struct {
        int status;
        const char *title;
    } want[] = {
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {409, "Conflict"},
        {413, "Content Too Large"},
        {415, "Unsupported Media Type"},
        {422, "Unprocessable Content"},
        {429, "Too Many Requests"},
        {500, "Internal Server Error"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_string_equal(problem_title(want[i].status), want[i].title);
    assert_string_equal(problem_title(599), "Error");
    assert_string_equal(problem_title(0), "Error");
}

static void test_problem_shape(void **state) {
    cJSON *p = test_defer_json(problem_new(404, "no pizza with that id"));
    assert_non_null(p);
    char *s = test_defer_free(json_print(p));
    assert_string_equal(s, "{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404,"
                           "\"detail\":\"no pizza with that id\"}");
    assert_false(problem_has_errors(p));

    p = test_defer_json(problem_new(503, NULL));
    assert_string_equal(json_str(p, "detail"), "Service Unavailable");
    assert_int_equal(cJSON_GetObjectItem(p, "status")->valueint, 503);
}

static void test_problem_errors(void **state) {
    cJSON *p = test_defer_json(problem_new(400, "invalid fields"));
    problem_add_error(p, "username", "is required");
    assert_true(problem_has_errors(p));
    problem_add_error(p, "password", "must be 8 to 256 bytes");
    char *s = test_defer_free(json_print(p));
    assert_string_equal(s, "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,"
                           "\"detail\":\"invalid fields\",\"errors\":["
                           "{\"field\":\"username\",\"message\":\"is required\"},"
                           "{\"field\":\"password\",\"message\":\"must be 8 to 256 bytes\"}]}");
    problem_add_error(NULL, "x", "y"); /* no-op, no crash */
    assert_false(problem_has_errors(NULL));
}

/* --- json fields ------------------------------------------------------------------------------ */

static void test_string_ok(void **state) {
    cJSON *obj = test_defer_json(
        cJSON_Parse("{\"username\":\"alice\",\"name\":\"Zoë 🍕\",\"pw\":\"héllo!!\"}"));
    cJSON *p = test_defer_json(problem_new(400, NULL));
    const char *out = NULL;

    assert_int_equal(json_field_string(obj, "username", true, 3, 30, false, &out, p), JSON_OK);
    assert_string_equal(out, "alice");
    /* 5 code points, 9 bytes */
    assert_int_equal(json_field_string(obj, "name", true, 5, 5, false, &out, p), JSON_OK);
    assert_string_equal(out, "Zoë 🍕");
    assert_int_equal(json_field_string(obj, "name", true, 9, 9, true, &out, p), JSON_OK);
    /* optional and absent: untouched */
    out = "keep";
    assert_int_equal(json_field_string(obj, "missing", false, 0, 10, false, &out, p), JSON_ABSENT);
    assert_string_equal(out, "keep");
    /* max < 0: no upper bound */
    assert_int_equal(json_field_string(obj, "pw", true, 1, -1, true, &out, p), JSON_OK);
    assert_false(problem_has_errors(p));
}

static void test_string_errors(void **state) {
    cJSON *obj =
        test_defer_json(cJSON_Parse("{\"a\":\"ab\",\"b\":5,\"c\":null,\"d\":\"abcdefghijk\","
                                    "\"e\":\"éé\",\"f\":[\"x\"],\"g\":\"\",\"h\":\"abcd\"}"));
    cJSON *p = test_defer_json(problem_new(400, NULL));
    const char *out = "keep";

    assert_int_equal(json_field_string(obj, "a", true, 3, 30, false, &out, p), JSON_BAD);
    assert_int_equal(json_field_string(obj, "b", true, 3, 30, false, &out, p), JSON_BAD);
    assert_int_equal(json_field_string(obj, "c", false, 3, 30, false, &out, p), JSON_BAD);
    assert_int_equal(json_field_string(obj, "d", true, 3, 10, false, &out, p), JSON_BAD);
    assert_int_equal(json_field_string(obj, "e", true, 3, 10, true, &out, p), JSON_OK);
    assert_int_equal(json_field_string(obj, "e", true, 3, 10, false, &out, p), JSON_BAD);
    assert_int_equal(json_field_string(obj, "f", true, 0, 10, false, &out, p), JSON_BAD);
    assert_int_equal(json_field_string(obj, "g", true, 1, -1, false, &out, p), JSON_BAD);
    assert_int_equal(json_field_string(obj, "h", true, 0, 3, true, &out, p), JSON_BAD);
    assert_int_equal(json_field_string(obj, "h", true, 2, 2, false, &out, p), JSON_BAD);
    assert_int_equal(json_field_string(obj, "x", true, 0, 1, false, &out, p), JSON_BAD);
    assert_int_equal(json_field_string(obj, "a", true, 0, 1, false, &out, p), JSON_BAD);
    assert_string_equal(errors_of(p), "a:must be 3 to 30 characters;"
                                      "b:must be a string;"
                                      "c:must be a string;"
                                      "d:must be 3 to 10 characters;"
                                      "e:must be 3 to 10 characters;"
                                      "f:must be a string;"
                                      "g:must be at least 1 character;"
                                      "h:must be at most 3 bytes;"
                                      "h:must be exactly 2 characters;"
                                      "x:is required;"
                                      "a:must be at most 1 character;");
}

static void test_string_invalid_utf8(void **state) {
    /* cJSON passes raw bytes through unchecked. */
    cJSON *obj = test_defer_json(cJSON_Parse("{\"n\":\"ab\xc0\xafz\",\"s\":\"\xed\xa0\x80\"}"));
    assert_non_null(obj);
    cJSON *p = test_defer_json(problem_new(400, NULL));
    const char *out = NULL;
    assert_int_equal(json_field_string(obj, "n", true, 0, 100, true, &out, p), JSON_BAD);
    assert_int_equal(json_field_string(obj, "s", true, 0, 100, false, &out, p), JSON_BAD);
    assert_null(out);
    assert_string_equal(errors_of(p), "n:must be valid UTF-8;s:must be valid UTF-8;");
}

static void test_not_an_object(void **state) {
    cJSON *arr = test_defer_json(cJSON_Parse("[\"a\"]"));
    cJSON *p = test_defer_json(problem_new(400, NULL));
    const char *out = NULL;
    assert_int_equal(json_field_string(arr, "a", true, 0, 5, false, &out, p), JSON_BAD);
    assert_int_equal(json_field_string(NULL, "a", false, 0, 5, false, &out, p), JSON_ABSENT);
    assert_string_equal(errors_of(p), "a:is required;");
}

static void test_bool_field(void **state) {
    cJSON *obj =
        test_defer_json(cJSON_Parse("{\"t\":true,\"f\":false,\"s\":\"true\",\"n\":1,\"z\":null}"));
    cJSON *p = test_defer_json(problem_new(400, NULL));
    bool v = false;
    assert_int_equal(json_field_bool(obj, "t", true, &v, p), JSON_OK);
    assert_true(v);
    assert_int_equal(json_field_bool(obj, "f", true, &v, p), JSON_OK);
    assert_false(v);
    v = true;
    assert_int_equal(json_field_bool(obj, "absent", false, &v, p), JSON_ABSENT);
    assert_true(v);
    assert_false(problem_has_errors(p));
    assert_int_equal(json_field_bool(obj, "s", true, &v, p), JSON_BAD);
    assert_int_equal(json_field_bool(obj, "n", true, &v, p), JSON_BAD);
    assert_int_equal(json_field_bool(obj, "z", false, &v, p), JSON_BAD);
    assert_int_equal(json_field_bool(obj, "absent", true, &v, p), JSON_BAD);
    assert_string_equal(errors_of(p), "s:must be true or false;n:must be true or false;"
                                      "z:must be true or false;absent:is required;");
}

static void test_reject_unknown(void **state) {
    static const char *const allowed[] = {"username", "password", "email", NULL};
    cJSON *p = test_defer_json(problem_new(400, NULL));

    cJSON *ok = test_defer_json(cJSON_Parse("{\"username\":\"a\",\"email\":\"b\"}"));
    json_reject_unknown(ok, allowed, p);
    assert_false(problem_has_errors(p));

    cJSON *bad =
        test_defer_json(cJSON_Parse("{\"username\":\"a\",\"role\":\"admin\",\"Password\":\"x\","
                                    "\"is_admin\":true,\"username\":\"b\"}"));
    json_reject_unknown(bad, allowed, p);
    assert_string_equal(errors_of(p), "role:is not allowed;Password:is not allowed;"
                                      "is_admin:is not allowed;username:must appear only once;");
}

static void test_json_str_and_print(void **state) {
    cJSON *obj = test_defer_json(cJSON_Parse("{\"s\":\"v\",\"n\":1}"));
    assert_string_equal(json_str(obj, "s"), "v");
    assert_null(json_str(obj, "n"));
    assert_null(json_str(obj, "missing"));
    assert_null(json_str(NULL, "s"));
    char *s = test_defer_free(json_print(obj));
    assert_string_equal(s, "{\"s\":\"v\",\"n\":1}");
    assert_null(json_print(NULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_titles),
        cmocka_unit_test_teardown(test_problem_shape, test_cleanup),
        cmocka_unit_test_teardown(test_problem_errors, test_cleanup),
        cmocka_unit_test_teardown(test_string_ok, test_cleanup),
        cmocka_unit_test_teardown(test_string_errors, test_cleanup),
        cmocka_unit_test_teardown(test_string_invalid_utf8, test_cleanup),
        cmocka_unit_test_teardown(test_not_an_object, test_cleanup),
        cmocka_unit_test_teardown(test_bool_field, test_cleanup),
        cmocka_unit_test_teardown(test_reject_unknown, test_cleanup),
        cmocka_unit_test_teardown(test_json_str_and_print, test_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
