/* http_page -- the page parameters and the page object (contract: http_page.h). */
#include "http_page.h"

#include "alloc.h"
#include "http_internal.h"
#include "problem.h"
#include "query.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

int http_page_params(http_req_t *req, http_page_t *page) {
    page->limit = req->srv->cfg.page_size;
    page->offset = 0;
    int bad = query_page(http_query(req, "limit"), http_query(req, "offset"), &page->limit,
                         &page->offset);
    if (!bad) return 0; /* no problem object for the common case */
    cJSON *p = problem_new(400, "invalid pagination parameters");
    if (bad & QUERY_BAD_LIMIT) problem_add_error(p, "limit", "must be an integer from 1 to 100");
    if (bad & QUERY_BAD_OFFSET) problem_add_error(p, "offset", "must be a non-negative integer");
    return http_reply_if_invalid(req, p);
}

/* The request's path + query with limit/offset replaced (offset omitted when <= 0). */
static char *page_link(const http_req_t *req, long limit, long offset) {
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "%s?", req->path);
    int first = 1;
    for (int i = 0; i < req->query.n; i++) {
        const struct kv *q = &req->query.items[i];
        if (!strcmp(q->k, "limit") || !strcmp(q->k, "offset")) continue;
        char *k = evhttp_uriencode(q->k, -1, 0), *v = evhttp_uriencode(q->v, -1, 0);
        evbuffer_add_printf(b, "%s%s=%s", first ? "" : "&", k, v);
        free(k);
        free(v);
        first = 0;
    }
    evbuffer_add_printf(b, "%slimit=%ld", first ? "" : "&", limit);
    if (offset > 0) evbuffer_add_printf(b, "&offset=%ld", offset);
    evbuffer_add(b, "", 1);
    char *rel = xstrdup((const char *)evbuffer_pullup(b, -1));
    evbuffer_free(b);
    char *abs = http_absolute_url(req, rel);
    free(rel);
    return abs;
}

cJSON *http_page_body(const http_req_t *req, const http_page_t *page, long count, cJSON *results) {
    cJSON *body = cJSON_CreateObject();
    cJSON_AddNumberToObject(body, "count", (double)count);
    if (page->offset + page->limit < count) {
        char *next = page_link(req, page->limit, page->offset + page->limit);
        cJSON_AddStringToObject(body, "next", next);
        free(next);
    } else {
        cJSON_AddNullToObject(body, "next");
    }
    if (page->offset > 0) {
        long prev = page->offset - page->limit;
        char *link = page_link(req, page->limit, prev > 0 ? prev : 0);
        cJSON_AddStringToObject(body, "previous", link);
        free(link);
    } else {
        cJSON_AddNullToObject(body, "previous");
    }
    cJSON_AddItemToObject(body, "results", results);
    return body;
}

void http_reply_page(http_req_t *req, const http_page_t *page, long count, cJSON *results) {
    http_reply_json(req, 200, http_page_body(req, page, count, results));
}
