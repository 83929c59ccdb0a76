/* remote -- the remote model client, on libcurl.
 *
 * A remote model is an entity served by another Tizza service at
 * {base}/api/{version}/{entity}: e.g. remote_model_t pizzas = {PIZZA_URL, "v1", "pizzas"}.
 * Calls are synchronous and are made from worker threads (handlers registered with
 * HTTP_OFFLOAD, or the continuation a handler passes to http_finish_on_worker()), never
 * from an event-loop thread. Each thread keeps its own curl easy handle,
 * so connections are kept alive and reused between calls of that thread.
 *
 * Robustness (the settings' defaults and ranges: remote_config_vars in remote.c):
 *  - connect and total timeouts from REMOTE_CONNECT_TIMEOUT_MS and REMOTE_TIMEOUT_MS;
 *  - idempotent requests (GET, PUT, DELETE) are retried up to REMOTE_RETRIES times with
 *    jittered exponential backoff, only on connection errors, timeouts and 502/503/504
 *    -- never on 429 or any other 4xx;
 *  - a circuit breaker per base URL opens after REMOTE_BREAKER_FAILURES consecutive
 *    failures, fails fast while open, and half-opens after REMOTE_BREAKER_COOLDOWN_MS: one
 *    trial call closes or re-opens it;
 *  - each call forwards the inbound request's Authorization and X-Request-Id; with tracing
 *    off its traceparent too (a traceparent is made when the inbound request had none),
 *    with tracing on (trace.h) each call is a client span whose traceparent and tracestate
 *    are sent;
 *  - a memo (one per inbound request) makes one entity be fetched once per request.
 * Every failure becomes a remote_err the handler maps to an HTTP answer (remote_reply_error).
 * Metrics: tizza_remote_requests_total{target,method,result} and
 * tizza_remote_request_duration_seconds{target,method}, tizza_remote_breaker_open{target}. */
#ifndef TIZZA_REMOTE_H
#define TIZZA_REMOTE_H

#include "http.h"
#include <cjson/cJSON.h>

typedef struct {
    const char *base;    /* "http://127.0.0.1:8002" (no trailing slash) */
    const char *version; /* "v1" */
    const char *entity;  /* "pizzas" */
} remote_model_t;

enum remote_err {
    REMOTE_OK = 0,
    REMOTE_NOT_FOUND = 1,    /* 404: the entity does not exist */
    REMOTE_REJECTED = 2,     /* another 4xx (400/403/409/422/429...): see status */
    REMOTE_UNAUTHORIZED = 3, /* 401: the caller's forwarded credentials were refused (the
                              * account was erased there first, the token expired between
                              * the two checks) */
    REMOTE_UNAVAILABLE = -1, /* connection refused/timeout/5xx/breaker open/bad JSON */
};

typedef struct {
    int status;      /* HTTP status, 0 when no answer */
    cJSON *body;     /* parsed JSON body (owned by the caller of the call), or NULL */
    char error[160]; /* human-readable reason for logs */
} remote_result_t;

/* Per-inbound-request context: what to forward, and the memo. */
typedef struct remote_ctx remote_ctx_t;
/* From an inbound request (copies Authorization, X-Request-Id, traceparent). */
remote_ctx_t *remote_ctx_new(const http_req_t *inbound);
/* The same from plain values, for callers without an inbound request (event consumers) and
 * tests; any argument may be NULL (a request id and a traceparent are then generated).
 * Values that are not safe header text are dropped. remote_ctx_new(req) calls this. */
remote_ctx_t *remote_ctx_new_with(const char *authorization, const char *request_id,
                                  const char *traceparent);
/* The parent of the client spans of this ctx's calls (trace.h), e.g. a consumer span's
 * context; remote_ctx_new(req) sets http_trace(req). With tracing on, each call is a client
 * span, child of it (or of the traceparent given to remote_ctx_new_with, else of nothing),
 * whose context is the traceparent sent. */
void remote_ctx_set_trace(remote_ctx_t *ctx, const trace_ctx_t *parent);
void remote_ctx_free(remote_ctx_t *ctx);

/* GET {base}/api/{version}/{entity}/{id}; *out = the entity (caller frees). Memoised. */
int remote_get(remote_ctx_t *ctx, const remote_model_t *m, const char *id, cJSON **out);
/* GET ...?ids=a,b,c (one request per QUERY_IDS_MAX ids, query.h): *out = array of the
 * entities found (caller frees); ids not found are simply absent. Fills the memo. */
int remote_get_many(remote_ctx_t *ctx, const remote_model_t *m, const char *const *ids, int n,
                    cJSON **out);
/* GET ...?{query} (query already encoded, e.g. "owner_id=abc&limit=100"); *out = the parsed
 * body (a page object for lists). */
int remote_filter(remote_ctx_t *ctx, const remote_model_t *m, const char *query, cJSON **out);
/* Same, for a path below the entity, e.g. path "seen" -> {base}/api/{v}/{entity}/seen. */
int remote_get_path(remote_ctx_t *ctx, const remote_model_t *m, const char *path, const char *query,
                    cJSON **out);
/* POST {base}/api/{v}/{entity} with body; *out = created entity. Not retried. */
int remote_create(remote_ctx_t *ctx, const remote_model_t *m, const cJSON *body, cJSON **out);
/* PATCH .../{id}; not retried. */
int remote_update(remote_ctx_t *ctx, const remote_model_t *m, const char *id, const cJSON *body,
                  cJSON **out);
/* DELETE .../{id}; retried (idempotent). */
int remote_delete(remote_ctx_t *ctx, const remote_model_t *m, const char *id);

/* Status of the last failing call on this ctx (0 when none) and its reason. */
int remote_last_status(const remote_ctx_t *ctx);
const char *remote_last_error(const remote_ctx_t *ctx);

/* Maps an error to an answer: NOT_FOUND -> 422 "<what> does not exist", UNAVAILABLE -> 503
 * "<service> is unavailable" (+ Retry-After), UNAUTHORIZED -> 401 (+ WWW-Authenticate:
 * Bearer: the caller's own credentials are no longer good), REJECTED -> 502 (the dependency
 * refused our call: a bug or a configuration error). */
void remote_reply_error(http_req_t *req, int err, const char *what, const char *service);

/* The REMOTE_* settings: defaults, ranges and meaning (config.h's table). A service that
 * makes remote calls lists it in its service_def_t.config. */
extern const config_var_t remote_config_vars[];

/* Declares remote_config_vars and reads them (a bad value exits 2). Call once at start;
 * else the first remote call does. */
void remote_config_from_env(void);

#endif
