/* fuzz_json -- request body validation: json.h's accessors and problem.h on a body parsed by
 * cJSON, as the services' handlers use them.
 *
 * Input: a request body. It is parsed with cJSON_ParseWithLength; whatever it gives (an
 * object, another value, or nothing) goes through each form below -- the members and bounds
 * of the services' bodies (signup, account patch, login, refresh, pizza, pizzeria, like,
 * tweet) -- into a fresh 422 problem: json_reject_unknown, then json_field_string /
 * json_field_bool per member, json_str. Then the problem is printed (json_print) and
 * parsed back.
 *
 * Checked against json.h and problem.h (abort when broken): JSON_BAD adds exactly one field
 * error, JSON_OK and JSON_ABSENT none; JSON_OK sets *out to a string of the member within
 * its byte bounds; JSON_ABSENT only for an optional member that is absent;
 * problem_has_errors() agrees with the count; the printed problem parses back to an equal
 * object. */
#include "fuzz.h"
#include "json.h"
#include "problem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { STR, BOOL };

typedef struct {
    const char *name;
    enum kind kind;
    bool required;
    long min, max; /* STR: max < 0 means no upper bound */
    bool bytes;
} field_t;

typedef struct {
    const char *const *allowed; /* NULL: unknown members are not checked */
    field_t fields[8];
} form_t;

static const char *const signup[] = {"username", "email", "password", "name", NULL};
static const char *const account_patch[] = {"name", "email", "password", "current_password", NULL};
static const char *const pizza[] = {"pizzeria_id", "title",    "description", "thumbnail_url",
                                    "kind",        "approved", NULL};
static const char *const pizzeria[] = {"name", "address", "phone", NULL};
static const char *const like[] = {"liked", NULL};
static const char *const tweet[] = {"body", NULL};

static const form_t forms[] = {
    {signup,
     {{"username", STR, true, 3, 30, true},
      {"email", STR, true, 3, 254, true},
      {"password", STR, true, 8, 256, true},
      {"name", STR, false, 0, 100, false}}},
    {account_patch,
     {{"name", STR, false, 0, 100, false},
      {"email", STR, false, 3, 254, true},
      {"password", STR, false, 8, 256, true},
      {"current_password", STR, false, 0, 1024, true}}},
    {NULL, {{"username", STR, true, 1, 1024, true}, {"password", STR, true, 1, 1024, true}}},
    {NULL, {{"refresh_token", STR, false, 1, 512, true}}},
    {pizza,
     {{"pizzeria_id", STR, true, 0, -1, true},
      {"title", STR, true, 1, 120, false},
      {"description", STR, false, 0, 240, false},
      {"thumbnail_url", STR, false, 0, 2048, true},
      {"kind", STR, true, 1, 16, true},
      {"approved", BOOL, false, 0, 0, false}}},
    {pizzeria,
     {{"name", STR, true, 1, 120, false},
      {"address", STR, true, 1, 512, false},
      {"phone", STR, false, 0, 40, true}}},
    {like, {{"liked", BOOL, true, 0, 0, false}}},
    {tweet, {{"body", STR, true, 1, 280, false}}},
};

static int errors(const cJSON *problem) {
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(problem, "errors"));
}

static void one_field(const cJSON *body, const field_t *f, cJSON *problem) {
    const cJSON *member =
        cJSON_IsObject(body) ? cJSON_GetObjectItemCaseSensitive(body, f->name) : NULL;
    int before = errors(problem);
    int rc;
    if (f->kind == STR) {
        const char *out = NULL;
        rc = json_field_string(body, f->name, f->required, f->min, f->max, f->bytes, &out, problem);
        if (rc == JSON_OK) {
            check(out && cJSON_IsString(member) && out == member->valuestring);
            check(json_str(body, f->name) == out);
            size_t n = strlen(out);
            if (f->bytes)
                check((long)n >= f->min && (f->max < 0 || (long)n <= f->max));
            else
                check(f->max < 0 || (long)n <= 4 * f->max); /* code points: 1 to 4 bytes */
        } else {
            check(out == NULL);
        }
    } else {
        bool out = false;
        rc = json_field_bool(body, f->name, f->required, &out, problem);
        if (rc == JSON_OK) check(cJSON_IsBool(member) && out == cJSON_IsTrue(member));
    }
    check(rc == JSON_OK || rc == JSON_ABSENT || rc == JSON_BAD);
    check(errors(problem) == before + (rc == JSON_BAD));
    if (rc == JSON_ABSENT) check(!f->required && !member);
    if (!member && f->required) check(rc == JSON_BAD);
}

static void one_form(const cJSON *body, const form_t *form) {
    cJSON *problem = problem_new(422, "the request body is invalid");
    check(problem && !problem_has_errors(problem));
    if (form->allowed) json_reject_unknown(body, form->allowed, problem);
    for (const field_t *f = form->fields; f < form->fields + 8 && f->name; f++)
        one_field(body, f, problem);
    check(problem_has_errors(problem) == (errors(problem) > 0));

    char *text = json_print(problem);
    check(text);
    cJSON *back = cJSON_Parse(text);
    check(back && cJSON_Compare(back, problem, true));
    cJSON_Delete(back);
    cJSON_free(text);
    cJSON_Delete(problem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cJSON *body = cJSON_ParseWithLength((const char *)data, size);
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) one_form(body, &forms[i]);
    cJSON_Delete(body);
    return 0;
}
