/* token -- Ed25519 JSON Web Tokens (RFC 7519 + RFC 8037 "EdDSA") on libsodium.
 *
 * Design. A token is three base64url segments "H.C.S": H is the JSON header, C the JSON
 * claims and S the 64-byte detached Ed25519 signature over the ASCII text "H.C". Encoding
 * and decoding use libsodium's URL-safe, unpadded base64 (which also rejects stray bits and
 * characters), JSON is cJSON, signatures are crypto_sign_detached / verify_detached.
 *
 * A key's id ("kid") is base64url(sha256(pk)[0..12)), so it is derived from the public key
 * and the same on the signer and on every verifier without coordination.
 *
 * Verification is strict and runs in a fixed order, each failure giving a static reason:
 *   size (<= 8 KiB) -> three segments -> base64url of each -> header is an object with
 *   "alg":"EdDSA" -> key chosen by "kid" (or the only key) -> signature -> claims are an
 *   object -> numeric "exp" in the future -> "iat"/"nbf" not in the future beyond 60 s
 *   -> (token_verify_lifetime) numeric "iat" and exp - iat <= the maximum + 60 s.
 * The claims are parsed only after the signature holds. Nothing here ever logs a token.
 *
 * Ownership: every char* returned is malloc'd and owned by the caller; cJSON results too. */
#include "token.h"

#include "alloc.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_MAX_LEN  8192 /* longest token accepted, in characters */
#define KID_HASH_BYTES 12

static void ensure_sodium(void) {
    /* Idempotent and thread-safe; returns 1 when already initialised. Failure is only
     * possible without an entropy source, in which case nothing here can work anyway. */
    if (sodium_init() < 0) abort();
}

/* ---- base64url ---- */

char *b64url_encode(const unsigned char *data, size_t len) {
    const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    size_t cap = sodium_base64_ENCODED_LEN(len, variant);
    char *out = xmalloc(cap);
    sodium_bin2base64(out, cap, len ? data : (const unsigned char *)"", len, variant);
    return out;
}

/* libsodium 1.0.18 (Debian 12) reads each character as a signed char, so bytes from 0x80
 * up decode like '_' (or '/'): a token would still verify with such a byte in place of one.
 * Only the variant's own alphabet (and '=' where padded) is let through to it. */
static int b64_alphabet_ok(const char *s, size_t slen, int variant) {
    int url = variant == sodium_base64_VARIANT_URLSAFE ||
              variant == sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    int padded =
        variant == sodium_base64_VARIANT_URLSAFE || variant == sodium_base64_VARIANT_ORIGINAL;
    for (size_t i = 0; i < slen; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) continue;
        if (url ? (c == '-' || c == '_') : (c == '+' || c == '/')) continue;
        if (padded && c == '=') continue;
        return 0;
    }
    return 1;
}

static int b64_decode_variant(const char *s, size_t slen, int variant, unsigned char *out,
                              size_t outmax, size_t *outlen) {
    const char *end = NULL;
    size_t n = 0;
    if (!b64_alphabet_ok(s, slen, variant)) return -1;
    if (sodium_base642bin(out, outmax, s, slen, NULL, &n, &end, variant) != 0) return -1;
    if (end != s + slen) return -1; /* trailing characters that are not base64 */
    *outlen = n;
    return 0;
}

int b64url_decode(const char *s, unsigned char *out, size_t outmax, size_t *outlen) {
    size_t n = 0;
    if (outlen) *outlen = 0;
    if (!s) return -1;
    if (b64_decode_variant(s, strlen(s), sodium_base64_VARIANT_URLSAFE_NO_PADDING, out, outmax,
                           &n) != 0)
        return -1;
    if (outlen) *outlen = n;
    return 0;
}

int b64_decode_exact(const char *s, unsigned char *out, size_t want) {
    static const int variants[] = {
        sodium_base64_VARIANT_URLSAFE_NO_PADDING, sodium_base64_VARIANT_URLSAFE,
        sodium_base64_VARIANT_ORIGINAL_NO_PADDING, sodium_base64_VARIANT_ORIGINAL};
    if (!s) return -1;
    size_t slen = strlen(s);
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        size_t n = 0;
        if (b64_decode_variant(s, slen, variants[i], out, want, &n) == 0 && n == want) return 0;
    }
    return -1;
}

/* ---- keys ---- */

