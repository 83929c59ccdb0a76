/* sessions -- login, refresh, logout, me and jwks, plus issuing tokens and cookies.
 *
 * A session is a pair: a short-lived access token (an EdDSA JWT, ACCESS_TTL, verified
 * locally by every service) and a long-lived opaque refresh token (32 random bytes,
 * base64url, REFRESH_TTL). Only the hex sha256 of a refresh token is stored, in
 * "refresh_tokens" {id, user_id, family_id, token_hash, expires_at, used, revoked,
 * created_at, and once rotated used_at_ms, next_id, next_sealed}. All refresh tokens
 * descending from one login share a family_id.
 *
 * Rotation: presenting a refresh token marks it used and issues the next one of the family
 * in one transaction (store_transact). The "mark used" update is conditional on used ==
 * false, so two concurrent presentations of one token cannot both rotate it: the second
 * finds it used (on MongoDB the loser's transaction aborts with a write conflict and runs
 * again, and the rerun finds it used). The rotation also records when (used_at_ms) and the
 * successor: its id and the successor token itself, encrypted under a key derived from the
 * rotated token (next_sealed), so only a holder of the rotated token can recover it.
 *
 * Grace window: a second use of a rotated token within REFRESH_GRACE_MS (auth_config_vars) of
 * its rotation -- two browser tabs refreshing at once, a retried request whose answer was
 * lost -- answers with the same successor (and a new access token) instead of revoking: it
 * follows the successors, each rotated within the window too, to the newest unused token
 * of the family. A revoked family stays revoked (logout wins). Any later use of a rotated
 * token means it leaked (or was replayed): the whole family is revoked and the answer is
 * 401, so both the thief and the victim must log in again. The window is the price of not
 * logging out users with two tabs: a thief replaying a token within seconds of its
 * rotation gets the successor too, as the rightful holder did (0 turns it off).
 *
 * Login says the same thing ("invalid username or password") for an unknown user and a
 * wrong password, and spends the same argon2id time on both (password_verify_unknown()); when
 * a flood of unknown usernames fills that lane's queue, they are refused at once with 503
 * and Retry-After, so that they cannot starve real users' verifications (passwords.c).
 * Attempts per client address are limited by the HTTP layer (http_rate_limit in main.c).
 *
 * Failed logins are throttled per username AND client, never per username alone: a
 * per-username lock lets anyone lock anyone out. login_attempt_begin() takes a token from
 * the bucket of (username, client) -- login_fail, LOGIN_FAILURES_PER_USER per 15 minutes --
 * before the password is verified (so it also bounds the attempts in flight, and a
 * throttled client gets 429 for the right password too); a success resets that bucket. The
 * client is the device when the request has a valid device cookie for this username, else
 * the client address (an IPv6 address by its /64). The device cookie (tizza_device,
 * Path=/api/v1/auth/login, SameSite=Strict, 365 days), set by every successful login, is
 * base64url(id[16] || MAC[32]) with MAC = keyed BLAKE2b(id || username_key) under a key
 * derived from the signing key: stateless, bound to one username, naming no user. Attempts
 * from clients without one also take a token from the username's own bucket (login_all,
 * LOGIN_FAILURES_PER_USER_TOTAL per 15 minutes), given back on success: a backstop against
 * many addresses that never throttles a known device. (OWASP's authentication and
 * "slow down online guessing with device cookies" guidance.)
 *
 * Tokens travel in HttpOnly cookies: tizza_access (Path=/, SameSite=Lax) and tizza_refresh
 * (Path=/api/v1/auth, SameSite=Strict); the access token is also in the JSON body for
 * non-browser clients. (The HTTP layer marks every answer Cache-Control: no-store.) */
#include "alloc.h"
#include "auth.h"
#include "authn.h"
#include "http_store.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "problem.h"
#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REFRESH_RAW_BYTES 32
#define TOKEN_MAX_BYTES   512 /* far above the 43 bytes of a real refresh token */

/* ---------------------------------------------------------------- tokens */

void auth_token_hash_hex(const char *token, char out[AUTH_TOKEN_HASH_HEX]) {
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(out, AUTH_TOKEN_HASH_HEX, h, sizeof h);
}

