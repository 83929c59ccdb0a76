/* config.c -- typed, validated getters over the environment.
 *
 * Every getter treats an unset or empty variable as "use the default" (the default itself is
 * trusted, it is not validated). A value that is set but invalid is fatal: config_fail()
 * prints exactly "<prog>: config: NAME: reason\n" on stderr and exits with status 2, before
 * the service binds a port or touches a store. The reason says what is expected; it never
 * echoes the value (URLs may carry credentials).
 *
 *   config_long  decimal integer, optional sign, nothing else; must be in [min, max].
 *   config_bool  1/0, true/false, yes/no, on/off, any case.
 *   config_enum  one of the choices, any case; returns the canonical choice string.
 *   config_url   http:// or https:// with a host, checked with libcurl's URL parser
 *                (curl_url); trailing '/' characters are removed. The returned copy is kept
 *                in a small list owned by this module and never freed: it must outlive
 *                every thread and atexit handler that may still use it. The list hangs
 *                off a static root, so LeakSanitizer counts it as reachable, not leaked.
 *
 * Getters are meant for start-up, but the URL list is mutex-protected anyway. */
#include "config.h"

#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char config_prog[64] = "tizza";

void config_set_program(const char *prog) {
    if (!prog || !*prog)
        return;
    const char *slash = strrchr(prog, '/'); /* argv[0] may be a path */
    str_copy(config_prog, slash ? slash + 1 : prog, sizeof config_prog);
}

void config_fail(const char *name, const char *reason) {
    fprintf(stderr, "%s: config: %s: %s\n", config_prog, name ? name : "?",
            reason ? reason : "invalid value");
    fflush(stderr);
    exit(2);
}

/* The variable's value, or NULL when unset or empty. */
static const char *env_value(const char *name) {
    const char *v = getenv(name);
    return (v && *v) ? v : NULL;
}

const char *config_str(const char *name, const char *def) {
    const char *v = env_value(name);
    return v ? v : def;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

long config_long(const char *name, long def, long min, long max) {
    const char *v = env_value(name);
    if (!v)
        return def;

    const char *digits = (*v == '-' || *v == '+') ? v + 1 : v;
    char *end = NULL;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (!is_digit(*digits) || *end != '\0' || errno == ERANGE || x < min || x > max) {
        char reason[96];
        snprintf(reason, sizeof reason, "must be an integer from %ld to %ld", min, max);
        config_fail(name, reason);
    }
    return x;
}

bool config_bool(const char *name, bool def) {
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    const char *v = env_value(name);
    if (!v)
        return def;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return true;
        if (strcasecmp(v, no[i]) == 0)
            return false;
    }
    config_fail(name, "must be true or false (or 1/0, yes/no, on/off)");
}

const char *config_enum(const char *name, const char *def, const char *const *choices) {
    const char *v = env_value(name);
    if (!v)
        return def;
    for (size_t i = 0; choices && choices[i]; i++)
        if (strcasecmp(v, choices[i]) == 0)
            return choices[i];

    char reason[256] = "must be one of ";
    size_t n = strlen(reason);
    for (size_t i = 0; choices && choices[i] && n < sizeof reason; i++)
        n += (size_t)snprintf(reason + n, sizeof reason - n, "%s%s", i ? ", " : "", choices[i]);
    config_fail(name, reason);
}

/* --- URLs ---------------------------------------------------------------------------- */

struct url_copy {
    struct url_copy *next;
    char text[];
};

static struct url_copy *url_list;
static pthread_mutex_t url_lock = PTHREAD_MUTEX_INITIALIZER;

/* Keeps a copy of v[0..len) until exit. */
static const char *url_keep(const char *v, size_t len) {
    struct url_copy *u = malloc(sizeof *u + len + 1);
    if (!u)
        config_fail("(memory)", "out of memory");
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
    if (!sep || sep[3] == '/')
        return false;
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    bool ok = u && curl_url_set(u, CURLUPART_URL, v, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] != '\0' &&
              (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0);
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

const char *config_url(const char *name, const char *def) {
    const char *v = env_value(name);
    if (!v)
        v = def;
    if (!v)
        return NULL;
    if (!url_ok(v))
        config_fail(name, "must be an http:// or https:// URL with a host");

    size_t len = strlen(v);
    if (!strpbrk(v, "?#")) /* a '/' inside a query or fragment is not a path separator */
        while (len > 0 && v[len - 1] == '/')
            len--;
    return url_keep(v, len);
}