static void key_set_kid(token_key_t *k) {
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, k->pk, sizeof k->pk);
    sodium_bin2base64(k->kid, sizeof k->kid, h, KID_HASH_BYTES,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static bool key_can_sign(const token_key_t *k) { return !sodium_is_zero(k->sk, sizeof k->sk); }

void token_key_generate(token_key_t *k) {
    ensure_sodium();
    memset(k, 0, sizeof *k);
    crypto_sign_keypair(k->pk, k->sk);
    key_set_kid(k);
}

void token_key_from_seed_bytes(token_key_t *k, const unsigned char seed[crypto_sign_SEEDBYTES]) {
    ensure_sodium();
    memset(k, 0, sizeof *k);
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
    key_set_kid(k);
}

int token_key_from_seed(token_key_t *k, const char *seed_b64) {
    unsigned char seed[crypto_sign_SEEDBYTES];
    ensure_sodium();
    if (b64_decode_exact(seed_b64, seed, sizeof seed) != 0) return -1;
    token_key_from_seed_bytes(k, seed);
    sodium_memzero(seed, sizeof seed);
    return 0;
}

char *token_key_seed(const token_key_t *k) {
    unsigned char seed[crypto_sign_SEEDBYTES];
    if (!key_can_sign(k)) return NULL;
    crypto_sign_ed25519_sk_to_seed(seed, k->sk);
    char *out = b64url_encode(seed, sizeof seed);
    sodium_memzero(seed, sizeof seed);
    return out;
}

int token_key_from_public(token_key_t *k, const char *pk_b64) {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    ensure_sodium();
    if (!pk_b64) return -1;
    size_t n = 0;
    if (b64_decode_variant(pk_b64, strlen(pk_b64), sodium_base64_VARIANT_URLSAFE_NO_PADDING, pk,
                           sizeof pk, &n) != 0 ||
        n != sizeof pk)
        return -1;
    if (!crypto_core_ed25519_is_valid_point(pk)) return -1;
    memset(k, 0, sizeof *k);
    memcpy(k->pk, pk, sizeof pk);
    key_set_kid(k);
    return 0;
}

/* ---- signing ---- */

static char *json_b64(const cJSON *j) {
    char *text = cJSON_PrintUnformatted(j);
    char *out = b64url_encode((const unsigned char *)text, strlen(text));
    cJSON_free(text);
    return out;
}

static char *header_b64(const token_key_t *k) {
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "alg", "EdDSA");
    cJSON_AddStringToObject(h, "typ", "JWT");
    cJSON_AddStringToObject(h, "kid", k->kid);
    char *out = json_b64(h);
    cJSON_Delete(h);
    return out;
}

char *token_sign(const token_key_t *k, const cJSON *claims) {
    if (!k || !cJSON_IsObject(claims) || !key_can_sign(k)) return NULL;
    ensure_sodium();
    char *h = header_b64(k), *c = json_b64(claims);
    size_t hl = strlen(h), cl = strlen(c);
    size_t siglen =
        sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *jwt = xmalloc(hl + 1 + cl + 1 + siglen);
    memcpy(jwt, h, hl);
    jwt[hl] = '.';
    memcpy(jwt + hl + 1, c, cl);

    unsigned char sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, NULL, (const unsigned char *)jwt, hl + 1 + cl, k->sk);
    jwt[hl + 1 + cl] = '.';
    sodium_bin2base64(jwt + hl + 1 + cl + 1, siglen, sig, sizeof sig,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    free(h);
    free(c);
    return jwt;
}

/* ---- verification ---- */

typedef struct {
    const char *seg[3]; /* start of each segment inside the token */
    size_t len[3];
} jwt_parts_t;

static int split_token(const char *jwt, size_t n, jwt_parts_t *p) {
    const char *s = jwt, *end = jwt + n;
    for (int i = 0; i < 3; i++) {
        const char *dot = memchr(s, '.', (size_t)(end - s));
        if (i < 2 && !dot) return -1;
        if (i == 2 && dot) return -1; /* four or more segments */
        p->seg[i] = s;
        p->len[i] = (size_t)((i < 2 ? dot : end) - s);
        s = i < 2 ? dot + 1 : end;
    }
    return 0;
}

/* Decodes a segment into a fresh NUL-terminated buffer (caller frees). */
static unsigned char *decode_segment(const char *seg, size_t len, size_t *outlen) {
    unsigned char *buf = xmalloc(len + 1); /* decoded is always shorter than encoded */
    if (b64_decode_variant(seg, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING, buf, len, outlen) !=
        0) {
        free(buf);
        return NULL;
    }
    buf[*outlen] = '\0';
    return buf;
}

