/* http_builtin -- the operational routes every server has, registered by http_server_new():
 *
 *   GET /health        200 {"status":"ok"}: the process answers (liveness)
 *   GET /ready         200 {"status":"ready"} when http_config_t.ready says so, else 503
 *                      problem+json with "failing" (e.g. "store"); runs on a worker
 *   GET /metrics       Prometheus text format (metrics.h)
 *   GET /info          {"name","version","buildtime","instance","api_version":[{"version",
 *                      "buildtime","links","methods"}]}: one row per API version of
 *                      http_config_t.api_versions, its methods ("get, post, ...") collected
 *                      from the routes under /api/<version>/; instance is the host name
 *   GET /openapi.yaml  the service's OpenAPI document */
#ifndef TIZZA_HTTP_BUILTIN_H
#define TIZZA_HTTP_BUILTIN_H

typedef struct http_server http_server_t;

void http_builtin_routes(http_server_t *srv);

#endif
