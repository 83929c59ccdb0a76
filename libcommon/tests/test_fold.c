/* test_fold.c -- the search form of a text: case, accents and compatibility forms fold
 * alike; bad UTF-8 is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fold.h"
#include "testlib.h"

#include <stdlib.h>

static void folds_to(const char *in, const char *want) {
    char *got = text_fold(in);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_case_accents_and_forms(void **state) {
    folds_to("Margherita", "margherita");
    folds_to("CRÈME Brûlée", "creme brulee");
    folds_to("Straße", "strasse");
    folds_to("ＰＩＺＺＡ", "pizza"); /* fullwidth letters */
    folds_to("Quattro Formaggi 🍕", "quattro formaggi 🍕");
    folds_to("ΣΊΣΥΦΟΣ", "σισυφοσ"); /* final sigma folds like any sigma */
    folds_to("", "");
}

static void test_bad_utf8_is_refused(void **state) {
    assert_null(text_fold("caf\xc3"));
    assert_null(text_fold("\xff"));
    assert_null(text_fold("\xed\xa0\x80")); /* a surrogate */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_case_accents_and_forms, test_cleanup),
        cmocka_unit_test_teardown(test_bad_utf8_is_refused, test_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
