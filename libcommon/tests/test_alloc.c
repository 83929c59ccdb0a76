/* test_alloc -- alloc.h: allocations that fail reach the out-of-memory handler, which says
 * how much was asked for and aborts; cJSON allocates through the same path.
 *
 * An allocation is made to fail by asking for more than any allocator gives (SIZE_MAX / 2);
 * under AddressSanitizer that needs allocator_may_return_null (below), else ASan would end the
 * process itself. Each failing call runs in a child (test_in_child), whose stderr and end are
 * read; a child whose call returns exits 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "alloc.h"
#include "testlib.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define HUGE (SIZE_MAX / 2)

const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

static void expect_oom_abort(void (*fn)(void)) {
    char err[4096], want[96];
    int status = test_in_child(fn, err, sizeof err);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    snprintf(want, sizeof want, "out of memory allocating %zu bytes\n", (size_t)HUGE);
    if (!strstr(err, want)) fail_msg("stderr lacks \"%s\": %s", want, err);
}

static void huge_xmalloc(void) { free(xmalloc(HUGE)); }
static void huge_xrealloc(void) { free(xrealloc(NULL, HUGE)); }
static void huge_xcalloc(void) { free(xcalloc(1, HUGE)); }
static void huge_cjson(void) { cJSON_free(cJSON_malloc(HUGE)); }

static void test_xmalloc_aborts_naming_the_size(void **state) { expect_oom_abort(huge_xmalloc); }
static void test_xrealloc_aborts_naming_the_size(void **state) { expect_oom_abort(huge_xrealloc); }
static void test_xcalloc_aborts_naming_the_size(void **state) { expect_oom_abort(huge_xcalloc); }

/* cJSON_malloc is cJSON's allocator: without the hooks it would return NULL here. */
static void test_cjson_allocates_through_xmalloc(void **state) { expect_oom_abort(huge_cjson); }

static size_t handled;
static void record_and_exit(size_t size) {
    handled = size;
    fprintf(stderr, "handler saw %zu\n", handled);
    _exit(3);
}
static void huge_with_handler(void) {
    alloc_set_oom_handler(record_and_exit);
    free(xmalloc(HUGE));
}

static void test_handler_replaces_the_default(void **state) {
    char err[4096], want[64];
    int status = test_in_child(huge_with_handler, err, sizeof err);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 3);
    snprintf(want, sizeof want, "handler saw %zu\n", (size_t)HUGE);
    assert_non_null(strstr(err, want));
    assert_null(strstr(err, "out of memory allocating"));
}

static void returning_handler(size_t size) {}
static void huge_with_returning_handler(void) {
    alloc_set_oom_handler(returning_handler);
    free(xmalloc(HUGE));
}

static void test_a_handler_that_returns_still_aborts(void **state) {
    char err[4096];
    int status = test_in_child(huge_with_returning_handler, err, sizeof err);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void test_strings(void **state) {
    char *s = test_defer_free(xstrdup("pizza"));
    assert_string_equal(s, "pizza");
    s = test_defer_free(xstrndup("pizza", 3));
    assert_string_equal(s, "piz");
    s = test_defer_free(xstrndup("pi", 10)); /* shorter than n: stops at the NUL */
    assert_string_equal(s, "pi");
    s = test_defer_free(xasprintf("%s-%d", "slice", 8));
    assert_string_equal(s, "slice-8");
    void *z = test_defer_free(xmalloc(0));
    assert_non_null(z);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xmalloc_aborts_naming_the_size),
        cmocka_unit_test(test_xrealloc_aborts_naming_the_size),
        cmocka_unit_test(test_xcalloc_aborts_naming_the_size),
        cmocka_unit_test(test_cjson_allocates_through_xmalloc),
        cmocka_unit_test(test_handler_replaces_the_default),
        cmocka_unit_test(test_a_handler_that_returns_still_aborts),
        cmocka_unit_test_teardown(test_strings, test_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
