/* authn -- verifies the caller's access token in every service.
 *
 * Design. The verification keys are a small static array behind a rwlock: authn_set_keys()
 * (once at start, or on key rotation) takes the write lock, each request copies the keys out
 * under the read lock and verifies with token_verify() outside it. Only public keys are kept,
 * even when auth hands over its signing key.
 *
 * The token is read from "Authorization: Bearer <jwt>" (scheme case-insensitive), else from
 * the cookie `tizza_access`. A valid token must carry the claims sub, username, role
 * ("user" | "admin"), jti, iat and exp, with exp - iat within the longest lifetime accepted
 * (token_verify_lifetime checks the times; the maximum is ACCESS_TTL, kept in an atomic).
 * Every failure is answered 401 with "WWW-Authenticate: Bearer"; the reason goes to the
 * debug log, never the token.
 *
 * Deleted users. authn_mark_deleted() remembers a user id with the time it was marked in a
 * fixed-size open-addressing table (linear probing, no single removals, so no tombstones)
 * behind a mutex. Entries must outlive every token issued before the deletion, i.e. the
 * longest access-token lifetime accepted plus clock leeway: deleted_keep_s(), 15 + 5 min by
 * default. When the table reaches its load limit it is rebuilt without entries older than
 * that; if it is still too full (more than DELETED_TRIM_TO deletions within that time, a
 * deletion storm), the oldest entries are dropped so memory stays bounded and a rebuild
 * stays rare.
 *
 * Keys from elsewhere: AUTH_PUBLIC_KEY (comma-separated base64url public keys, for rotation)
 * here, or auth's JWKS fetched with libcurl in authn_fetch.c (apart so that tizza-auth, which
 * signs with its own key, does not link libcurl). */
#include "authn.h"

#include "alloc.h"
#include "config.h"
#include "log.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define AUTHN_MAX_KEYS 8
#define AUTHN_COOKIE   "tizza_access"

#define DELETED_SLOTS    4096                       /* power of two */
#define DELETED_MAX_LIVE (DELETED_SLOTS * 3 / 4)    /* load limit: rebuild when reached */
#define DELETED_TRIM_TO  (DELETED_MAX_LIVE * 3 / 4) /* most entries kept by a rebuild */
#define DELETED_SLACK_S  (5 * 60) /* kept beyond the longest token lifetime (clock leeway) */

/* ---- lifetime ---- */

static long max_lifetime = AUTHN_ACCESS_TTL_DEFAULT;

void authn_set_max_lifetime(long seconds) {
    if (seconds > 0) __atomic_store_n(&max_lifetime, seconds, __ATOMIC_RELAXED);
}

long authn_max_lifetime(void) { return __atomic_load_n(&max_lifetime, __ATOMIC_RELAXED); }

#define TEXT_(x) #x
#define TEXT(x)  TEXT_(x)

const config_var_t authn_config_vars[] = {
    {.name = "ACCESS_TTL",
     .type = CONFIG_LONG,
     .def = TEXT(AUTHN_ACCESS_TTL_DEFAULT),
     .min = AUTHN_ACCESS_TTL_MIN,
     .max = AUTHN_ACCESS_TTL_MAX,
     .help = "access-token lifetime in seconds: auth issues tokens for that long, every "
             "service refuses longer-lived ones; give every service the same value"},
    {.name = NULL},
};

const config_var_t authn_remote_config_vars[] = {
    {.name = "AUTH_PUBLIC_KEY",
     .type = CONFIG_STR,
     .def_doc = "fetch the JWKS",
     .help = "base64url Ed25519 public key(s), comma separated, instead of fetching auth's "
             "JWKS"},
    {.name = "AUTH_URL",
     .type = CONFIG_URL,
     .def = "http://127.0.0.1:8001",
     .help = "the auth service, whose JWKS is fetched at start"},
    {.name = "AUTH_WAIT_MS",
     .type = CONFIG_LONG,
     .def = "30000",
     .min = 0,
     .max = 600000,
     .help = "how long to retry fetching the JWKS at start"},
    {.name = NULL},
};

long authn_config_access_ttl(void) {
    config_declare(authn_config_vars);
    long ttl = config_long("ACCESS_TTL");
    authn_set_max_lifetime(ttl);
    return ttl;
}

static int64_t deleted_keep_s(void) { return (int64_t)authn_max_lifetime() + DELETED_SLACK_S; }

/* ---- keys ---- */

static pthread_rwlock_t keys_lock = PTHREAD_RWLOCK_INITIALIZER;
static token_key_t keys[AUTHN_MAX_KEYS];
static int nkeys;

