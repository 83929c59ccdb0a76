/* auth -- the tizza-auth service's shared context and the functions its files share.
 *
 * As in every Tizza service, the `ctx` of every route is the service_t; auth's own state is
 * one auth_ctx_t, made by main.c's setup and kept as the service's data (a handler starts
 * with `auth_ctx_t *ctx = service_data(arg)`). It is read-only once the server runs, except
 * for the objects that are thread-safe themselves (store_t, ratelimit_t). Files:
 *   main.c      argv, configuration, store, migrations, routes
 *   users.c     signup, list, get, patch, delete, create-superuser
 *   sessions.c  login, refresh, logout, me, jwks; access/refresh tokens and cookies
 *   keys.c      the Ed25519 signing key (AUTH_SIGNING_KEY, or kept in the store encrypted
 *               with AUTH_KEY_ENCRYPTION_KEY)
 *   passwords.c argon2id hashing and verification (libsodium)
 * The API these implement is proto-docs/auth.openapi.yaml. */
#ifndef TIZZA_AUTH_H
#define TIZZA_AUTH_H

#include "http.h"
#include "ratelimit.h"
#include "service.h"
#include "store.h"
#include "token.h"

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_COLL_USERS    "users"
#define AUTH_COLL_REFRESH  "refresh_tokens"
#define AUTH_COLL_KEYS     "keys"
#define AUTH_COLL_ERASURES "erasures"

#define AUTH_COOKIE_ACCESS  "tizza_access"
#define AUTH_COOKIE_REFRESH "tizza_refresh"
#define AUTH_COOKIE_DEVICE  "tizza_device"

/* Field limits (SPEC §4, proto-docs/auth.openapi.yaml). */
#define USERNAME_MIN 3
#define USERNAME_MAX 30
#define EMAIL_MIN    3
#define EMAIL_MAX    254
#define PASSWORD_MIN 8
#define PASSWORD_MAX 256
#define NAME_MAX_CP  100

typedef struct {
    service_t *svc; /* for waking the outbox relay after a commit */
    store_t *store;
    token_key_t key;         /* the signing key (secret half included) */
    long access_ttl;         /* ACCESS_TTL seconds */
    long refresh_ttl;        /* REFRESH_TTL seconds */
    long refresh_grace_ms;   /* REFRESH_GRACE_MS: a rotated token's second use window */
    bool cookie_secure;      /* COOKIE_SECURE */
    ratelimit_t *login_fail; /* failures per (username, client); NULL when disabled */
    ratelimit_t *login_all;  /* failures per username from unknown devices; NULL = off */
    int store_flags;         /* HTTP_INLINE, or HTTP_OFFLOAD on MongoDB */
    /* ERASURE_SERVICES, else the events document's publishers of user.erased; read once at
     * start (erasure.c); owned */
    char *erasure_services;
    /* keys the device cookies (sessions.c); derived from the signing key */
    unsigned char device_key[crypto_generichash_KEYBYTES];
} auth_ctx_t;

/* ---- passwords.c ---- */
/* Reads HASH_CONCURRENCY and LOGIN_UNKNOWN_QUEUE. Call once before serving (without it,
 * as in commands, hashes run at once). 0 or -1. */
int passwords_init(void);
/* HASH_CONCURRENCY and LOGIN_UNKNOWN_QUEUE (config.h's table), read by passwords_init(). */
extern const config_var_t passwords_config_vars[];
/* argon2id hash of `pw` into out (crypto_pwhash_STRBYTES). 0, or -1 (out of memory). */
int password_hash(const char *pw, char out[crypto_pwhash_STRBYTES]);
/* True when `pw` matches a known user's `hash` (false for a NULL or broken hash, after the
 * same time). Waits for a hash slot ahead of any unknown-user verification. */
bool password_verify(const char *hash, const char *pw);
/* For a username that does not exist: spends the time of a verification (against a dummy
 * hash) so that it looks like a wrong password. Uses the unknown-user lane: 0 once done, or
 * -1 at once, without hashing, when its bounded queue is full (answer 503). */
int password_verify_unknown(const char *pw);

/* ---- keys.c ---- */
#define AUTH_KEK_BYTES 32
/* AUTH_KEY_ENCRYPTION_KEY into kek: 1, or 0 when unset. A malformed value exits 2. */
int keys_kek_from_config(unsigned char kek[AUTH_KEK_BYTES]);
/* Loads the signing key kept in the store (collection "keys", id "signing") encrypted with
 * kek, generating and keeping one on first start and encrypting one an older version kept in
 * clear. 0, or -1 (logged); a key that does not open with kek exits 2 (config error). */
int keys_load(store_t *s, const unsigned char kek[AUTH_KEK_BYTES], token_key_t *out);

