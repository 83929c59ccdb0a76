/* http_router -- the server's routes, and what it answers before any handler runs.
 *
 * Routes are route.h's table: a pattern such as "/api/v1/users/{id}" with up to five methods
 * (GET, POST, PUT, PATCH, DELETE), each a handler, where it runs (HTTP_INLINE on the loop
 * thread, HTTP_OFFLOAD on a worker) and an optional rate limit. The server answers by
 * itself, in this order, each as a problem+json document (problem.h) unless said otherwise:
 *
 *   404  no route matches the path ("no such resource");
 *   204  OPTIONS on a route: Allow; with an allowed Origin (http_origin.h) and
 *        Access-Control-Request-Method, a CORS preflight: Access-Control-Allow-Methods (the
 *        Allow list), -Allow-Headers, -Max-Age 600;
 *   405  the route lacks the method, with Allow ("GET, HEAD, POST, OPTIONS": route_allow());
 *        HEAD is served by GET's handler (the server drops the body);
 *   429  the route's rate limit refuses the client address, with Retry-After;
 *   413  a body over BODY_LIMIT ("request body is over the limit of N bytes"; wire.h refuses
 *        a longer Content-Length before, so this is the second line);
 *   415  a POST, PUT or PATCH with a body whose Content-Type is not application/json
 *        (parameters such as "; charset=utf-8" allowed); a mutation without a body needs none.
 *
 * Otherwise the request goes to its handler, with its path parameters decoded. */
#ifndef TIZZA_HTTP_ROUTER_H
#define TIZZA_HTTP_ROUTER_H

#include <stdbool.h>

typedef struct http_server http_server_t;
typedef struct http_req http_req_t;

typedef void (*http_handler_fn)(http_req_t *req, void *ctx);

enum http_flags {
    HTTP_INLINE = 0,
    HTTP_OFFLOAD = 1 << 0, /* run on a worker thread */
    /* a body of any type up to UPLOAD_LIMIT bytes (not BODY_LIMIT, not only JSON): the
     * handler checks its Content-Type and bytes */
    HTTP_UPLOAD = 1 << 1,
};

/* Registers `method` ("GET", "POST", "PUT", "PATCH", "DELETE") on `pattern`, e.g.
 * "/api/v1/users/{id}". A `{name}` segment matches one non-empty path segment, whose
 * percent-decoded value is http_param(req, "name"). Of the patterns that match a path, the
 * one with the fewest parameters wins ("/likes/seen" before "/likes/{id}"); the rules are
 * route.h's. Returns 0; aborts on an unknown method, a malformed pattern or a method
 * registered twice on one pattern (programming errors). */
int http_route(http_server_t *srv, const char *method, const char *pattern, http_handler_fn fn,
               void *ctx, int flags);

/* Limits `method pattern` per client address (see ratelimit.h) by the variable
 * RATE_LIMIT_<NAME> (NAME is `name` upper-cased, '-' as '_'), a CONFIG_RATE row the service
 * declares with its default: per_minute[/burst], 0 disables. Routes given the same `name`
 * share one limiter. Over the limit: 429 with Retry-After. Aborts when the route does not
 * exist. */
void http_rate_limit(http_server_t *srv, const char *method, const char *pattern, const char *name);

/* For http.c: routes `req` (its parameters into http_param) and answers what the list above
 * answers. Returns 1 when req is answered, else 0 (its handler is then known). */
int http_dispatch(http_req_t *req);
/* For http.c: whether `method` on `target` (a request target, its query ignored) is a route
 * registered with HTTP_UPLOAD (wire_upload_fn's shape; ctx is the server). */
bool http_is_upload(const char *method, const char *target, void *srv);
/* For http.c: frees the routes' entries and the named rate limits. */
void http_router_free(http_server_t *srv);

#endif
