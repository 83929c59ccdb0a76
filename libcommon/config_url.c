/* config_url.c -- config_url() (contract: config.h), apart from config.c because it needs
 * libcurl: a binary that never reads a URL from its environment (tizza-auth) then does not
 * pull this file out of libcommon.a, and links without libcurl.
 *
 *   config_url   http:// or https:// with a host, checked with libcurl's URL parser
 *                (curl_url); trailing '/' characters are removed. The returned copy is kept
 *                in a small list owned by this module and never freed: it must outlive
 *                every thread and atexit handler that may still use it. The list hangs
 *                off a static root, so LeakSanitizer counts it as reachable, not leaked.
 *
 * An unset or empty variable means the default, which is validated like a value; an
 * invalid value is fatal through config_fail(), like every getter of config.c. Meant for
 * start-up, but the URL list is mutex-protected anyway. */
#include "alloc.h"
#include "config.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct url_copy {
    struct url_copy *next;
    char text[];
};

static struct url_copy *url_list;
static pthread_mutex_t url_lock = PTHREAD_MUTEX_INITIALIZER;

/* Keeps a copy of v[0..len) until exit. */
static const char *url_keep(const char *v, size_t len) {
    struct url_copy *u = xmalloc(sizeof *u + len + 1);
    memcpy(u->text, v, len);
    u->text[len] = '\0';

    pthread_mutex_lock(&url_lock);
    u->next = url_list;
    url_list = u;
    pthread_mutex_unlock(&url_lock);
    return u->text;
}

/* True when v parses as an absolute http(s) URL with a non-empty host. libcurl reads
 * "http:///x" as host "x"; we refuse it as the typo it almost always is. */
static bool url_ok(const char *v) {
    const char *sep = strstr(v, "://");
    if (!sep || sep[3] == '/') return false;
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    bool ok = u && curl_url_set(u, CURLUPART_URL, v, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] != '\0' &&
              (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0) &&
              /* the "://" is the scheme's own ("https:/h#://" has it only in its fragment) */
              sep == v + strlen(scheme);
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

const char *config_url(const char *name) {
    const char *v = config_text(name, CONFIG_URL); /* unset or empty: the default */
    if (!v) return NULL;
    if (!url_ok(v)) config_fail(name, "must be an http:// or https:// URL with a host");

    size_t len = strlen(v);
    if (!strpbrk(v, "?#")) /* a '/' inside a query or fragment is not a path separator */
        while (len > 0 && v[len - 1] == '/') len--;
    return url_keep(v, len);
}
