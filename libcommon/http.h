/* http -- the HTTP server every Tizza service runs on (libevent evhttp).
 *
 * Design. The server runs `threads` event loops, each with its own event_base + evhttp bound
 * to the same port with SO_REUSEPORT (libevent's advice for using several cores). A request is
 * copied out of evhttp into an http_req_t (method, path, path params, query, headers, body);
 * handlers only ever see that copy and write their answer into it, so a handler may run on
 * its loop thread (HTTP_INLINE, for fast work such as SQLite reads) or on the worker pool
 * (HTTP_OFFLOAD: password hashing, remote calls, MongoDB). An offloaded request is handed back
 * to its own loop with event_active(); only the loop thread touches evhttp.
 *
 * The server answers by itself: 404 (no route), 405 + Allow (route without that method),
 * HEAD for every GET, OPTIONS with Allow and CORS preflight, 413 (body over the limit),
 * 415 (mutation without application/json), 429 (rate limited), and the operational routes
 * /health, /ready, /metrics, /info and /openapi.yaml. Every answer carries X-Request-Id
 * (taken from the request when sane, else generated), security headers and, for allowed
 * origins, CORS headers; every request is logged as one JSON line and counted in metrics.
 *
 * SIGTERM/SIGINT: the listeners close; for `grace_ms` every answer says "Connection: close"
 * (so keep-alive clients such as a gateway stop reusing connections before they close);
 * in-flight requests get up to `drain_ms` to finish (past it, the handlers still run, but
 * their connections are closed unanswered: see http.c), then http_server_run() returns 0.
 *
 * Ownership: the server owns requests; a handler must answer exactly once (http_reply_*)
 * before it returns. Strings returned by accessors live as long as the request. */
#ifndef TIZZA_HTTP_H
#define TIZZA_HTTP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

typedef struct http_server http_server_t;
typedef struct http_req http_req_t;

typedef void (*http_handler_fn)(http_req_t *req, void *ctx);

enum http_flags {
    HTTP_INLINE = 0,
    HTTP_OFFLOAD = 1 << 0, /* run on a worker thread */
};

/* Readiness probe: return 0 when ready; else fill `why` with the failing part ("store",
 * "broker") and return -1. Called on a worker thread. */
typedef int (*http_ready_fn)(char *why, size_t why_len, void *ctx);

typedef struct {
    const char *service;      /* "auth" */
    const char *version;      /* "0.1.0" */
    const char *build_time;   /* ISO-8601 */
    const char *openapi;      /* the service's OpenAPI YAML, served at /openapi.yaml */
    const char *api_versions; /* e.g. "v1" or "v2" for /info */
    const char *host;
    int port;
    /* The variables named below: defaults, ranges and meaning in http_config_vars. */
    int threads;       /* event loops (HTTP_THREADS) */
    int workers;       /* worker threads (WORKERS) */
    size_t body_limit; /* BODY_LIMIT */
    int drain_ms;      /* DRAIN_MS */
    int grace_ms;      /* DRAIN_GRACE_MS: "Connection: close" period */
    long page_size;    /* PAGE_SIZE: a list's limit when the request gives none */
    /* connection limits and deadlines, see conn.h */
    int max_connections;        /* MAX_CONNECTIONS */
    int max_client_connections; /* MAX_CLIENT_CONNECTIONS */
    int request_timeout_ms;     /* REQUEST_TIMEOUT_MS */
    int keepalive_timeout_ms;   /* KEEPALIVE_TIMEOUT_MS */
    http_ready_fn ready;
    void *ready_ctx;
} http_config_t;

/* The variables the server reads (config.h's table): HOST, PORT, HTTP_THREADS, WORKERS,
 * BODY_LIMIT, DRAIN_MS, DRAIN_GRACE_MS, PAGE_SIZE here, CORS_ORIGINS, PUBLIC_URL and
 * TRUSTED_PROXIES in http_server_new(); conn_config_vars (conn.h) has the connection limits. */
extern const config_var_t http_config_vars[];

/* Declares http_config_vars and conn_config_vars, makes default_port PORT's default, and
 * fills cfg for `service` from them (config.h semantics: invalid values exit 2). */
void http_config_from_env(http_config_t *cfg, const char *service, int default_port);

http_server_t *http_server_new(const http_config_t *cfg);
void http_server_free(http_server_t *srv);

/* Registers `method` ("GET", "POST", "PUT", "PATCH", "DELETE") on `pattern`, e.g.
 * "/api/v1/users/{id}". A `{name}` segment matches one non-empty path segment, whose
 * percent-decoded value is http_param(req, "name"). Of the patterns that match a path, the
 * one with the fewest parameters wins ("/likes/seen" before "/likes/{id}"); the rules are
 * route.h's. Returns 0; aborts on an unknown method, a malformed pattern or a method
 * registered twice on one pattern (programming errors). */
int http_route(http_server_t *srv, const char *method, const char *pattern, http_handler_fn fn,
               void *ctx, int flags);

/* Binds, serves until SIGTERM/SIGINT (or http_server_stop), drains. Returns 0 on a clean
 * stop, -1 when it could not bind (logged). */
int http_server_run(http_server_t *srv);
/* Asks a running server to stop, from any thread (same path as SIGTERM). */
void http_server_stop(http_server_t *srv);
/* The port actually bound (useful with PORT=0), valid once the server runs. */
int http_server_port(const http_server_t *srv);

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
 * is in TRUSTED_PROXIES. */
const char *http_client_addr(const http_req_t *req);
const char *http_request_id(const http_req_t *req);
const char *http_body(const http_req_t *req, size_t *len);
/* Parses the body as a JSON object. On failure answers 400 (problem) and returns NULL.
 * The result is owned by the request. */
cJSON *http_json_body(http_req_t *req);
/* Absolute URL for `path_and_query` as the client sees this server (Host header,
 * X-Forwarded-Proto/-Host from trusted proxies). malloc'd. */
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
/* Problem details; takes ownership of `problem` (see problem.h). */
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

/* ---- pagination (limit/offset like Django REST framework) ---- */
typedef struct {
    long limit, offset;
} http_page_t;
/* Reads ?limit= (1..100, default PAGE_SIZE) and ?offset= (>= 0, default 0), decimal
 * digits only (query.h, query_page). On a bad value answers 400 and returns -1. */
int http_page_params(http_req_t *req, http_page_t *page);
/* Replies 200 {"count","next","previous","results"} with absolute next/previous URLs that
 * keep the other query parameters. Takes ownership of `results` (an array). */
void http_reply_page(http_req_t *req, const http_page_t *page, long count, cJSON *results);
/* The same page object without replying, for lists that add members of their own. */
cJSON *http_page_body(const http_req_t *req, const http_page_t *page, long count, cJSON *results);

/* ---- rate limiting (see ratelimit.h), per client address ----
 * Limits `method pattern` by the variable RATE_LIMIT_<NAME> (NAME is `name` upper-cased, '-'
 * as '_'), a CONFIG_RATE row the service declares with its default: per_minute[/burst],
 * 0 disables. Routes given the same `name` share one limiter. Over the limit: 429 with
 * Retry-After. */
void http_rate_limit(http_server_t *srv, const char *method, const char *pattern, const char *name);

#endif