char *session_access_token(const auth_ctx_t *ctx, const cJSON *user) {
    unsigned char raw[16];
    randombytes_buf(raw, sizeof raw);
    char *jti = b64url_encode(raw, sizeof raw);
    if (jti == NULL) return NULL;
    int64_t now = now_ms() / 1000;
    const char *role = json_str(user, "role");

    cJSON *claims = cJSON_CreateObject();
    cJSON_AddStringToObject(claims, "sub", json_str(user, "id") ? json_str(user, "id") : "");
    cJSON_AddStringToObject(claims, "username",
                            json_str(user, "username") ? json_str(user, "username") : "");
    cJSON_AddStringToObject(claims, "role", role && strcmp(role, "admin") == 0 ? "admin" : "user");
    cJSON_AddNumberToObject(claims, "iat", (double)now);
    cJSON_AddNumberToObject(claims, "exp", (double)(now + ctx->access_ttl));
    cJSON_AddStringToObject(claims, "jti", jti);
    char *jwt = token_sign(&ctx->key, claims);
    cJSON_Delete(claims);
    free(jti);
    return jwt;
}

/* A new refresh token of `family_id` (NULL: a new family) for user_id: *token (malloc'd)
 * and its document *doc (not stored yet). STORE_OK or STORE_ERR (out of memory). */
static int refresh_new(auth_ctx_t *ctx, const char *user_id, const char *family_id, char **token,
                       cJSON **doc) {
    unsigned char raw[REFRESH_RAW_BYTES];
    char id[ID_LEN + 1], family[ID_LEN + 1], hash[AUTH_TOKEN_HASH_HEX], now[32], expires[32];

    *token = NULL;
    *doc = NULL;
    randombytes_buf(raw, sizeof raw);
    char *tok = b64url_encode(raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    if (tok == NULL) return STORE_ERR;
    auth_token_hash_hex(tok, hash);
    id_new(id);
    if (family_id == NULL)
        id_new(family);
    else
        str_copy(family, family_id, sizeof family);
    int64_t ms = now_ms();
    iso_time(ms, now);
    iso_time(ms + (int64_t)ctx->refresh_ttl * 1000, expires);

    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "id", id);
    cJSON_AddStringToObject(d, "user_id", user_id);
    cJSON_AddStringToObject(d, "family_id", family);
    cJSON_AddStringToObject(d, "token_hash", hash);
    cJSON_AddStringToObject(d, "expires_at", expires);
    cJSON_AddBoolToObject(d, "used", false);
    cJSON_AddBoolToObject(d, "revoked", false);
    cJSON_AddStringToObject(d, "created_at", now);
    *token = tok;
    *doc = d;
    return STORE_OK;
}

int session_refresh_insert(auth_ctx_t *ctx, const char *user_id, const char *family_id,
                           char **token) {
    cJSON *doc = NULL;
    int rc = refresh_new(ctx, user_id, family_id, token, &doc);
    if (rc == STORE_OK) rc = store_insert(ctx->store, AUTH_COLL_REFRESH, doc);
    cJSON_Delete(doc);
    if (rc != STORE_OK) {
        free(*token);
        *token = NULL;
    }
    return rc;
}

/* Revokes every refresh token of a family. Store rc. */
static int revoke_family(auth_ctx_t *ctx, const char *family_id) {
    store_filter_t *f = store_filter_new();
    store_where_str(f, "family_id", STORE_EQ, family_id);
    cJSON *set = cJSON_CreateObject();
    cJSON_AddBoolToObject(set, "revoked", true);
    int rc = store_update(ctx->store, AUTH_COLL_REFRESH, f, set, NULL, NULL);
    cJSON_Delete(set);
    store_filter_free(f);
    return rc;
}

/* ---------------------------------------------------------------- cookies */

static void add_cookie(const auth_ctx_t *ctx, http_req_t *req, const char *name, const char *value,
                       const char *path, long max_age, const char *same_site) {
    char *c = xasprintf("%s=%s; Path=%s; Max-Age=%ld; HttpOnly; SameSite=%s%s", name, value, path,
                        max_age, same_site, ctx->cookie_secure ? "; Secure" : "");
    http_add_header(req, "Set-Cookie", c);
    free(c);
}

void session_set_cookies(const auth_ctx_t *ctx, http_req_t *req, const char *access,
                         const char *refresh) {
    add_cookie(ctx, req, AUTH_COOKIE_ACCESS, access, "/", ctx->access_ttl, "Lax");
    add_cookie(ctx, req, AUTH_COOKIE_REFRESH, refresh, "/api/v1/auth", ctx->refresh_ttl, "Strict");
}

