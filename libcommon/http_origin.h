/* http_origin -- where a request comes from, by the rules of three variables:
 *
 *  - TRUSTED_PROXIES: peers whose forwarding headers are believed. The client address is the
 *    peer's, unless the peer is trusted: then X-Forwarded-For is walked from the right, past
 *    every trusted hop, to the first untrusted one (or the leftmost, when all are trusted).
 *    A listed "*" trusts every peer.
 *  - PUBLIC_URL: the base of the absolute URLs the server writes (Location, next, previous).
 *    Without it, a trusted peer's X-Forwarded-Proto ("http" or "https" only) and
 *    X-Forwarded-Host (a bare host[:port]) are used, else http:// and the address the client
 *    connected to. Never the Host header: a client chooses it freely.
 *  - CORS_ORIGINS: which Origin may read the answers. A listed origin is echoed back, with
 *    credentials (cookies); a listed "*" allows any other origin, without credentials (a
 *    browser would send any site's cookies). "null" (sandboxed documents, file: pages) is
 *    never allowed.
 *
 * The rules are pure functions of their inputs, so they are tested without a server. */
#ifndef TIZZA_HTTP_ORIGIN_H
#define TIZZA_HTTP_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct http_origin_rules http_origin_rules_t;

/* From CORS_ORIGINS, TRUSTED_PROXIES and PUBLIC_URL (declared in http_config_vars). A
 * PUBLIC_URL that is not http(s)://host[:port][/path] without user, query or fragment is
 * fatal (config_fail). */
http_origin_rules_t *http_origin_rules_from_env(void);
/* From the variables' values (comma-separated lists, NULL for none); public_url is taken as
 * valid, its trailing '/'s dropped. */
http_origin_rules_t *http_origin_rules_new(const char *cors, const char *trusted,
                                           const char *public_url);
void http_origin_rules_free(http_origin_rules_t *o);

bool http_origin_trusted(const http_origin_rules_t *o, const char *addr);

/* The client address of a request from `peer` with X-Forwarded-For `xff` (may be NULL) into
 * out[size]. */
void http_origin_client(const http_origin_rules_t *o, const char *peer, const char *xff, char *out,
                        size_t size);

/* The absolute URL of path_and_query (malloc'd) for a request from `peer` that carried
 * X-Forwarded-Proto `proto` and X-Forwarded-Host `host` (each may be NULL) on a connection to
 * `local` (host:port; "" when unknown: 127.0.0.1). */
char *http_origin_url(const http_origin_rules_t *o, const char *peer, const char *proto,
                      const char *host, const char *local, const char *path_and_query);

/* The Access-Control-Allow-Origin for a request with Origin `origin` (may be NULL), or NULL
 * when it gets none; *credentials tells whether Access-Control-Allow-Credentials goes with
 * it. */
const char *http_origin_cors(const http_origin_rules_t *o, const char *origin, bool *credentials);
/* CORS_ORIGINS names any origin: answers vary by Origin. */
bool http_origin_cors_on(const http_origin_rules_t *o);

#endif
