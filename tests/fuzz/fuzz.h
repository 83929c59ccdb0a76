/* fuzz.h -- what the libFuzzer targets of tests/fuzz share.
 *
 * check(cond): when an invariant a target asserts does not hold, print the condition with
 * its file and line and abort(), which libFuzzer reports as a crash and saves the input. */
#ifndef TIZZA_FUZZ_H
#define TIZZA_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

#define check(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
