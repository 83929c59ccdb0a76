/* json.c -- typed field accessors for validating request bodies.
 *
 * The accessors never stop at the first problem: each appends its own field error to the
 * problem (problem_add_error) and returns JSON_BAD, so one response lists every invalid
 * field. Messages are short human phrases that follow the field name:
 *
 *   "is required"                     required member absent
 *   "must be a string"                wrong type (JSON null included: null is not absent)
 *   "must be valid UTF-8"             cJSON passes raw bytes through, so we check
 *   "must not contain control characters"
 *                                     a one-line field holds a control character (Unicode
 *                                     Cc) or U+2028/U+2029 (the rules: json.h)
 *   "must not contain control characters other than tab and newline"
 *                                     the same for a JSON_MULTILINE field
 *   "must be 3 to 30 characters"      bounds; "characters" are code points, or "bytes"
 *   "must not be blank"               JSON_NONBLANK, only white space
 *   "must be true or false"           json_field_bool type error
 *   "is not allowed"                  json_reject_unknown, member not in the allowed list
 *   "must appear only once"           json_reject_unknown, an allowed member given twice
 *   "must not contain U+0000 (NUL)"   json_body, in the member's name or anywhere in its value
 *
 * *out is written only on JSON_OK and points into `obj` (valid while obj lives). A max below
 * zero means "no upper bound".
 *
 * json_body(), the body check that comes first, is in json_body.c. */
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

/* Unicode general category Cc. */
static bool control_char(long c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

/* Allowed by `rules` (json.h): control characters and line breaks. */
static bool allowed_char(long c, unsigned rules) {
    if (rules & JSON_MULTILINE) return !control_char(c) || c == '\t' || c == '\n';
    return !control_char(c) && c != 0x2028 && c != 0x2029;
}

/* Unicode White_Space, plus the invisible U+200B, U+2060 and U+FEFF. */
static bool blank_char(long c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200B) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x2060 || c == 0x3000 || c == 0xFEFF;
}

int json_field_text(const cJSON *obj, const char *name, bool required, long min, long max,
                    unsigned rules, const char **out, cJSON *problem) {
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
    const char *s = v->valuestring;
    size_t nbytes = strlen(s);
    long chars = utf8_len(s, nbytes);
    if (chars < 0) {
        problem_add_error(problem, name, "must be valid UTF-8");
        return JSON_BAD;
    }
    bool blank = true;
    for (size_t i = 0, k = 0; i < nbytes; i += k) {
        long c = utf8_decode(s + i, nbytes - i, &k);
        if (!allowed_char(c, rules)) {
            problem_add_error(problem, name,
                              rules & JSON_MULTILINE
                                  ? "must not contain control characters other than tab and "
                                    "newline"
                                  : "must not contain control characters");
            return JSON_BAD;
        }
        if (!blank_char(c)) blank = false;
    }
    long n = rules & JSON_BYTES ? (long)nbytes : chars;
    if (n < min || (max >= 0 && n > max)) {
        char msg[96];
        length_message(msg, sizeof msg, min, max, rules & JSON_BYTES);
        problem_add_error(problem, name, msg);
        return JSON_BAD;
    }
    if ((rules & JSON_NONBLANK) && nbytes > 0 && blank) {
        problem_add_error(problem, name, "must not be blank");
        return JSON_BAD;
    }
    if (out) *out = s;
    return JSON_OK;
}

int json_field_string(const cJSON *obj, const char *name, bool required, long min, long max,
                      bool bytes, const char **out, cJSON *problem) {
    return json_field_text(obj, name, required, min, max, bytes ? JSON_BYTES : JSON_LINE, out,
                           problem);
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