void session_clear_cookies(const auth_ctx_t *ctx, http_req_t *req) {
    add_cookie(ctx, req, AUTH_COOKIE_ACCESS, "", "/", 0, "Lax");
    add_cookie(ctx, req, AUTH_COOKIE_REFRESH, "", "/api/v1/auth", 0, "Strict");
}

/* {"user": private user, "access_token", "expires_in"} */
static cJSON *session_body(const auth_ctx_t *ctx, const cJSON *user, const char *access) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "user", user_view(user, true));
    cJSON_AddStringToObject(o, "access_token", access);
    cJSON_AddNumberToObject(o, "expires_in", (double)ctx->access_ttl);
    return o;
}

/* ---------------------------------------------------------------- login throttling */

#define DEVICE_ID_BYTES  16
#define DEVICE_MAC_BYTES 32
#define DEVICE_TTL       (365L * 86400)
#define DEVICE_PATH      "/api/v1/auth/login"

void session_device_key_init(auth_ctx_t *ctx) {
    /* the seed is the first half of libsodium's Ed25519 secret key */
    crypto_kdf_derive_from_key(ctx->device_key, sizeof ctx->device_key, 1, "tzdevice", ctx->key.sk);
}

/* MAC binding a device id to a username_key. */
static void device_mac(const auth_ctx_t *ctx, const unsigned char id[DEVICE_ID_BYTES],
                       const char *username_key, unsigned char mac[DEVICE_MAC_BYTES]) {
    crypto_generichash_state st;
    crypto_generichash_init(&st, ctx->device_key, sizeof ctx->device_key, DEVICE_MAC_BYTES);
    crypto_generichash_update(&st, id, DEVICE_ID_BYTES);
    crypto_generichash_update(&st, (const unsigned char *)username_key, strlen(username_key));
    crypto_generichash_final(&st, mac, DEVICE_MAC_BYTES);
}

/* True when the request's device cookie was issued for `username_key`; *id = its device. */
static bool device_known(const auth_ctx_t *ctx, http_req_t *req, const char *username_key,
                         unsigned char id[DEVICE_ID_BYTES]) {
    unsigned char raw[DEVICE_ID_BYTES + DEVICE_MAC_BYTES], mac[DEVICE_MAC_BYTES];
    size_t len = 0;
    const char *c = http_cookie(req, AUTH_COOKIE_DEVICE);
    if (c == NULL || strlen(c) > 2 * sizeof raw || b64url_decode(c, raw, sizeof raw, &len) != 0 ||
        len != sizeof raw)
        return false;
    device_mac(ctx, raw, username_key, mac);
    if (sodium_memcmp(mac, raw + DEVICE_ID_BYTES, sizeof mac) != 0) return false;
    memcpy(id, raw, DEVICE_ID_BYTES);
    return true;
}

/* Sets the device cookie of `username_key`: the known device's id again, else a new one. */
static void device_cookie_set(const auth_ctx_t *ctx, http_req_t *req, const char *username_key,
                              const login_attempt_t *a) {
    unsigned char raw[DEVICE_ID_BYTES + DEVICE_MAC_BYTES];
    if (a->known_device)
        memcpy(raw, a->device_id, DEVICE_ID_BYTES);
    else
        randombytes_buf(raw, DEVICE_ID_BYTES);
    device_mac(ctx, raw, username_key, raw + DEVICE_ID_BYTES);
    char *value = b64url_encode(raw, sizeof raw);
    if (value == NULL) return;
    add_cookie(ctx, req, AUTH_COOKIE_DEVICE, value, DEVICE_PATH, DEVICE_TTL, "Strict");
    free(value);
}

/* The client part of a throttle key: the address, an IPv6 address by its /64 (one
 * subscriber gets a whole /64, so its addresses are one client). */
static void client_of(const char *addr, char *out, size_t n) {
    struct in6_addr a6;
    char buf[INET6_ADDRSTRLEN];
    if (addr != NULL && strchr(addr, ':') != NULL && inet_pton(AF_INET6, addr, &a6) == 1 &&
        !IN6_IS_ADDR_V4MAPPED(&a6)) {
        memset(a6.s6_addr + 8, 0, 8);
        if (inet_ntop(AF_INET6, &a6, buf, sizeof buf) != NULL) {
            snprintf(out, n, "%s/64", buf);
            return;
        }
    }
    str_copy(out, addr ? addr : "", n);
}

