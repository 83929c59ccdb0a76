/* http_page -- lists in pages, limit/offset like Django REST framework.
 *
 * A list answers {"count", "next", "previous", "results"}: count is every match, results
 * one page of them, next and previous absolute URLs (http_absolute_url) of the neighbouring
 * pages or null. A link is the request's path and query with limit and offset replaced:
 * the other parameters are kept in order (re-encoded), then limit=, then offset= when > 0.
 * previous of a page that starts before `limit` is the first page. */
#ifndef TIZZA_HTTP_PAGE_H
#define TIZZA_HTTP_PAGE_H

#include <cjson/cJSON.h>

typedef struct http_req http_req_t;

typedef struct {
    long limit, offset;
} http_page_t;

/* Reads ?limit= (1..100, default PAGE_SIZE) and ?offset= (>= 0, default 0), decimal
 * digits only (query.h, query_page). On a bad value answers 400 (errors[] naming limit
 * and/or offset) and returns -1. */
int http_page_params(http_req_t *req, http_page_t *page);
/* Replies 200 with the page object. Takes ownership of `results` (an array). */
void http_reply_page(http_req_t *req, const http_page_t *page, long count, cJSON *results);
/* The same page object without replying, for lists that add members of their own. */
cJSON *http_page_body(const http_req_t *req, const http_page_t *page, long count, cJSON *results);

#endif
