/* json -- small typed accessors over cJSON for request validation.
 *
 * Each json_field_* looks up `name` in object `obj` and checks its type and bounds. On a
 * problem it appends a field error to `problem` (see problem.h) and returns the failure code;
 * `required` fields that are absent are errors, optional absent ones return JSON_ABSENT. */
#ifndef TIZZA_JSON_H
#define TIZZA_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>

enum json_get { JSON_OK = 0, JSON_ABSENT = 1, JSON_BAD = -1 };

/* String of min..max UTF-8 code points (bytes when `bytes` is true). */
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