/* A username as a limiter key: itself, or a digest of it when longer than any username can
 * be (the limiters keep their keys; an attempt may name up to 1024 bytes). */
static void username_part(const char *username_key, char *out, size_t n) {
    size_t len = strlen(username_key);
    if (len <= USERNAME_MAX) {
        str_copy(out, username_key, n);
        return;
    }
    unsigned char h[16];
    crypto_generichash(h, sizeof h, (const unsigned char *)username_key, len, NULL, 0);
    out[0] = '#';
    sodium_bin2hex(out + 1, n - 1, h, sizeof h);
}

static void reply_throttled(http_req_t *req, int retry) {
    char buf[24];
    snprintf(buf, sizeof buf, "%d", retry > 0 ? retry : 1);
    http_add_header(req, "Retry-After", buf);
    http_reply_problem(req, 429, "too many failed attempts for this username; try again later");
    metrics_inc("tizza_auth_logins_total", "result=\"limited\"", 1);
}

static void attempt_free(login_attempt_t *a) {
    free(a->client_key);
    free(a->user_key);
    a->client_key = a->user_key = NULL;
}

bool login_attempt_begin(auth_ctx_t *ctx, http_req_t *req, const char *username_key,
                         login_attempt_t *a) {
    char user[USERNAME_MAX + 40], client[INET6_ADDRSTRLEN + 8], dev[2 * DEVICE_ID_BYTES + 1];
    int retry = 1;
    memset(a, 0, sizeof *a);
    username_part(username_key, user, sizeof user);
    a->known_device = device_known(ctx, req, username_key, a->device_id);
    if (a->known_device) {
        sodium_bin2hex(dev, sizeof dev, a->device_id, DEVICE_ID_BYTES);
        a->client_key = xasprintf("%s\nd:%s", user, dev);
    } else {
        client_of(http_client_addr(req), client, sizeof client);
        a->client_key = xasprintf("%s\na:%s", user, client);
        if (ctx->login_all != NULL) a->user_key = xstrdup(user);
    }
    if (ctx->login_fail != NULL && !ratelimit_take(ctx->login_fail, a->client_key, &retry)) {
        attempt_free(a);
        reply_throttled(req, retry);
        return false;
    }
    if (a->user_key != NULL && !ratelimit_take(ctx->login_all, a->user_key, &retry)) {
        if (ctx->login_fail != NULL) ratelimit_give(ctx->login_fail, a->client_key);
        attempt_free(a);
        reply_throttled(req, retry);
        return false;
    }
    return true;
}

void login_attempt_failed(auth_ctx_t *ctx, login_attempt_t *a) {
    (void)ctx;
    attempt_free(a);
}

void login_attempt_succeeded(auth_ctx_t *ctx, login_attempt_t *a) {
    if (ctx->login_fail != NULL) ratelimit_reset(ctx->login_fail, a->client_key);
    if (a->user_key != NULL) ratelimit_give(ctx->login_all, a->user_key);
    attempt_free(a);
}

void login_attempt_void(auth_ctx_t *ctx, login_attempt_t *a) {
    if (ctx->login_fail != NULL) ratelimit_give(ctx->login_fail, a->client_key);
    if (a->user_key != NULL) ratelimit_give(ctx->login_all, a->user_key);
    attempt_free(a);
}

/* ---------------------------------------------------------------- handlers */