void authn_set_keys(const token_key_t *k, int n) {
    if (n < 0) n = 0;
    if (n > AUTHN_MAX_KEYS) n = AUTHN_MAX_KEYS;
    pthread_rwlock_wrlock(&keys_lock);
    memset(keys, 0, sizeof keys);
    for (int i = 0; i < n; i++) {
        memcpy(keys[i].pk, k[i].pk, sizeof keys[i].pk);
        memcpy(keys[i].kid, k[i].kid, sizeof keys[i].kid);
        keys[i].kid[sizeof keys[i].kid - 1] = '\0';
    }
    nkeys = n;
    pthread_rwlock_unlock(&keys_lock);
}

static int copy_keys(token_key_t out[AUTHN_MAX_KEYS]) {
    pthread_rwlock_rdlock(&keys_lock);
    int n = nkeys;
    memcpy(out, keys, sizeof keys);
    pthread_rwlock_unlock(&keys_lock);
    return n;
}

int authn_keys_from_env(void) {
    config_declare(authn_remote_config_vars);
    const char *env = config_str("AUTH_PUBLIC_KEY");
    if (!env) return 0;
    char *list = xstrdup(env), *save = NULL;
    token_key_t k[AUTHN_MAX_KEYS];
    int n = 0, rc = 1;
    for (char *item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        while (*item == ' ' || *item == '\t') item++;
        size_t len = strlen(item);
        while (len && (item[len - 1] == ' ' || item[len - 1] == '\t')) item[--len] = '\0';
        if (n == AUTHN_MAX_KEYS || token_key_from_public(&k[n], item) != 0) {
            rc = -1;
            break;
        }
        n++;
    }
    free(list);
    if (rc == 1 && n == 0) rc = -1;
    if (rc == 1) authn_set_keys(k, n);
    return rc;
}

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- deleted users ---- */

typedef struct {
    char id[32];  /* "" = empty slot */
    int64_t at;   /* monotonic seconds when marked */
    uint64_t seq; /* marking order, to find the oldest within one second */
} deleted_t;

static pthread_mutex_t deleted_lock = PTHREAD_MUTEX_INITIALIZER;
static deleted_t deleted[DELETED_SLOTS];
static deleted_t scratch[DELETED_SLOTS]; /* used by compaction, under deleted_lock */
static size_t ndeleted;
static uint64_t deleted_seq;

static int64_t mono_s(void) { return mono_ms() / 1000; }
static int64_t (*deleted_clock)(void) = mono_s;

/* Test hook: replaces the clock of the deleted-user memory (NULL restores it). */
void authn_set_clock_for_test(int64_t (*fn)(void));
void authn_set_clock_for_test(int64_t (*fn)(void)) { deleted_clock = fn ? fn : mono_s; }

static size_t deleted_home(const char *id) {
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (; *id; id++) h = (h ^ (unsigned char)*id) * 1099511628211u;
    return (size_t)(h & (DELETED_SLOTS - 1));
}

/* The slot holding `id`, or the empty slot where it would go. The table is never full. */
static deleted_t *deleted_slot(const char *id) {
    size_t i = deleted_home(id);
    while (deleted[i].id[0] && strcmp(deleted[i].id, id) != 0) i = (i + 1) & (DELETED_SLOTS - 1);
    return &deleted[i];
}

static int newest_first(const void *a, const void *b) {
    uint64_t x = ((const deleted_t *)a)->seq, y = ((const deleted_t *)b)->seq;
    return (x < y) - (x > y);
}

/* Rebuilds the table without expired entries, and without the oldest when still too full. */
static void deleted_compact(int64_t now) {
    size_t n = 0;
    int64_t keep = deleted_keep_s();
    for (size_t i = 0; i < DELETED_SLOTS; i++)
        if (deleted[i].id[0] && now - deleted[i].at < keep) scratch[n++] = deleted[i];
    if (n > DELETED_TRIM_TO) {
        qsort(scratch, n, sizeof scratch[0], newest_first);
        n = DELETED_TRIM_TO;
        log_msg(LOG_WARN, "deleted-user memory full: forgetting the oldest entries");
    }
    memset(deleted, 0, sizeof deleted);
    ndeleted = 0;
    for (size_t i = 0; i < n; i++) {
        *deleted_slot(scratch[i].id) = scratch[i];
        ndeleted++;
    }
}

void authn_mark_deleted(const char *user_id) {
    if (!user_id || !*user_id || strlen(user_id) >= sizeof deleted[0].id) return;
    pthread_mutex_lock(&deleted_lock);
    int64_t now = deleted_clock();
    deleted_t *d = deleted_slot(user_id);
    if (!d->id[0]) {
        if (ndeleted >= DELETED_MAX_LIVE) {
            deleted_compact(now);
            d = deleted_slot(user_id);
        }
        strcpy(d->id, user_id);
        ndeleted++;
    }
    d->at = now;
    d->seq = ++deleted_seq;
    pthread_mutex_unlock(&deleted_lock);
}

