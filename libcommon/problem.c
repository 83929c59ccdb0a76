/* problem.c -- RFC 9457 problem details as cJSON objects.
 *
 * problem_new() builds {"type":"about:blank","title":<reason phrase>,"status":N,
 * "detail":...}. "detail" is always present so clients can rely on the shape: when the
 * caller has nothing to add it repeats the title. Tizza-specific problem types are set by
 * the caller replacing "type". Field errors go to an "errors" array of {"field","message"},
 * created on first use. A field name, message or detail that is not valid UTF-8 (a member
 * name echoed from a request body, say) is stored with U+FFFD for each bad byte (utf8_scrub),
 * so a problem document is always valid JSON text. Allocation failures leave a smaller
 * object rather than crashing; problem_new() returns NULL only when the object itself cannot
 * be allocated. */
#include "problem.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    int status;
    const char *title;
} titles[] = {
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {415, "Unsupported Media Type"},
    {417, "Expectation Failed"},
    {422, "Unprocessable Content"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
};

/* cJSON_AddStringToObject with `value` made valid UTF-8 first. */
static void add_text(cJSON *obj, const char *name, const char *value) {
    size_t n = strlen(value);
    if (utf8_len(value, n) >= 0) {
        cJSON_AddStringToObject(obj, name, value);
        return;
    }
    char *clean = utf8_scrub(value, n, NULL);
    cJSON_AddStringToObject(obj, name, clean);
    free(clean);
}

const char *problem_title(int status) {
    for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++)
        if (titles[i].status == status) return titles[i].title;
    return "Error";
}

cJSON *problem_new(int status, const char *detail) {
    cJSON *p = cJSON_CreateObject();
    const char *title = problem_title(status);
    cJSON_AddStringToObject(p, "type", "about:blank");
    cJSON_AddStringToObject(p, "title", title);
    cJSON_AddNumberToObject(p, "status", status);
    add_text(p, "detail", detail ? detail : title);
    return p;
}

void problem_add_error(cJSON *problem, const char *field, const char *message) {
    if (!problem) return;
    cJSON *errors = cJSON_GetObjectItemCaseSensitive(problem, "errors");
    if (errors && !cJSON_IsArray(errors)) {
        cJSON_DeleteItemFromObjectCaseSensitive(problem, "errors");
        errors = NULL;
    }
    if (!errors) errors = cJSON_AddArrayToObject(problem, "errors");
    cJSON *e = cJSON_CreateObject();
    add_text(e, "field", field ? field : "");
    add_text(e, "message", message ? message : "is invalid");
    cJSON_AddItemToArray(errors, e);
}

int problem_has_errors(const cJSON *problem) {
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(problem, "errors");
    return cJSON_IsArray(errors) && cJSON_GetArraySize(errors) > 0;
}