/* ---- users.c ---- */
bool username_valid(const char *s);
bool email_valid(const char *s);
/* {"id","username","name","created_at"} (+ "email","role","updated_at" when private). */
cJSON *user_view(const cJSON *doc, bool private_view);
/* The user document whose username_key is lower(username): STORE_OK (*out set),
 * STORE_NOTFOUND or STORE_ERR. */
int users_find_by_username(auth_ctx_t *ctx, const char *username, cJSON **out);

void users_signup(http_req_t *req, void *ctx);
void users_list(http_req_t *req, void *ctx);
void users_get(http_req_t *req, void *ctx);
void users_patch(http_req_t *req, void *ctx);
void users_delete(http_req_t *req, void *ctx);

/* create-superuser: promote an existing user (STORE_OK, id written to id_out), or
 * STORE_NOTFOUND / STORE_ERR. */
int superuser_promote(auth_ctx_t *ctx, const char *username, char id_out[32]);
/* Create a new admin. STORE_OK, STORE_CONFLICT (username/email taken) or STORE_ERR. */
int superuser_create(auth_ctx_t *ctx, const char *username, const char *email, const char *password,
                     char id_out[32]);

/* ---- sessions.c ---- */
/* Signed access token for a user document; malloc'd, NULL on failure. */
char *session_access_token(const auth_ctx_t *ctx, const cJSON *user);
/* Creates and stores a refresh token of `family_id` (NULL: a new family) for user_id, in
 * the caller's transaction if one is open. *token = malloc'd opaque token. Store rc. */
int session_refresh_insert(auth_ctx_t *ctx, const char *user_id, const char *family_id,
                           char **token);
void session_set_cookies(const auth_ctx_t *ctx, http_req_t *req, const char *access,
                         const char *refresh);
void session_clear_cookies(const auth_ctx_t *ctx, http_req_t *req);

/* Derives ctx->device_key from the signing key. Call once the key is loaded. */
void session_device_key_init(auth_ctx_t *ctx);

/* Password attempts for one username (login, and a user proving their current password).
 * Each attempt is counted, before the password is verified, against (username, client):
 * the client is the device -- a valid device cookie that a successful login for this
 * username issued -- else the client address (an IPv6 address by its /64):
 * LOGIN_FAILURES_PER_USER per 15 minutes. Attempts from clients that are not a known device
 * are also counted against the username alone (LOGIN_FAILURES_PER_USER_TOTAL per 15
 * minutes), the backstop against many addresses. A success forgets the (username, client)
 * attempts and gives back the one taken from the username's. */
typedef struct {
    char *client_key;  /* key of the (username, client) limiter */
    char *user_key;    /* key of the per-username limiter, NULL when not counted there */
    bool known_device; /* a valid device cookie for this username came with the request */
    unsigned char device_id[16];
} login_attempt_t;
/* Counts one attempt of `username_key` (lowercase). When refused answers 429 with
 * Retry-After and returns false; otherwise the caller ends it with one of the three below. */
bool login_attempt_begin(auth_ctx_t *ctx, http_req_t *req, const char *username_key,
                         login_attempt_t *a);
/* The password was wrong: the attempt stays counted. */
void login_attempt_failed(auth_ctx_t *ctx, login_attempt_t *a);
/* The password was right. */
void login_attempt_succeeded(auth_ctx_t *ctx, login_attempt_t *a);
/* No password was verified (store error, no capacity): the attempt is given back. */
void login_attempt_void(auth_ctx_t *ctx, login_attempt_t *a);

void sessions_login(http_req_t *req, void *ctx);
void sessions_refresh(http_req_t *req, void *ctx);
void sessions_logout(http_req_t *req, void *ctx);
void sessions_me(http_req_t *req, void *ctx);
void sessions_jwks(http_req_t *req, void *ctx);
#define AUTH_TOKEN_HASH_HEX (crypto_hash_sha256_BYTES * 2 + 1)
/* The hex SHA-256 of a secret token, what the store keeps instead of it (refresh tokens,
 * erasure receipts). */
void auth_token_hash_hex(const char *token, char out[AUTH_TOKEN_HASH_HEX]);

/* ---- erasure.c ---- */
/* A new erasure receipt: 32 random bytes, base64url (43 characters), malloc'd. */
char *erasure_receipt_new(void);
/* Inside the caller's transaction: the erasure record (keeping the receipt's hash) and the
 * user.deleted event. */
int erasure_begin(auth_ctx_t *ctx, const char *user_id, const char *receipt);
/* GET /api/v1/users/{id}/erasure (the deleted user's last token or an admin) and
 * GET /api/v1/erasures/{receipt} (whoever holds the receipt). */
void erasure_get(http_req_t *req, void *ctx);
void erasure_by_receipt(http_req_t *req, void *ctx);
/* Registers the user.erased consumer. */
void erasure_consume(service_t *svc);

/* ---- generated (tools/embed.sh) ---- */
extern const char service_openapi_yaml[];
extern const char service_build_time[];

#endif
