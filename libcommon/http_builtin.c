/* http_builtin -- /health, /ready, /metrics, /info and /openapi.yaml (contract:
 * http_builtin.h). Each handler's ctx is the server. */
#include "http_builtin.h"

#include "http_internal.h"
#include "metrics.h"
#include "problem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void h_health(http_req_t *req, void *ctx) {
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "status", "ok");
    http_reply_json(req, 200, b);
}

static void h_ready(http_req_t *req, void *ctx) {
    http_server_t *srv = ctx;
    char why[256] = "";
    if (srv->cfg.ready && srv->cfg.ready(why, sizeof why, srv->cfg.ready_ctx) != 0) {
        cJSON *p = problem_new(503, why[0] ? why : "not ready");
        cJSON_AddStringToObject(p, "failing", why[0] ? why : "unknown");
        http_reply_problem_obj(req, p);
        return;
    }
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "status", "ready");
    http_reply_json(req, 200, b);
}

static void h_metrics(http_req_t *req, void *ctx) {
    size_t len = 0;
    char *text = metrics_render(&len);
    http_reply_raw(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

static void h_openapi(http_req_t *req, void *ctx) {
    http_server_t *srv = ctx;
    const char *y = srv->cfg.openapi ? srv->cfg.openapi : "";
    http_reply_raw(req, 200, "application/yaml; charset=utf-8", y, strlen(y));
}

/* "get, post, ..." of the routes under prefix, in the order GET POST PUT PATCH DELETE. */
static void version_methods(const route_table_t *routes, const char *prefix, char *out,
                            size_t size) {
    static const char *order[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    out[0] = '\0';
    for (size_t o = 0; o < sizeof order / sizeof order[0]; o++) {
        int found = 0;
        for (int i = 0; i < route_count(routes) && !found; i++) {
            const route_t *r = route_at(routes, i);
            found =
                strncmp(route_pattern(r), prefix, strlen(prefix)) == 0 && route_method(r, order[o]);
        }
        if (!found) continue;
        char lower[8];
        size_t k = 0;
        for (; order[o][k] && k < sizeof lower - 1; k++)
            lower[k] =
                (char)(order[o][k] >= 'A' && order[o][k] <= 'Z' ? order[o][k] + 32 : order[o][k]);
        lower[k] = '\0';
        if (out[0]) strncat(out, ", ", size - strlen(out) - 1);
        strncat(out, lower, size - strlen(out) - 1);
    }
}

static void h_info(http_req_t *req, void *ctx) {
    http_server_t *srv = ctx;
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "name", srv->cfg.service);
    cJSON_AddStringToObject(b, "version", srv->cfg.version);
    cJSON_AddStringToObject(b, "buildtime", srv->cfg.build_time);
    cJSON_AddStringToObject(b, "instance", srv->instance);
    cJSON *rows = cJSON_AddArrayToObject(b, "api_version");
    int nv = 0;
    char **versions = http_split_list(srv->cfg.api_versions, &nv);
    for (int v = 0; v < nv; v++) {
        char prefix[64], methods[64];
        snprintf(prefix, sizeof prefix, "/api/%s", versions[v]);
        version_methods(srv->routes, prefix, methods, sizeof methods);
        cJSON *row = cJSON_CreateObject();
        cJSON_AddStringToObject(row, "version", versions[v]);
        cJSON_AddStringToObject(row, "buildtime", srv->cfg.build_time);
        cJSON_AddStringToObject(row, "links", prefix);
        cJSON_AddStringToObject(row, "methods", methods);
        cJSON_AddItemToArray(rows, row);
    }
    http_free_list(versions, nv);
    http_reply_json(req, 200, b);
}

void http_builtin_routes(http_server_t *srv) {
    http_route(srv, "GET", "/health", h_health, srv, HTTP_INLINE);
    http_route(srv, "GET", "/ready", h_ready, srv, HTTP_OFFLOAD);
    http_route(srv, "GET", "/metrics", h_metrics, srv, HTTP_INLINE);
    http_route(srv, "GET", "/info", h_info, srv, HTTP_INLINE);
    http_route(srv, "GET", "/openapi.yaml", h_openapi, srv, HTTP_INLINE);
}
