/* http -- the HTTP server every Tizza service runs on (libevent evhttp).
 *
 * Design. The server runs `threads` event loops, each with its own event_base + evhttp bound
 * to the same port with SO_REUSEPORT (libevent's advice for using several cores). A request is
 * copied out of evhttp into an http_req_t (http_req.h); handlers only ever see that copy and
 * write their answer into it, so a handler may run on its loop thread (HTTP_INLINE, for fast
 * work such as SQLite reads) or on the worker pool (HTTP_OFFLOAD: password hashing, remote
 * calls, MongoDB). An offloaded request is handed back to its own loop with event_active();
 * only the loop thread touches evhttp.
 *
 * The parts, one concern each: this file's server (loops, workers, signals, the written
 * answer); http_req.h (a request and its answer); http_router.h (routes, and what the server
 * answers by itself: 404, 405 + Allow, OPTIONS and CORS preflight, 413, 415, 429);
 * http_origin.h (trusted proxies, public URL, CORS origins); http_page.h (lists in pages);
 * http_builtin.h (/health, /ready, /metrics, /info, /openapi.yaml). Including this header
 * brings the public ones.
 *
 * Every answer carries X-Request-Id (taken from the request when sane, else generated),
 * security headers (X-Content-Type-Options, X-Frame-Options, Referrer-Policy,
 * Cache-Control: no-store) and, for allowed origins, CORS headers; every request is logged as
 * one JSON line and counted in metrics. A handler that returns without answering gets a 500.
 *
 * SIGTERM/SIGINT: the listeners close; for `grace_ms` every answer says "Connection: close"
 * (so keep-alive clients such as a gateway stop reusing connections before they close);
 * in-flight requests get up to `drain_ms` to finish (past it, the handlers still run, but
 * their connections are closed unanswered: see http.c), then http_server_run() returns 0. */
#ifndef TIZZA_HTTP_H
#define TIZZA_HTTP_H

#include <stddef.h>

#include "config.h"
#include "http_page.h"
#include "http_req.h"
#include "http_router.h"

typedef struct http_server http_server_t;

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
    int threads;         /* event loops (HTTP_THREADS) */
    int workers;         /* worker threads (WORKERS) */
    size_t body_limit;   /* BODY_LIMIT */
    size_t upload_limit; /* UPLOAD_LIMIT: the body limit of HTTP_UPLOAD routes */
    int drain_ms;        /* DRAIN_MS */
    int grace_ms;        /* DRAIN_GRACE_MS: "Connection: close" period */
    long page_size;      /* PAGE_SIZE: a list's limit when the request gives none */
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

/* Binds, serves until SIGTERM/SIGINT (or http_server_stop), drains. Returns 0 on a clean
 * stop, -1 when it could not bind (logged). */
int http_server_run(http_server_t *srv);
/* Asks a running server to stop, from any thread (same path as SIGTERM). */
void http_server_stop(http_server_t *srv);
/* The port actually bound (useful with PORT=0), valid once the server runs. */
int http_server_port(const http_server_t *srv);

#endif
