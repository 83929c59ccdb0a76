/* json.c -- typed field accessors for validating request bodies.
 *
 * The accessors never stop at the first problem: each appends its own field error to the
 * problem (problem_add_error) and returns JSON_BAD, so one response lists every invalid
 * field. Messages are short human phrases that follow the field name:
 *
 *   "is required"                     required member absent
 *   "must be a string"                wrong type (JSON null included: null is not absent)
 *   "must be valid UTF-8"             cJSON passes raw bytes through, so we check
 *   "must be 3 to 30 characters"      bounds; "characters" are code points, or "bytes"
 *   "must be true or false"           json_field_bool type error
 *   "is not allowed"                  json_reject_unknown, member not in the allowed list
 *   "must appear only once"           json_reject_unknown, an allowed member given twice
 *
 * *out is written only on JSON_OK and points into `obj` (valid while obj lives). A max below
 * zero means "no upper bound". */
#include "json.h"

#include "problem.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static const cJSON *member(const cJSON *obj, const char *name) {
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
}

/* "must be 3 to 30 characters" and friends, for a length outside [min, max]. */
static void length_message(char *buf, size_t size, long min, long max, bool bytes) {
    long shown = max >= 0 ? max : min;
    const char *unit =
        bytes ? (shown == 1 ? "byte" : "bytes") : (shown == 1 ? "character" : "characters");
    if (max < 0)
        snprintf(buf, size, "must be at least %ld %s", min, unit);
    else if (min == max)
        snprintf(buf, size, "must be exactly %ld %s", max, unit);
    else if (min <= 0)
        snprintf(buf, size, "must be at most %ld %s", max, unit);
    else
        snprintf(buf, size, "must be %ld to %ld %s", min, max, unit);
}

int json_field_string(const cJSON *obj, const char *name, bool required, long min, long max,
                      bool bytes, const char **out, cJSON *problem) {
    const cJSON *v = member(obj, name);
    if (!v) {
        if (!required) return JSON_ABSENT;
        problem_add_error(problem, name, "is required");
        return JSON_BAD;
    }
    if (!cJSON_IsString(v) || !v->valuestring) {
        problem_add_error(problem, name, "must be a string");
        return JSON_BAD;
    }
    size_t nbytes = strlen(v->valuestring);
    long chars = utf8_len(v->valuestring, nbytes);
    if (chars < 0) {
        problem_add_error(problem, name, "must be valid UTF-8");
        return JSON_BAD;
    }
    long n = bytes ? (long)nbytes : chars;
    if (n < min || (max >= 0 && n > max)) {
        char msg[96];
        length_message(msg, sizeof msg, min, max, bytes);
        problem_add_error(problem, name, msg);
        return JSON_BAD;
    }
    if (out) *out = v->valuestring;
    return JSON_OK;
}

int json_field_bool(const cJSON *obj, const char *name, bool required, bool *out, cJSON *problem) {
    const cJSON *v = member(obj, name);
    if (!v) {
        if (!required) return JSON_ABSENT;
        problem_add_error(problem, name, "is required");
        return JSON_BAD;
    }
    if (!cJSON_IsBool(v)) {
        problem_add_error(problem, name, "must be true or false");
        return JSON_BAD;
    }
    if (out) *out = cJSON_IsTrue(v);
    return JSON_OK;
}

static bool allowed_name(const char *name, const char *const *allowed) {
    for (size_t i = 0; name && allowed && allowed[i]; i++)
        if (strcmp(name, allowed[i]) == 0) return true;
    return false;
}

void json_reject_unknown(const cJSON *obj, const char *const *allowed, cJSON *problem) {
    if (!cJSON_IsObject(obj)) return;
    for (const cJSON *it = obj->child; it; it = it->next)
        if (!allowed_name(it->string, allowed))
            problem_add_error(problem, it->string ? it->string : "", "is not allowed");

    /* cJSON keeps duplicate members and lookups see only the first; refuse the ambiguity
     * for the members we act on (cost: allowed x members, both small). */
    for (size_t i = 0; allowed && allowed[i]; i++) {
        int seen = 0;
        for (const cJSON *it = obj->child; it; it = it->next)
            if (it->string && strcmp(it->string, allowed[i]) == 0) seen++;
        if (seen > 1) problem_add_error(problem, allowed[i], "must appear only once");
    }
}

const char *json_str(const cJSON *obj, const char *name) {
    const cJSON *v = member(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *json_print(const cJSON *v) { return v ? cJSON_PrintUnformatted(v) : NULL; }