void sessions_login(http_req_t *req, void *arg) {
    auth_ctx_t *ctx = service_data(arg);
    cJSON *body = json_body(req);
    if (body == NULL) return;

    const char *username = NULL, *password = NULL;
    cJSON *p = problem_new(400, "invalid login request");
    json_field_string(body, "username", true, 1, 1024, true, &username, p);
    json_field_string(body, "password", true, 1, 1024, true, &password, p);
    if (http_reply_if_invalid(req, p) != 0) return;

    char *key = str_lower(username);
    login_attempt_t attempt;
    if (!login_attempt_begin(ctx, req, key, &attempt)) {
        free(key);
        return;
    }
    cJSON *user = NULL;
    int rc = users_find_by_username(ctx, username, &user);
    if (rc == STORE_ERR) {
        login_attempt_void(ctx, &attempt);
        free(key);
        http_reply_store_error(req, rc, "login: find user");
        return;
    }
    /* an unknown user costs the same argon2id verification as a wrong password, in a lane
     * of its own that refuses at once when full (passwords.c) */
    if (user == NULL && password_verify_unknown(password) != 0) {
        login_attempt_void(ctx, &attempt);
        free(key);
        http_add_header(req, "Retry-After", "1");
        http_reply_problem(req, 503, "too many logins are being checked; try again shortly");
        metrics_inc("tizza_auth_logins_total", "result=\"busy\"", 1);
        return;
    }
    if (user == NULL || !password_verify(json_str(user, "password_hash"), password)) {
        login_attempt_failed(ctx, &attempt);
        free(key);
        cJSON_Delete(user);
        http_reply_problem(req, 401, "invalid username or password");
        metrics_inc("tizza_auth_logins_total", "result=\"failed\"", 1);
        return;
    }
    char *refresh = NULL;
    char *access = session_access_token(ctx, user);
    rc = access ? session_refresh_insert(ctx, json_str(user, "id"), NULL, &refresh) : STORE_ERR;
    if (rc == STORE_OK) {
        session_set_cookies(ctx, req, access, refresh);
        device_cookie_set(ctx, req, key, &attempt);
    }
    login_attempt_succeeded(ctx, &attempt);
    free(key);
    if (rc != STORE_OK) {
        free(access);
        cJSON_Delete(user);
        http_reply_store_error(req, rc, "login: issue tokens");
        return;
    }
    http_reply_json(req, 200, session_body(ctx, user, access));
    cJSON *fields = cJSON_CreateObject(); /* never the typed username: it may be a password */
    cJSON_AddStringToObject(fields, "user_id", json_str(user, "id"));
    log_fields(LOG_INFO, "login", fields);
    metrics_inc("tizza_auth_logins_total", "result=\"ok\"", 1);
    free(access);
    free(refresh);
    cJSON_Delete(user);
}

/* The refresh token presented: JSON body {"refresh_token"} first, else the cookie.
 * Returns 0 (*tok may be NULL when none was given) or -1 when it already answered 400. */
static int presented_refresh(http_req_t *req, const char **tok, bool *from_body) {
    size_t len = 0;
    *tok = NULL;
    *from_body = false;
    (void)http_body(req, &len);
    if (len > 0) {
        cJSON *body = json_body(req);
        if (body == NULL) return -1;
        cJSON *p = problem_new(400, "invalid request body");
        const char *t = NULL;
        int r = json_field_string(body, "refresh_token", false, 1, TOKEN_MAX_BYTES, true, &t, p);
        if (r == JSON_BAD) {
            http_reply_problem_obj(req, p);
            return -1;
        }
        cJSON_Delete(p);
        if (r == JSON_OK) {
            *tok = t;
            *from_body = true;
            return 0;
        }
    }
    *tok = http_cookie(req, AUTH_COOKIE_REFRESH);
    if (*tok != NULL && (**tok == '\0' || strlen(*tok) > TOKEN_MAX_BYTES)) *tok = NULL;
    return 0;
}

/* Finds the stored refresh token: STORE_OK (*out), STORE_NOTFOUND or STORE_ERR. */
static int refresh_find(auth_ctx_t *ctx, const char *tok, cJSON **out) {
    char hash[AUTH_TOKEN_HASH_HEX];
    auth_token_hash_hex(tok, hash);
    store_filter_t *f = store_filter_new();
    store_where_str(f, "token_hash", STORE_EQ, hash);
    int rc = store_find_one(ctx->store, AUTH_COLL_REFRESH, f, out);
    store_filter_free(f);
    return rc;
}

/* ---- the successor of a rotated token, sealed with the rotated token itself ----
 * A rotated token's document keeps its successor encrypted (crypto_secretbox) under a key
 * derived from the rotated token (keyed BLAKE2b, so it is not derivable from the stored
 * SHA-256): only someone presenting the rotated token can open it, which is what the grace
 * window gives them anyway. */

#define SUCCESSOR_MAX 64 /* a refresh token is 43 base64url chars */
#define SUCCESSOR_BOX (crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + SUCCESSOR_MAX)

