/* authn -- who is calling: verifies the access token of a request, in every service.
 *
 * The token comes from "Authorization: Bearer <jwt>" or the HttpOnly cookie `tizza_access`.
 * Verification is local, with the keys given by authn_set_keys() (auth passes its own key;
 * other services load AUTH_PUBLIC_KEY or fetch auth's JWKS with authn_fetch_jwks()).
 * A token whose `sub` was marked deleted (authn_mark_deleted, fed by user.deleted events
 * or by the service's store) is refused like an invalid one.
 *
 * Lifetime. A token must carry "iat", and exp - iat may exceed the longest access-token
 * lifetime (authn_set_max_lifetime) by TOKEN_LEEWAY_S at most: a token signed with exp far
 * ahead is refused even with a good signature. Every service reads that maximum from
 * ACCESS_TTL (authn_config_access_ttl), the variable whose value auth gives its tokens, so
 * one setting serves the signer and the verifiers, and the defaults agree (one row,
 * authn_config_vars). */
#ifndef TIZZA_AUTHN_H
#define TIZZA_AUTHN_H

#include "http.h"
#include "token.h"
#include <stdbool.h>

typedef struct {
    char id[32]; /* sub */
    char username[64];
    char role[16]; /* "user" or "admin" */
    char jti[64];
    int64_t exp;
} authn_user_t;

#define AUTHN_ACCESS_TTL_DEFAULT 900 /* ACCESS_TTL: seconds */
#define AUTHN_ACCESS_TTL_MIN     10
#define AUTHN_ACCESS_TTL_MAX     86400

/* The longest access-token lifetime accepted, in seconds (AUTHN_ACCESS_TTL_DEFAULT until
 * set). Also how long a deleted user is remembered: that lifetime plus 5 minutes. */
void authn_set_max_lifetime(long seconds);
long authn_max_lifetime(void);
/* ACCESS_TTL, read by auth and the other services alike (config.h's table). */
extern const config_var_t authn_config_vars[];
/* AUTH_PUBLIC_KEY, AUTH_URL and AUTH_WAIT_MS, read by the services that verify with auth's
 * keys (service_def_t.remote_keys). */
extern const config_var_t authn_remote_config_vars[];

/* Declares authn_config_vars, reads ACCESS_TTL (a bad value exits 2 like every config_*()),
 * makes it the longest lifetime accepted and returns it (auth also issues tokens for it). */
long authn_config_access_ttl(void);

/* Copies the keys; thread-safe against concurrent verification. */
void authn_set_keys(const token_key_t *keys, int n);
/* Fetches {auth_url}/api/v1/auth/jwks with retries for up to `wait_ms`; 0 on success. */
int authn_fetch_jwks(const char *auth_url, int wait_ms);
/* Loads keys from AUTH_PUBLIC_KEY if set (returns 1), else returns 0. -1 when invalid.
 * Declares authn_remote_config_vars. */
int authn_keys_from_env(void);
/* The service_def_t.load_keys of services other than auth: ACCESS_TTL (the longest lifetime
 * accepted, authn_config_access_ttl), then the keys: AUTH_PUBLIC_KEY when set (exits 2 when
 * invalid), else the JWKS of AUTH_URL, retried for up to AUTH_WAIT_MS (defaults: the rows of
 * authn_remote_config_vars). 0 on success, -1 (logged) when no key was fetched. */
int authn_load_remote_keys(void);

/* 0 and *u filled when the request carries a valid token; otherwise answers 401 and
 * returns -1. */
int authn_require(http_req_t *req, authn_user_t *u);
/* Like authn_require, but also accepts a deleted user's still-unexpired token (for the
 * erasure status of that very user). */
int authn_require_signed(http_req_t *req, authn_user_t *u);
/* 0 valid (filled), 1 no credentials, -1 invalid credentials (answered 401). */
int authn_optional(http_req_t *req, authn_user_t *u);
bool authn_is_admin(const authn_user_t *u);

/* Deleted-user memory (the longest access-token lifetime plus 5 minutes). */
void authn_mark_deleted(const char *user_id);
bool authn_is_deleted(const char *user_id);

#endif
