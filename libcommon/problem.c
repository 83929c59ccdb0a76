/* problem.c -- RFC 9457 problem details as cJSON objects.
 *
 * problem_new() builds {"type":"about:blank","title":<reason phrase>,"status":N,
 * "detail":...}. "detail" is always present so clients can rely on the shape: when the
 * caller has nothing to add it repeats the title. Tizza-specific problem types are set by
 * the caller replacing "type". Field errors go to an "errors" array of {"field","message"},
 * created on first use. Allocation failures leave a smaller object rather than crashing;
 * problem_new() returns NULL only when the object itself cannot be allocated. */
#include "problem.h"

#include <stddef.h>

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

const char *problem_title(int status) {
    for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++)
        if (titles[i].status == status) return titles[i].title;
    return "Error";
}

cJSON *problem_new(int status, const char *detail) {
    cJSON *p = cJSON_CreateObject();
    if (!p) return NULL;
    const char *title = problem_title(status);
    cJSON_AddStringToObject(p, "type", "about:blank");
    cJSON_AddStringToObject(p, "title", title);
    cJSON_AddNumberToObject(p, "status", status);
    cJSON_AddStringToObject(p, "detail", detail ? detail : title);
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
    if (!errors || !e) {
        cJSON_Delete(e);
        return;
    }
    cJSON_AddStringToObject(e, "field", field ? field : "");
    cJSON_AddStringToObject(e, "message", message ? message : "is invalid");
    if (!cJSON_AddItemToArray(errors, e)) cJSON_Delete(e);
}

int problem_has_errors(const cJSON *problem) {
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(problem, "errors");
    return cJSON_IsArray(errors) && cJSON_GetArraySize(errors) > 0;
}