/* Parses a whole buffer as one JSON object; NULL when not JSON, trailing junk, not object. */
static cJSON *parse_object(const unsigned char *buf, size_t len) {
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts((const char *)buf, len, &end, 0);
    if (!j) return NULL;
    while (end && end < (const char *)buf + len && *end && strchr(" \t\r\n", *end)) end++;
    if (!cJSON_IsObject(j) || end != (const char *)buf + len) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* Picks the verification key named by the header, or the only key when there is no kid. */
static const token_key_t *pick_key(const token_key_t *keys, int nkeys, const cJSON *header,
                                   const char **why) {
    const cJSON *kid = cJSON_GetObjectItemCaseSensitive(header, "kid");
    if (!kid) {
        if (nkeys == 1) return &keys[0];
        *why = "missing kid";
        return NULL;
    }
    if (!cJSON_IsString(kid)) {
        *why = "invalid kid";
        return NULL;
    }
    for (int i = 0; i < nkeys; i++)
        if (strcmp(keys[i].kid, kid->valuestring) == 0) return &keys[i];
    *why = "unknown key";
    return NULL;
}

/* Checks the header and returns the key to verify with. */
static const token_key_t *check_header(const token_key_t *keys, int nkeys, const jwt_parts_t *p,
                                       const char **why) {
    size_t n = 0;
    unsigned char *buf = decode_segment(p->seg[0], p->len[0], &n);
    if (!buf) {
        *why = "malformed header encoding";
        return NULL;
    }
    cJSON *h = parse_object(buf, n);
    free(buf);
    if (!h) {
        *why = "malformed header";
        return NULL;
    }
    const token_key_t *key = NULL;
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
    if (!alg)
        *why = "missing alg";
    else if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "EdDSA") != 0)
        *why = "unsupported alg";
    else
        key = pick_key(keys, nkeys, h, why);
    cJSON_Delete(h);
    return key;
}

static int check_signature(const token_key_t *key, const jwt_parts_t *p, const char **why) {
    unsigned char sig[crypto_sign_BYTES];
    size_t n = 0;
    if (b64_decode_variant(p->seg[2], p->len[2], sodium_base64_VARIANT_URLSAFE_NO_PADDING, sig,
                           sizeof sig, &n) != 0 ||
        n != sizeof sig) {
        *why = "bad signature";
        return -1;
    }
    size_t signed_len = p->len[0] + 1 + p->len[1]; /* "H.C" is contiguous in the token */
    if (crypto_sign_verify_detached(sig, (const unsigned char *)p->seg[0], signed_len, key->pk) !=
        0) {
        *why = "bad signature";
        return -1;
    }
    return 0;
}

/* -1 when the claim is present but not a finite number; 0 absent; 1 present (*v set). */
static int number_claim(const cJSON *claims, const char *name, double *v) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(claims, name);
    if (!j) return 0;
    if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble)) return -1;
    *v = j->valuedouble;
    return 1;
}

/* max_life > 0: "iat" is required and exp - iat may not exceed max_life + leeway. */
static int check_times(const cJSON *claims, int64_t now_s, int64_t max_life, const char **why) {
    double exp = 0, iat = 0, nbf = 0, now = (double)now_s;
    if (number_claim(claims, "exp", &exp) != 1) {
        *why = "missing or invalid exp";
        return -1;
    }
    if (exp <= now) {
        *why = "expired";
        return -1;
    }
    int r = number_claim(claims, "iat", &iat);
    if (r < 0 || (r == 1 && iat > now + TOKEN_LEEWAY_S)) {
        *why = "invalid iat";
        return -1;
    }
    if (max_life > 0 && r != 1) {
        *why = "missing or invalid iat";
        return -1;
    }
    if (max_life > 0 && exp - iat > (double)max_life + TOKEN_LEEWAY_S) {
        *why = "lifetime too long";
        return -1;
    }
    r = number_claim(claims, "nbf", &nbf);
    if (r < 0 || (r == 1 && nbf > now + TOKEN_LEEWAY_S)) {
        *why = "not yet valid";
        return -1;
    }
    return 0;
}

static int fail(const char **why, const char *reason) {
    *why = reason;
    return -1;
}