static void successor_key(const char *tok, unsigned char key[crypto_secretbox_KEYBYTES]) {
    static const char personal[] = "tizza refresh successor v1";
    crypto_generichash(key, crypto_secretbox_KEYBYTES, (const unsigned char *)tok, strlen(tok),
                       (const unsigned char *)personal, sizeof personal - 1);
}

/* base64url(nonce || secretbox(next)) under tok's key; malloc'd, NULL on failure. */
static char *successor_seal(const char *tok, const char *next) {
    unsigned char key[crypto_secretbox_KEYBYTES], box[SUCCESSOR_BOX];
    size_t n = strlen(next);
    if (n > SUCCESSOR_MAX) return NULL;
    successor_key(tok, key);
    randombytes_buf(box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, (const unsigned char *)next, n, box,
                          key);
    sodium_memzero(key, sizeof key);
    return b64url_encode(box, crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n);
}

/* The successor sealed in `sealed` under tok's key; malloc'd, NULL when it does not open. */
static char *successor_open(const char *tok, const char *sealed) {
    unsigned char key[crypto_secretbox_KEYBYTES], box[SUCCESSOR_BOX];
    size_t len = 0;
    const size_t head = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
    if (sealed == NULL || strlen(sealed) > 2 * sizeof box ||
        b64url_decode(sealed, box, sizeof box, &len) != 0 || len <= head)
        return NULL;
    char *next = xcalloc(1, len - head + 1);
    successor_key(tok, key);
    int rc = crypto_secretbox_open_easy((unsigned char *)next, box + crypto_secretbox_NONCEBYTES,
                                        len - crypto_secretbox_NONCEBYTES, box, key);
    sodium_memzero(key, sizeof key);
    if (rc != 0 || strlen(next) != len - head) {
        free(next);
        return NULL;
    }
    return next;
}

/* ---- rotation ---- */

struct rotation {
    auth_ctx_t *ctx;
    const char *tok; /* the presented token */
    const cJSON *doc;
    char *next;
};

/* One run of rotate()'s transaction (store_transact): marks the token used -- only if it
 * still is unused -- with the time and its successor sealed under it, and inserts the
 * successor. Re-runnable: each run makes a new successor. */
static store_rc_t rotate_txn(store_t *s, void *arg) {
    struct rotation *r = arg;
    cJSON *next_doc = NULL;
    long matched = 0;
    free(r->next);
    r->next = NULL;
    int rc = refresh_new(r->ctx, json_str(r->doc, "user_id"), json_str(r->doc, "family_id"),
                         &r->next, &next_doc);
    if (rc != STORE_OK) return rc;
    char *sealed = successor_seal(r->tok, r->next);
    if (sealed == NULL) {
        cJSON_Delete(next_doc);
        return STORE_ERR;
    }
    store_filter_t *f = store_filter_new();
    store_where_str(f, "id", STORE_EQ, json_str(r->doc, "id"));
    store_where_bool(f, "used", false);
    cJSON *set = cJSON_CreateObject();
    cJSON_AddBoolToObject(set, "used", true);
    cJSON_AddNumberToObject(set, "used_at_ms", (double)now_ms());
    cJSON_AddStringToObject(set, "next_id", json_str(next_doc, "id"));
    cJSON_AddStringToObject(set, "next_sealed", sealed);
    rc = store_update(s, AUTH_COLL_REFRESH, f, set, NULL, &matched);
    cJSON_Delete(set);
    store_filter_free(f);
    free(sealed);
    if (rc == STORE_OK && matched != 1) rc = STORE_CONFLICT;
    if (rc == STORE_OK) rc = store_insert(s, AUTH_COLL_REFRESH, next_doc);
    cJSON_Delete(next_doc);
    return rc;
}

/* Marks `doc` (the stored form of `tok`) used and inserts its successor, in one
 * transaction. STORE_OK with *next set; STORE_CONFLICT when it was used meanwhile. On
 * MongoDB the loser of two concurrent rotations of one token aborts with a write conflict
 * and runs again (store_transact); once the winner has committed, the rerun finds the token
 * used and matches nothing: STORE_CONFLICT too. (STORE_RETRY only if the winner is still
 * uncommitted when store_transact()'s budget ends.) */
static int rotate(auth_ctx_t *ctx, const char *tok, const cJSON *doc, char **next) {
    struct rotation r = {ctx, tok, doc, NULL};
    int rc = store_transact(ctx->store, rotate_txn, &r);
    if (rc != STORE_OK) {
        free(r.next);
        r.next = NULL;
    }
    *next = r.next;
    return rc;
}

