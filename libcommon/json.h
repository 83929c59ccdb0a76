/* json -- small typed accessors over cJSON for request validation.
 *
 * A handler reads its request body with json_body(), then each json_field_* looks up `name`
 * in object `obj` and checks its type and bounds. On a problem it appends a field error to
 * `problem` (see problem.h) and returns the failure code; `required` fields that are absent
 * are errors, optional absent ones return JSON_ABSENT.
 *
 * Text rules, for every string field a service reads:
 *   - valid UTF-8, and no U+0000 anywhere in the body (json_body: cJSON would decode
 *     "Password1\u0000-long-tail" into a C string that ends after "Password1");
 *   - no control characters (Unicode Cc: U+0001..U+001F, U+007F..U+009F), except that free
 *     text (JSON_MULTILINE: a tweet, a description) may hold tab and newline (U+0009,
 *     U+000A). Every other field is one line (usernames, passwords, names, titles, emails,
 *     addresses, ids, URLs) and also refuses the line and paragraph separators U+2028, U+2029;
 *   - JSON_NONBLANK: a non-empty value must hold something other than white space (Unicode
 *     White_Space, plus the invisible U+200B, U+2060 and U+FEFF), for names and titles. */
#ifndef TIZZA_JSON_H
#define TIZZA_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>

typedef struct http_req http_req_t; /* http.h */

enum json_get { JSON_OK = 0, JSON_ABSENT = 1, JSON_BAD = -1 };

/* The rules of a text field (flags, JSON_LINE alone being the strictest). */
enum json_text {
    JSON_LINE = 0,           /* one line: no control characters, no U+2028/U+2029 */
    JSON_BYTES = 1 << 0,     /* min/max count bytes, not code points */
    JSON_MULTILINE = 1 << 1, /* free text: tab and newline allowed */
    JSON_NONBLANK = 1 << 2,  /* not only white space (the empty string is left to min) */
};

/* The request body as a JSON object (http_json_body), or NULL when it answered 400: not a
 * JSON object, not valid UTF-8, or holding U+0000 in a string or a member name (escaped or
 * as a raw byte; errors[] names the top-level member). Owned by the request. */
cJSON *json_body(http_req_t *req);

/* Text of min..max code points (bytes with JSON_BYTES) that follows `rules`. */
int json_field_text(const cJSON *obj, const char *name, bool required, long min, long max,
                    unsigned rules, const char **out, cJSON *problem);
/* One line of min..max UTF-8 code points (bytes when `bytes` is true): json_field_text with
 * JSON_LINE (| JSON_BYTES). */
int json_field_string(const cJSON *obj, const char *name, bool required, long min, long max,
                      bool bytes, const char **out, cJSON *problem);
int json_field_bool(const cJSON *obj, const char *name, bool required, bool *out, cJSON *problem);

/* Adds an error for every member of obj not in `allowed` (NULL-terminated). */
void json_reject_unknown(const cJSON *obj, const char *const *allowed, cJSON *problem);

/* String member or NULL (no type error). */
const char *json_str(const cJSON *obj, const char *name);

/* Print compactly; malloc'd. */
char *json_print(const cJSON *v);

#endif
