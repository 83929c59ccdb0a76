/* authn_fetch -- the verification keys of services other than auth: AUTH_PUBLIC_KEY, else
 * auth's JWKS fetched over HTTP with libcurl (contract: authn.h).
 *
 * Apart from authn.c so that only the binaries that fetch keys reference libcurl: tizza-auth
 * signs and verifies with its own key, never calls anything here, and so links neither this
 * file nor libcurl (nor config_url.c, used only here). service.c does not call into this
 * file either: a service asks for it by putting authn_load_remote_keys in its
 * service_def_t.load_keys.
 *
 * authn_fetch_jwks() GETs {auth_url}/api/v1/auth/jwks (blocking, with a 64 KiB body limit),
 * parses it with token_keys_from_jwks() and installs the keys with authn_set_keys(). A
 * failed attempt is retried with exponential backoff (100 ms doubling up to 2 s) until
 * wait_ms has passed; each attempt's timeout is what is left, between 0.5 s and 5 s.
 * libcurl is initialised once, on first use. */
#include "alloc.h"
#include "authn.h"

#include "config.h"
#include "log.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JWKS_PATH      "/api/v1/auth/jwks"
#define JWKS_MAX_BODY  65536
#define FETCH_MAX_KEYS 8 /* authn_set_keys() keeps at most this many (AUTHN_MAX_KEYS) */

typedef struct {
    char *data;
    size_t len;
} body_t;

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud) {
    body_t *b = ud;
    size_t n = size * nmemb;
    if (b->len + n > JWKS_MAX_BODY) return 0; /* aborts the transfer */
    char *grown = xrealloc(b->data, b->len + n + 1);
    memcpy(grown + b->len, p, n);
    b->len += n;
    grown[b->len] = '\0';
    b->data = grown;
    return n;
}

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* One GET; returns the 200 body (malloc'd) or NULL with *why set. */
static char *http_get(const char *url, long timeout_ms, const char **why) {
    CURL *c = curl_easy_init();
    if (!c) {
        *why = "curl init failed";
        return NULL;
    }
    body_t body = {0};
    struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK || status != 200 || !body.data) {
        *why = rc != CURLE_OK ? curl_easy_strerror(rc) : "unexpected status or empty body";
        free(body.data);
        return NULL;
    }
    return body.data;
}

/* One attempt: fetch, parse, install. 0 on success. */
static int fetch_once(const char *url, long timeout_ms, const char **why) {
    char *text = http_get(url, timeout_ms, why);
    if (!text) return -1;
    cJSON *doc = cJSON_Parse(text);
    free(text);
    token_key_t k[FETCH_MAX_KEYS];
    int n = doc ? token_keys_from_jwks(doc, k, FETCH_MAX_KEYS) : -1;
    cJSON_Delete(doc);
    if (n <= 0) {
        *why = "no usable key in JWKS";
        return -1;
    }
    authn_set_keys(k, n);
    return 0;
}

int authn_fetch_jwks(const char *auth_url, int wait_ms) {
    if (!auth_url || !*auth_url) return -1;
    pthread_once(&curl_once, curl_init_once);
    size_t base = strlen(auth_url);
    while (base && auth_url[base - 1] == '/') base--;
    char *url = xmalloc(base + sizeof JWKS_PATH);
    memcpy(url, auth_url, base);
    memcpy(url + base, JWKS_PATH, sizeof JWKS_PATH);

    int64_t deadline = mono_ms() + (wait_ms > 0 ? wait_ms : 0);
    int64_t backoff = 100;
    const char *why = "no attempt";
    int rc = -1;
    for (int attempt = 1;; attempt++) {
        int64_t left = deadline - mono_ms();
        long timeout = left < 500 ? 500 : left > 5000 ? 5000 : (long)left;
        if (fetch_once(url, timeout, &why) == 0) {
            rc = 0;
            break;
        }
        left = deadline - mono_ms();
        if (left <= 0) break;
        log_msg(LOG_INFO, "jwks fetch attempt %d failed (%s); retrying", attempt, why);
        sleep_ms(backoff < left ? backoff : left);
        if (backoff < 2000) backoff *= 2;
    }
    if (rc != 0) log_msg(LOG_ERROR, "jwks fetch from %s failed: %s", url, why);
    free(url);
    return rc;
}

/* Verification settings of services other than auth: ACCESS_TTL, the longest token lifetime
 * accepted; then the keys: AUTH_PUBLIC_KEY when set (invalid: exit 2), else the JWKS of
 * AUTH_URL, retried for up to AUTH_WAIT_MS. */
int authn_load_remote_keys(void) {
    authn_config_access_ttl();
    int rc = authn_keys_from_env();
    if (rc == 1) return 0;
    if (rc < 0) config_fail("AUTH_PUBLIC_KEY", "must be base64url Ed25519 public keys");
    const char *url = config_url("AUTH_URL");
    int wait = (int)config_long("AUTH_WAIT_MS");
    if (authn_fetch_jwks(url, wait) != 0) {
        log_msg(LOG_ERROR, "cannot fetch signing keys from %s/api/v1/auth/jwks", url);
        return -1;
    }
    return 0;
}