/* ---- a second use of a rotated token ---- */

static bool doc_flag(const cJSON *doc, const char *name) {
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, name));
}

enum grace_rc { GRACE_OK, GRACE_REUSE, GRACE_REVOKED, GRACE_ERR };

#define GRACE_HOPS 8 /* rotations followed from a presented token */

/* `tok` (stored as `doc`) was already rotated. Within REFRESH_GRACE_MS of that rotation --
 * two tabs refreshing at once, a retried request -- the answer is its successor: followed
 * through further rotations that are each within the window too, to the family's newest,
 * unused token (*live, malloc'd; *live_doc). Anything else is a reuse (GRACE_REUSE), or a
 * revoked family (GRACE_REVOKED), or a store error (GRACE_ERR). */
static int grace_successor(auth_ctx_t *ctx, const char *tok, const cJSON *doc, char **live,
                           cJSON **live_doc) {
    int64_t now = now_ms();
    char *cur_tok = xstrdup(tok);
    cJSON *cur = cJSON_Duplicate(doc, true);
    int result = GRACE_REUSE;
    *live = NULL;
    *live_doc = NULL;
    for (int hop = 0; result == GRACE_REUSE && hop <= GRACE_HOPS; hop++) {
        if (doc_flag(cur, "revoked")) {
            result = GRACE_REVOKED;
            break;
        }
        if (!doc_flag(cur, "used")) {
            if (hop == 0) { /* not rotated after all: nothing to answer from here */
                result = GRACE_ERR;
                break;
            }
            *live = cur_tok;
            *live_doc = cur;
            return GRACE_OK;
        }
        const cJSON *at = cJSON_GetObjectItemCaseSensitive(cur, "used_at_ms");
        if (ctx->refresh_grace_ms <= 0 || !cJSON_IsNumber(at) ||
            (double)now - at->valuedouble > (double)ctx->refresh_grace_ms)
            break;
        char *next = successor_open(cur_tok, json_str(cur, "next_sealed"));
        if (next == NULL) break;
        cJSON *next_doc = NULL;
        int rc = refresh_find(ctx, next, &next_doc);
        const char *want = json_str(cur, "next_id");
        const char *got = rc == STORE_OK ? json_str(next_doc, "id") : NULL;
        bool same = want != NULL && got != NULL && strcmp(want, got) == 0;
        if (rc == STORE_ERR) result = GRACE_ERR;
        free(cur_tok);
        cJSON_Delete(cur);
        cur_tok = next;
        cur = next_doc;
        if (!same) break;
    }
    free(cur_tok);
    cJSON_Delete(cur);
    return result;
}

/* A reuse: the token leaked (or was replayed after the grace window). Revokes its family,
 * so that both the thief and the victim must log in again, and answers 401. */
static void reply_reuse(auth_ctx_t *ctx, http_req_t *req, const cJSON *doc) {
    if (revoke_family(ctx, json_str(doc, "family_id")) != STORE_OK)
        log_msg(LOG_ERROR, "cannot revoke a refresh family: %s", store_errmsg());
    cJSON *fields = cJSON_CreateObject();
    cJSON_AddStringToObject(fields, "user_id", json_str(doc, "user_id"));
    log_fields(LOG_WARN, "refresh token reused; family revoked", fields);
    metrics_inc("tizza_auth_refresh_reuse_total", "", 1);
    http_reply_problem(req, 401, "refresh token already used; session revoked");
}