bool authn_is_deleted(const char *user_id) {
    if (!user_id || !*user_id || strlen(user_id) >= sizeof deleted[0].id) return false;
    pthread_mutex_lock(&deleted_lock);
    bool found = deleted_slot(user_id)->id[0] != '\0';
    pthread_mutex_unlock(&deleted_lock);
    return found;
}

/* ---- requests ---- */

/* Copies a string claim into dst[n]; -1 when missing, empty or too long. */
static int copy_claim(const cJSON *claims, const char *name, char *dst, size_t n) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(claims, name);
    if (!cJSON_IsString(j) || !j->valuestring[0] || strlen(j->valuestring) >= n) return -1;
    strcpy(dst, j->valuestring);
    return 0;
}

static int fill_user(const cJSON *claims, authn_user_t *u, const char **why) {
    memset(u, 0, sizeof *u);
    if (copy_claim(claims, "sub", u->id, sizeof u->id) != 0 ||
        copy_claim(claims, "username", u->username, sizeof u->username) != 0 ||
        copy_claim(claims, "role", u->role, sizeof u->role) != 0 ||
        copy_claim(claims, "jti", u->jti, sizeof u->jti) != 0) {
        *why = "missing or invalid claim";
        return -1;
    }
    if (strcmp(u->role, "user") != 0 && strcmp(u->role, "admin") != 0) {
        *why = "unknown role";
        return -1;
    }
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(claims, "exp");
    /* token_verify checked it is a finite number in the future; keep the cast defined */
    u->exp = exp->valuedouble >= 9.2e18 ? INT64_MAX : (int64_t)exp->valuedouble;
    return 0;
}

/* The credentials of the request (malloc'd), or NULL. Bearer wins over the cookie. */
static char *request_token(http_req_t *req) {
    const char *auth = http_header(req, "Authorization");
    if (auth) {
        while (*auth == ' ' || *auth == '\t') auth++;
        if (strncasecmp(auth, "Bearer", 6) == 0 && (auth[6] == ' ' || auth[6] == '\t')) {
            const char *t = auth + 6;
            while (*t == ' ' || *t == '\t') t++;
            size_t len = strlen(t);
            while (len && (t[len - 1] == ' ' || t[len - 1] == '\t')) len--;
            return strndup(t, len); /* may be "" -> invalid credentials */
        }
    }
    const char *cookie = http_cookie(req, AUTHN_COOKIE);
    return cookie ? xstrdup(cookie) : NULL;
}

/* 0 valid (*u filled), 1 no credentials, -1 invalid. Never answers. */
static int authenticate(http_req_t *req, authn_user_t *u, bool allow_deleted) {
    memset(u, 0, sizeof *u);
    char *jwt = request_token(req);
    if (!jwt) return 1;
    token_key_t k[AUTHN_MAX_KEYS];
    int n = copy_keys(k);
    cJSON *claims = NULL;
    const char *why = NULL;
    int rc =
        token_verify_lifetime(k, n, jwt, (int64_t)time(NULL), authn_max_lifetime(), &claims, &why);
    free(jwt);
    if (rc == 0) rc = fill_user(claims, u, &why);
    cJSON_Delete(claims);
    if (rc == 0 && !allow_deleted && authn_is_deleted(u->id)) {
        why = "user deleted";
        rc = -1;
    }
    if (rc != 0) {
        memset(u, 0, sizeof *u);
        log_msg(LOG_DEBUG, "access token refused: %s", why ? why : "invalid");
    }
    return rc;
}

static void reply_401(http_req_t *req, const char *detail) {
    http_add_header(req, "WWW-Authenticate", "Bearer");
    http_reply_problem(req, 401, detail);
}

static int require(http_req_t *req, authn_user_t *u, bool allow_deleted) {
    int rc = authenticate(req, u, allow_deleted);
    if (rc == 0) return 0;
    reply_401(req, rc == 1 ? "authentication required" : "invalid or expired token");
    return -1;
}

int authn_require(http_req_t *req, authn_user_t *u) { return require(req, u, false); }

int authn_require_signed(http_req_t *req, authn_user_t *u) { return require(req, u, true); }

int authn_optional(http_req_t *req, authn_user_t *u) {
    int rc = authenticate(req, u, false);
    if (rc < 0) reply_401(req, "invalid or expired token");
    return rc;
}

bool authn_is_admin(const authn_user_t *u) { return u && strcmp(u->role, "admin") == 0; }
