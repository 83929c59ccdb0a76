/* authn -- who is calling: verifies the access token of a request, in every service.
 *
 * The token comes from "Authorization: Bearer <jwt>" or the HttpOnly cookie `tizza_access`.
 * Verification is local, with the keys given by authn_set_keys() (auth passes its own key;
 * other services load AUTH_PUBLIC_KEY or fetch auth's JWKS with authn_fetch_jwks()).
 * A token whose `sub` was marked deleted (authn_mark_deleted, fed by user.deleted events
 * or by the service's store) is refused like an invalid one. */
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

/* Copies the keys; thread-safe against concurrent verification. */
void authn_set_keys(const token_key_t *keys, int n);
/* Fetches {auth_url}/api/v1/auth/jwks with retries for up to `wait_ms`; 0 on success. */
int authn_fetch_jwks(const char *auth_url, int wait_ms);
/* Loads keys from AUTH_PUBLIC_KEY if set (returns 1), else returns 0. -1 when invalid. */
int authn_keys_from_env(void);
/* The service_def_t.load_keys of services other than auth: AUTH_PUBLIC_KEY when set (exits
 * 2 when invalid), else the JWKS of AUTH_URL (default http://127.0.0.1:8001), retried for
 * up to AUTH_WAIT_MS (default 30000). 0 on success, -1 (logged) when no key was fetched. */
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

/* Deleted-user memory (at least the access-token lifetime). */
void authn_mark_deleted(const char *user_id);
bool authn_is_deleted(const char *user_id);

#endif
