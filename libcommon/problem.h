/* problem -- RFC 9457 problem details bodies.
 *
 * A problem is {"type","title","status","detail"} and, for validation failures,
 * "errors":[{"field","message"}]. "type" is "about:blank" for plain HTTP errors and
 * "https://tizza.example/problems/<slug>" for the few Tizza-specific ones. Strings given
 * here may come from a request: bytes that are not UTF-8 are stored as U+FFFD. */
#ifndef TIZZA_PROBLEM_H
#define TIZZA_PROBLEM_H

#include <cjson/cJSON.h>

/* Standard reason phrase for an HTTP status ("Not Found"); "Error" when unknown. */
const char *problem_title(int status);

/* New problem object; detail may be NULL. Caller owns the result. */
cJSON *problem_new(int status, const char *detail);

/* Appends {"field","message"} to the problem's "errors" array (created on first use). */
void problem_add_error(cJSON *problem, const char *field, const char *message);

/* True when the problem has at least one field error. */
int problem_has_errors(const cJSON *problem);

#endif
