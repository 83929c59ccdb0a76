/* http_router -- routes to handlers and the server's own answers (contract: http_router.h).
 *
 * A route's method data (route.h) is a struct method_entry (http_internal.h). Named rate
 * limits are made on their first use and shared by the routes naming them. */
#include "http_router.h"

#include "alloc.h"
#include "config.h"
#include "http_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int http_route(http_server_t *srv, const char *method, const char *pattern, http_handler_fn fn,
               void *ctx, int flags) {
    struct method_entry *m = xcalloc(1, sizeof *m);
    m->fn = fn;
    m->ctx = ctx;
    m->flags = flags;
    /* programming errors: an unknown method, a malformed pattern, a method twice */
    if (route_add(srv->routes, method, pattern, m) != 0) abort();
    return 0;
}

/* The named limiter, created on first use from RATE_LIMIT_<NAME> (its row, declared by the
 * service, holds the default). */
static ratelimit_t *named_limit(http_server_t *srv, const char *name) {
    for (int i = 0; i < srv->nlimits; i++)
        if (strcmp(srv->limits[i].name, name) == 0) return srv->limits[i].rl;
    char var[96] = "RATE_LIMIT_";
    size_t off = strlen(var);
    for (const char *p = name; *p && off < sizeof var - 1; p++)
        var[off++] = (*p >= 'a' && *p <= 'z') ? (char)(*p - 32) : (*p == '-' ? '_' : *p);
    var[off] = '\0';
    double per_minute = 0, burst = 0;
    config_rate(var, &per_minute, &burst);
    if (srv->nlimits == (int)(sizeof srv->limits / sizeof srv->limits[0])) abort();
    srv->limits[srv->nlimits].name = xstrdup(name);
    srv->limits[srv->nlimits].rl = per_minute > 0 ? ratelimit_new(per_minute, burst) : NULL;
    return srv->limits[srv->nlimits++].rl;
}

void http_rate_limit(http_server_t *srv, const char *method, const char *pattern,
                     const char *name) {
    route_t *r = route_find(srv->routes, pattern);
    struct method_entry *m = r ? route_method(r, method) : NULL;
    if (!m) abort(); /* programming error: limit a route that exists */
    m->limit = named_limit(srv, name);
}

void http_router_free(http_server_t *srv) {
    route_table_free(srv->routes, free);
    srv->routes = NULL;
    for (int i = 0; i < srv->nlimits; i++) {
        free(srv->limits[i].name);
        if (srv->limits[i].rl) ratelimit_free(srv->limits[i].rl);
    }
    srv->nlimits = 0;
}

bool http_is_upload(const char *method, const char *target, void *srv) {
    const http_server_t *s = srv;
    size_t n = strcspn(target, "?#");
    char *path = xstrndup(target, n);
    route_param_t params[ROUTE_MAX_SEGS];
    int np;
    const route_t *r = route_match(s->routes, path, params, &np);
    const struct method_entry *e = r ? route_method(r, method) : NULL;
    free(path);
    return e && (e->flags & HTTP_UPLOAD);
}

/* The route for the request's path, its parameters decoded into req->params. */
static const route_t *route_request(http_req_t *req) {
    route_param_t params[ROUTE_MAX_SEGS];
    int n;
    const route_t *r = route_match(req->srv->routes, req->path, params, &n);
    for (int i = 0; i < n; i++) {
        char *v = route_param_value(req->path, &params[i]);
        kv_add(&req->params, params[i].name, v);
        free(v);
    }
    return r;
}

static int content_type_is_json(const char *ct) {
    if (!ct) return 0;
    while (*ct == ' ') ct++;
    size_t n = strlen("application/json");
    if (strncasecmp(ct, "application/json", n) != 0) return 0;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* OPTIONS: Allow, and a CORS preflight's headers for an allowed origin. */
static void answer_options(http_req_t *req, const char *allow) {
    http_add_header(req, "Allow", allow);
    bool credentials;
    if (http_origin_cors(req->srv->origin, http_header(req, "Origin"), &credentials) &&
        http_header(req, "Access-Control-Request-Method")) {
        http_add_header(req, "Access-Control-Allow-Methods", allow);
        http_add_header(req, "Access-Control-Allow-Headers",
                        "Content-Type, Authorization, X-Request-Id, traceparent");
        http_add_header(req, "Access-Control-Max-Age", "600");
    }
    http_reply_empty(req, 204);
}

int http_dispatch(http_req_t *req) {
    const route_t *r = req->route = route_request(req);
    if (!r) {
        http_reply_problem(req, 404, "no such resource");
        return 1;
    }
    char allow[ROUTE_ALLOW_MAX];
    route_allow(r, allow, sizeof allow);
    if (strcmp(req->method, "OPTIONS") == 0) {
        answer_options(req, allow);
        return 1;
    }
    const char *m = strcmp(req->method, "HEAD") == 0 ? "GET" : req->method;
    req->entry = route_method(r, m);
    if (!req->entry) {
        http_add_header(req, "Allow", allow);
        http_reply_problem(req, 405, "method not allowed on this resource");
        return 1;
    }
    if (req->entry->limit) {
        int retry = 1;
        if (!ratelimit_take(req->entry->limit, req->client, &retry)) {
            char s[16];
            snprintf(s, sizeof s, "%d", retry);
            http_add_header(req, "Retry-After", s);
            http_reply_problem(req, 429, "too many requests; try again later");
            return 1;
        }
    }
    int mutation = !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH");
    bool upload = req->entry->flags & HTTP_UPLOAD;
    size_t limit = upload ? req->srv->cfg.upload_limit : req->srv->cfg.body_limit;
    if (req->body_len > limit) {
        char d[96];
        snprintf(d, sizeof d, "request body is over the limit of %zu bytes", limit);
        http_reply_problem(req, 413, d);
        return 1;
    }
    if (mutation && !upload && req->body_len &&
        !content_type_is_json(http_header(req, "Content-Type"))) {
        http_reply_problem(req, 415, "request body must be application/json");
        return 1;
    }
    return 0;
}
