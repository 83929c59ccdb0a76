/* http_req -- a request as a handler sees it, and its answer.
 *
 * The server copies everything a handler may read out of evhttp into an http_req_t (method,
 * path, path parameters, query, headers, body, addresses), so a handler may run on any
 * thread and never touches libevent. Accessors may be called from any thread; the strings
 * they return live as long as the request.
 *
 * A handler answers exactly once (http_reply_*) before it returns, or hands the request on
 * with http_finish_on_worker(). A second answer is logged and dropped. The answer is only
 * recorded here; the server writes it (http.c), adding the common headers (X-Request-Id,
 * security headers, CORS). */
#ifndef TIZZA_HTTP_REQ_H
#define TIZZA_HTTP_REQ_H

#include "trace.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct http_req http_req_t;

/* ---- request accessors (any thread) ---- */
const char *http_method(const http_req_t *req);
const char *http_path(const http_req_t *req);
/* The matched route pattern, e.g. "/api/v1/users/{id}" (used as the metrics label). */
const char *http_route_pattern(const http_req_t *req);
const char *http_param(const http_req_t *req, const char *name);
/* Query parameter `name`, first occurrence, or NULL (how the query string reads: query.h). */
const char *http_query(const http_req_t *req, const char *name);
const char *http_header(const http_req_t *req, const char *name);
/* Value of cookie `name` from the Cookie header, or NULL. */
const char *http_cookie(const http_req_t *req, const char *name);
/* Client address: the peer, or the first untrusted hop of X-Forwarded-For when the peer
 * is in TRUSTED_PROXIES (http_origin.h). */
const char *http_client_addr(const http_req_t *req);
const char *http_request_id(const http_req_t *req);
/* The context of the request's server span (trace.h): the parent of the spans a handler
 * starts and what it propagates (remote.h does). Its trace is the caller's when the request
 * carried a valid traceparent, else a new one. NULL when tracing is off, and for paths
 * outside /api/ (probes and scrapes are not traced). */
const trace_ctx_t *http_trace(const http_req_t *req);
const char *http_body(const http_req_t *req, size_t *len);
/* Parses the body as a JSON object. On failure answers 400 (problem) and returns NULL.
 * The result is owned by the request. */
cJSON *http_json_body(http_req_t *req);
/* Absolute URL for `path_and_query` as the client sees this server (PUBLIC_URL, else a
 * trusted proxy's X-Forwarded-Proto/-Host, else the address connected to: http_origin.h).
 * malloc'd. */
char *http_absolute_url(const http_req_t *req, const char *path_and_query);
/* Per-request slot for handler state (e.g. the authenticated caller); freed with `fr`. */
void http_set_user_data(http_req_t *req, void *data, void (*fr)(void *));
void *http_user_data(const http_req_t *req);

/* ---- answering (exactly once per request) ---- */
/* Adds a response header (may repeat, e.g. Set-Cookie). */
void http_add_header(http_req_t *req, const char *name, const char *value);
/* 2xx/any JSON; takes ownership of `body`. */
void http_reply_json(http_req_t *req, int status, cJSON *body);
/* No body (204, 202 without body, ...). */
void http_reply_empty(http_req_t *req, int status);
/* Raw body with content type (copied). */
void http_reply_raw(http_req_t *req, int status, const char *content_type, const char *body,
                    size_t len);
/* Problem details, application/problem+json, its status the problem's "status" (500 when
 * that is not 400-599); takes ownership of `problem` (see problem.h). */
void http_reply_problem_obj(http_req_t *req, cJSON *problem);
/* Shorthand: problem_new(status, detail) and reply. */
void http_reply_problem(http_req_t *req, int status, const char *detail);
/* The end of a validation that collected field errors into `problem` (problem.h): when it
 * has any, answers it (its own status, 400 for a problem_new(400, ...)) and returns -1;
 * otherwise frees it and returns 0. Takes ownership of `problem` either way. */
int http_reply_if_invalid(http_req_t *req, cJSON *problem);
/* Adds "Location: <http_absolute_url(path)>", the one way a created resource is named; the
 * path is printf(fmt, ...), e.g. ("/api/v1/users/%s", id). */
void http_add_location(http_req_t *req, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool http_replied(const http_req_t *req);
/* For a handler registered HTTP_INLINE whose request turns out to need slow work after its
 * fast part (e.g. a remote call for ?expand= after the token check and the store reads):
 * fn(req, arg) finishes the request on a worker thread once the handler has returned, and
 * must answer; arg belongs to fn. The handler returns at once without answering. Called on
 * a worker already (an HTTP_OFFLOAD route), fn runs at once, before this returns. */
typedef void (*http_worker_fn)(http_req_t *req, void *arg);
void http_finish_on_worker(http_req_t *req, http_worker_fn fn, void *arg);

#endif
