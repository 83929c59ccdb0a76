/* token -- JSON Web Tokens signed with Ed25519 ("alg":"EdDSA", RFC 8037) on libsodium.
 *
 * A token is base64url(header).base64url(claims).base64url(signature) without padding.
 * The header is {"alg":"EdDSA","typ":"JWT","kid":<key id>}. Verification accepts only
 * EdDSA, checks the signature against the key named by "kid" (or the only key when the
 * token has none), requires numeric "exp" in the future (and "iat" not in the future beyond
 * 60 s leeway; with token_verify_lifetime also "iat" present and exp - iat bounded) and
 * returns the claims. It rejects "alg":"none", any other algorithm, bad
 * signatures, malformed base64url or JSON with a reason string (never the token). */
#ifndef TIZZA_TOKEN_H
#define TIZZA_TOKEN_H

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdint.h>

typedef struct {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES]; /* all zero for verify-only keys */
    char kid[24]; /* base64url of the first 12 bytes of sha256(pk) */
} token_key_t;

/* New random key pair. */
void token_key_generate(token_key_t *k);
/* From a base64url (or standard base64) 32-byte seed, as in AUTH_SIGNING_KEY. -1 if bad. */
int token_key_from_seed(token_key_t *k, const char *seed_b64);
/* From the raw 32-byte seed. */
void token_key_from_seed_bytes(token_key_t *k, const unsigned char seed[crypto_sign_SEEDBYTES]);
/* Seed as base64url (malloc'd), for keeping the key in a store. */
char *token_key_seed(const token_key_t *k);
/* Verify-only key from a base64url 32-byte public key ("x" of a JWK, AUTH_PUBLIC_KEY). */
int token_key_from_public(token_key_t *k, const char *pk_b64);

/* Signs `claims` (copied; not modified). Returns the malloc'd JWT or NULL. */
char *token_sign(const token_key_t *k, const cJSON *claims);

/* Verifies with one of `keys`. now_s = current epoch seconds. On success *claims = new
 * object (caller frees) and returns 0; else -1 and *why = static reason. */
int token_verify(const token_key_t *keys, int nkeys, const char *jwt, int64_t now_s, cJSON **claims,
                 const char **why);
/* token_verify, and the lifetime the issuer gave the token is bounded: numeric "iat" is
 * required and exp - iat may exceed max_lifetime_s by TOKEN_LEEWAY_S at most ("missing or
 * invalid iat", "lifetime too long"). So a token signed with exp far in the future is
 * refused even though its signature holds. max_lifetime_s <= 0: no bound (token_verify). */
int token_verify_lifetime(const token_key_t *keys, int nkeys, const char *jwt, int64_t now_s,
                          int64_t max_lifetime_s, cJSON **claims, const char **why);

#define TOKEN_LEEWAY_S 60 /* allowed clock skew for "iat"/"nbf", slack on the lifetime */

/* {"keys":[{"kty":"OKP","crv":"Ed25519","x":...,"kid":...,"alg":"EdDSA","use":"sig"}]} */
cJSON *token_jwks(const token_key_t *keys, int nkeys);
/* Parses a JWKS document into up to `max` verify-only keys; returns the count or -1. */
int token_keys_from_jwks(const cJSON *jwks, token_key_t *keys, int max);

/* base64url without padding (malloc'd) and back (-1 on bad input; *outlen set). */
char *b64url_encode(const unsigned char *data, size_t len);
int b64url_decode(const char *s, unsigned char *out, size_t outmax, size_t *outlen);
/* Exactly `want` bytes from base64url or standard base64, padded or not (as the seeds and
 * keys taken from configuration are written). 0, or -1. */
int b64_decode_exact(const char *s, unsigned char *out, size_t want);

#endif