void sessions_refresh(http_req_t *req, void *arg) {
    auth_ctx_t *ctx = service_data(arg);
    const char *tok = NULL;
    bool from_body = false;
    char now[32];
    if (presented_refresh(req, &tok, &from_body) != 0) return;
    if (tok == NULL) {
        http_reply_problem(req, 401, "no refresh token");
        return;
    }
    cJSON *doc = NULL, *user = NULL, *body = NULL, *live_doc = NULL;
    char *next = NULL, *access = NULL;
    int rc = refresh_find(ctx, tok, &doc);
    if (rc == STORE_NOTFOUND) {
        http_reply_problem(req, 401, "invalid refresh token");
        return;
    }
    if (rc != STORE_OK) {
        http_reply_store_error(req, rc, "refresh: find token");
        return;
    }
    if (doc_flag(doc, "revoked")) {
        http_reply_problem(req, 401, "refresh token revoked");
        goto out;
    }
    iso_now(now);
    const char *exp = json_str(doc, "expires_at");
    if (!doc_flag(doc, "used") && (exp == NULL || strcmp(exp, now) <= 0)) {
        http_reply_problem(req, 401, "refresh token expired");
        goto out;
    }
    rc = store_get(ctx->store, AUTH_COLL_USERS, json_str(doc, "user_id"), &user);
    if (rc == STORE_NOTFOUND) {
        http_reply_problem(req, 401, "user no longer exists");
        goto out;
    }
    if (rc != STORE_OK) {
        http_reply_store_error(req, rc, "refresh: find user");
        goto out;
    }

    if (!doc_flag(doc, "used")) {
        rc = rotate(ctx, tok, doc, &next);
        if (rc == STORE_CONFLICT || rc == STORE_RETRY) {
            /* rotated concurrently: this is a second use now */
            cJSON_Delete(doc);
            doc = NULL;
            int frc = refresh_find(ctx, tok, &doc);
            if (frc != STORE_OK) {
                http_reply_store_error(req, frc, "refresh: find token");
                goto out;
            }
            if (!doc_flag(doc, "used") && !doc_flag(doc, "revoked")) {
                /* the other rotation is still uncommitted (MongoDB, STORE_RETRY) */
                http_add_header(req, "Retry-After", "1");
                http_reply_problem(req, 503, "a concurrent refresh is in progress; try again");
                goto out;
            }
        } else if (rc != STORE_OK) {
            http_reply_store_error(req, rc, "refresh: rotate");
            goto out;
        }
    }
    if (next == NULL) {
        switch (grace_successor(ctx, tok, doc, &next, &live_doc)) {
        case GRACE_OK: metrics_inc("tizza_auth_refresh_grace_total", "", 1); break;
        case GRACE_REVOKED: http_reply_problem(req, 401, "refresh token revoked"); goto out;
        case GRACE_REUSE: reply_reuse(ctx, req, doc); goto out;
        default: http_reply_store_error(req, STORE_ERR, "refresh: find successor"); goto out;
        }
    }
    access = session_access_token(ctx, user);
    if (access == NULL) {
        http_reply_problem(req, 500, "internal error");
        goto out;
    }
    session_set_cookies(ctx, req, access, next);
    body = session_body(ctx, user, access);
    if (from_body) cJSON_AddStringToObject(body, "refresh_token", next);
    http_reply_json(req, 200, body);
out:
    free(access);
    free(next);
    cJSON_Delete(doc);
    cJSON_Delete(live_doc);
    cJSON_Delete(user);
}

void sessions_logout(http_req_t *req, void *arg) {
    auth_ctx_t *ctx = service_data(arg);
    const char *tok = NULL;
    bool from_body = false;
    if (presented_refresh(req, &tok, &from_body) != 0) return;
    if (tok != NULL) {
        cJSON *doc = NULL;
        int rc = refresh_find(ctx, tok, &doc);
        if (rc == STORE_OK) rc = revoke_family(ctx, json_str(doc, "family_id"));
        cJSON_Delete(doc);
        if (rc != STORE_OK && rc != STORE_NOTFOUND) {
            http_reply_store_error(req, rc, "logout: revoke");
            return;
        }
    }
    session_clear_cookies(ctx, req);
    http_reply_empty(req, 204);
}

void sessions_me(http_req_t *req, void *arg) {
    auth_ctx_t *ctx = service_data(arg);
    authn_user_t u;
    if (authn_require(req, &u) != 0) return;
    cJSON *user = NULL;
    int rc = store_get(ctx->store, AUTH_COLL_USERS, u.id, &user);
    if (rc == STORE_NOTFOUND) {
        http_reply_problem(req, 401, "user no longer exists");
        return;
    }
    if (rc != STORE_OK) {
        http_reply_store_error(req, rc, "me: find user");
        return;
    }
    http_reply_json(req, 200, user_view(user, true));
    cJSON_Delete(user);
}

void sessions_jwks(http_req_t *req, void *arg) {
    auth_ctx_t *ctx = service_data(arg);
    http_reply_json(req, 200, token_jwks(&ctx->key, 1));
}