static int verify(const token_key_t *keys, int nkeys, const char *jwt, int64_t now_s,
                  int64_t max_life, cJSON **out, const char **why) {
    if (!jwt || !*jwt) return fail(why, "missing token");
    if (!keys || nkeys <= 0) return fail(why, "no verification keys");
    size_t n = strnlen(jwt, TOKEN_MAX_LEN + 1);
    if (n > TOKEN_MAX_LEN) return fail(why, "token too long");

    jwt_parts_t p;
    if (split_token(jwt, n, &p) != 0) return fail(why, "malformed token");
    const token_key_t *key = check_header(keys, nkeys, &p, why);
    if (!key) return -1;

    size_t clen = 0;
    unsigned char *cbuf = decode_segment(p.seg[1], p.len[1], &clen);
    if (!cbuf) return fail(why, "malformed claims encoding");
    if (check_signature(key, &p, why) != 0) {
        free(cbuf);
        return -1;
    }
    cJSON *claims = parse_object(cbuf, clen);
    free(cbuf);
    if (!claims) return fail(why, "malformed claims");
    if (check_times(claims, now_s, max_life, why) != 0) {
        cJSON_Delete(claims);
        return -1;
    }
    *out = claims;
    return 0;
}

int token_verify_lifetime(const token_key_t *keys, int nkeys, const char *jwt, int64_t now_s,
                          int64_t max_lifetime_s, cJSON **claims, const char **why) {
    const char *reason = "invalid token";
    cJSON *c = NULL;
    ensure_sodium();
    if (claims) *claims = NULL;
    int rc = verify(keys, nkeys, jwt, now_s, max_lifetime_s, &c, &reason);
    if (why) *why = rc == 0 ? NULL : reason;
    if (rc == 0) {
        if (claims)
            *claims = c;
        else
            cJSON_Delete(c);
    }
    return rc;
}

int token_verify(const token_key_t *keys, int nkeys, const char *jwt, int64_t now_s, cJSON **claims,
                 const char **why) {
    return token_verify_lifetime(keys, nkeys, jwt, now_s, 0, claims, why);
}

/* ---- JWKS ---- */

cJSON *token_jwks(const token_key_t *keys, int nkeys) {
    cJSON *doc = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(doc, "keys");
    for (int i = 0; i < nkeys; i++) {
        char *x = b64url_encode(keys[i].pk, sizeof keys[i].pk);
        cJSON *jwk = cJSON_CreateObject();
        cJSON_AddStringToObject(jwk, "kty", "OKP");
        cJSON_AddStringToObject(jwk, "crv", "Ed25519");
        cJSON_AddStringToObject(jwk, "x", x);
        cJSON_AddStringToObject(jwk, "kid", keys[i].kid);
        cJSON_AddStringToObject(jwk, "alg", "EdDSA");
        cJSON_AddStringToObject(jwk, "use", "sig");
        cJSON_AddItemToArray(arr, jwk);
        free(x);
    }
    return doc;
}

static bool str_member_is(const cJSON *o, const char *name, const char *want) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(j) && strcmp(j->valuestring, want) == 0;
}

/* One JWK into *k. 1 used, 0 skipped (another key type or use), -1 malformed Ed25519 key. */
static int key_from_jwk(const cJSON *jwk, token_key_t *k) {
    if (!cJSON_IsObject(jwk)) return -1;
    if (!str_member_is(jwk, "kty", "OKP") || !str_member_is(jwk, "crv", "Ed25519")) return 0;
    const cJSON *use = cJSON_GetObjectItemCaseSensitive(jwk, "use");
    if (use && !str_member_is(jwk, "use", "sig")) return 0;
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(jwk, "alg");
    if (alg && !str_member_is(jwk, "alg", "EdDSA")) return 0;
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(jwk, "x");
    if (!cJSON_IsString(x) || token_key_from_public(k, x->valuestring) != 0) return -1;
    /* The issuer names its keys; keep its kid when one is given and fits. */
    const cJSON *kid = cJSON_GetObjectItemCaseSensitive(jwk, "kid");
    if (cJSON_IsString(kid) && kid->valuestring[0] && strlen(kid->valuestring) < sizeof k->kid)
        strcpy(k->kid, kid->valuestring);
    return 1;
}

int token_keys_from_jwks(const cJSON *jwks, token_key_t *keys, int max) {
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(jwks, "keys");
    if (!cJSON_IsObject(jwks) || !cJSON_IsArray(arr)) return -1;
    int n = 0;
    const cJSON *jwk;
    cJSON_ArrayForEach(jwk, arr) {
        if (n >= max) break;
        int r = key_from_jwk(jwk, &keys[n]);
        if (r < 0) return -1;
        n += r;
    }
    return n;
}
