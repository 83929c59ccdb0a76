/* etag -- versions as ETags, and the preconditions on them; see etag.h. */
#include "etag.h"

#include "http_req.h"
#include "problem.h"

#include <stdio.h>
#include <string.h>

long etag_version(const cJSON *doc) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, ETAG_FIELD);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 ? (long)v->valuedouble : 0;
}

void etag_of(const cJSON *doc, char out[32]) { snprintf(out, 32, "\"%ld\"", etag_version(doc)); }

void etag_add(http_req_t *req, const cJSON *doc) {
    char tag[32];
    etag_of(doc, tag);
    http_add_header(req, "ETag", tag);
}

/* True when the comma-separated list `header` names `tag`; weak: a W/ prefix is ignored. */
static bool names(const char *header, const char *tag, bool weak) {
    size_t n = strlen(tag);
    for (const char *p = header; *p;) {
        p += strspn(p, " \t,");
        if (!*p) break;
        bool w = strncmp(p, "W/", 2) == 0;
        if (w) p += 2;
        if ((weak || !w) && strncmp(p, tag, n) == 0 &&
            (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t'))
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

static bool star(const char *header) {
    while (*header == ' ' || *header == '\t') header++;
    return header[0] == '*' && header[1 + strspn(header + 1, " \t")] == '\0';
}

bool etag_none_match(const char *if_none_match, const char *tag) {
    return if_none_match && (star(if_none_match) || names(if_none_match, tag, true));
}

bool etag_not_modified(http_req_t *req, const cJSON *doc) {
    char tag[32];
    etag_of(doc, tag);
    if (!etag_none_match(http_header(req, "If-None-Match"), tag)) return false;
    http_add_header(req, "ETag", tag);
    http_reply_empty(req, 304);
    return true;
}

bool etag_if_match(http_req_t *req, const cJSON *doc) {
    const char *im = http_header(req, "If-Match");
    char tag[32];
    etag_of(doc, tag);
    return !im || star(im) || names(im, tag, false);
}

void etag_reply_stale(http_req_t *req, const cJSON *doc) {
    etag_add(req, doc);
    http_reply_problem(req, 412,
                       "the resource has changed since you read it (If-Match): read it again");
}

void etag_bump(cJSON *set, const cJSON *doc) {
    cJSON_DeleteItemFromObjectCaseSensitive(set, ETAG_FIELD);
    cJSON_AddNumberToObject(set, ETAG_FIELD, (double)(etag_version(doc) + 1));
}

int etag_read(store_t *s, http_req_t *req, const char *coll, const store_filter_t *f, cJSON **fresh,
              bool *stale) {
    cJSON_Delete(*fresh);
    *fresh = NULL;
    *stale = false;
    int rc = store_find_one(s, coll, f, fresh);
    if (rc == STORE_OK && !etag_if_match(req, *fresh)) {
        *stale = true;
        rc = STORE_ABORTED;
    }
    return rc;
}

int etag_read_id(store_t *s, http_req_t *req, const char *coll, const char *id, cJSON **fresh,
                 bool *stale) {
    store_filter_t *f = store_filter_new();
    store_where_str(f, "id", STORE_EQ, id);
    int rc = etag_read(s, req, coll, f, fresh, stale);
    store_filter_free(f);
    return rc;
}
