/* http_origin -- the TRUSTED_PROXIES, PUBLIC_URL and CORS_ORIGINS rules (see http_origin.h).
 *
 * The lists are a few entries each, compared as strings: an address in TRUSTED_PROXIES must
 * be written as the peer address reads (no ranges). */
#include "http_origin.h"

#include "alloc.h"
#include "config.h"
#include "http_internal.h"
#include "util.h"

#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct http_origin_rules {
    char **cors;
    int ncors;
    char **trusted;
    int ntrusted;
    char *public_url; /* without its trailing slash, or NULL */
};

http_origin_rules_t *http_origin_rules_new(const char *cors, const char *trusted,
                                           const char *public_url) {
    http_origin_rules_t *o = xcalloc(1, sizeof *o);
    o->cors = http_split_list(cors, &o->ncors);
    o->trusted = http_split_list(trusted, &o->ntrusted);
    if (public_url) {
        o->public_url = xstrdup(public_url);
        size_t n = strlen(o->public_url);
        while (n && o->public_url[n - 1] == '/') o->public_url[--n] = '\0';
    }
    return o;
}

/* PUBLIC_URL: http(s)://host[:port][/prefix], no user, query or fragment (libevent's URI
 * parser). */
static const char *public_url_from_env(void) {
    const char *v = config_str("PUBLIC_URL");
    if (!v) return NULL;
    struct evhttp_uri *u = evhttp_uri_parse_with_flags(v, 0);
    const char *scheme = u ? evhttp_uri_get_scheme(u) : NULL,
               *host = u ? evhttp_uri_get_host(u) : NULL;
    int ok = scheme && (!strcmp(scheme, "http") || !strcmp(scheme, "https")) && host && *host &&
             !evhttp_uri_get_userinfo(u) && !evhttp_uri_get_query(u) && !evhttp_uri_get_fragment(u);
    if (u) evhttp_uri_free(u);
    if (!ok) config_fail("PUBLIC_URL", "must be http(s)://host[:port][/path], no query");
    return v;
}

http_origin_rules_t *http_origin_rules_from_env(void) {
    return http_origin_rules_new(config_str("CORS_ORIGINS"), config_str("TRUSTED_PROXIES"),
                                 public_url_from_env());
}

void http_origin_rules_free(http_origin_rules_t *o) {
    if (!o) return;
    http_free_list(o->cors, o->ncors);
    http_free_list(o->trusted, o->ntrusted);
    free(o->public_url);
    free(o);
}

bool http_origin_trusted(const http_origin_rules_t *o, const char *addr) {
    for (int i = 0; i < o->ntrusted; i++)
        if (strcmp(o->trusted[i], addr) == 0 || strcmp(o->trusted[i], "*") == 0) return true;
    return false;
}

void http_origin_client(const http_origin_rules_t *o, const char *peer, const char *xff, char *out,
                        size_t size) {
    str_copy(out, peer, size);
    if (!xff || !http_origin_trusted(o, peer)) return;
    int n = 0;
    char **hops = http_split_list(xff, &n);
    for (int i = n - 1; i >= 0; i--) {
        str_copy(out, hops[i], size);
        if (!http_origin_trusted(o, hops[i])) break;
    }
    http_free_list(hops, n);
}

/* A host[:port] fit for a URL: no user part, path, space or quote. */
static bool sane_host(const char *h) {
    return h && *h && strlen(h) < 256 && !strpbrk(h, " /\\@\"<>?#\t\r\n,");
}

char *http_origin_url(const http_origin_rules_t *o, const char *peer, const char *proto,
                      const char *host, const char *local, const char *path_and_query) {
    if (o->public_url) return xasprintf("%s%s", o->public_url, path_and_query);
    const char *scheme = "http", *base = NULL;
    if (http_origin_trusted(o, peer)) {
        if (proto && (strcmp(proto, "http") == 0 || strcmp(proto, "https") == 0)) scheme = proto;
        if (sane_host(host)) base = host;
    }
    if (!base) base = local && *local ? local : "127.0.0.1";
    return xasprintf("%s://%s%s", scheme, base, path_and_query);
}

const char *http_origin_cors(const http_origin_rules_t *o, const char *origin, bool *credentials) {
    bool any = false;
    *credentials = false;
    if (!origin || strcmp(origin, "null") == 0) return NULL;
    for (int i = 0; i < o->ncors; i++) {
        if (strcmp(o->cors[i], origin) == 0) {
            *credentials = true;
            return origin;
        }
        any |= strcmp(o->cors[i], "*") == 0;
    }
    return any ? "*" : NULL;
}

bool http_origin_cors_on(const http_origin_rules_t *o) { return o->ncors > 0; }
