/* fuzz_token -- token.h on untrusted text: a bearer token, base64url, a JWKS document, the
 * key strings of AUTH_SIGNING_KEY / AUTH_PUBLIC_KEY, and claims to sign.
 *
 * Two fixed signing keys are made once from constant seeds (token_key_from_seed). Each
 * input, NUL-terminated, goes through:
 *   token_verify      as the token, against both keys, and against the first alone (the
 *                     no-kid path): a refusal gives a reason and no claims; a success
 *                     claims (it needs a valid signature, so it only comes from the seeds);
 *   b64url_decode     into a buffer of the input's size and into a 32-byte one: decoded
 *                     text encodes back to the same text (b64url_encode);
 *   token_key_from_seed / token_key_from_public: an accepted key string gives a key whose
 *                     seed or public key encodes back to a key with the same kid;
 *   cJSON_ParseWithLength, then on what it gives
 *     token_keys_from_jwks  keys with a NUL-terminated kid, verify-only, and the JWKS they
 *                     print (token_jwks) reads back into the same keys;
 *     token_sign + token_verify  the input as claims: signed with the first key, verified
 *                     with both, it is refused only for its size or its times, and an
 *                     accepted token gives back the claims that were signed.
 * A broken property aborts; so does a token accepted that is not plain base64url text
 * (libsodium 1.0.18 alone decodes a byte from 0x80 up like '_': token.c keeps such bytes
 * away from it). */
#include "fuzz.h"
#include "token.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW     INT64_C(1700000000) /* 2023-11-14: "exp" past it is valid */
#define MAXKEYS 4

static token_key_t keys[2];
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    /* 32 bytes 0x00..0x1f and 0x20..0x3f, base64url */
    if (token_key_from_seed(&keys[0], "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8") != 0 ||
        token_key_from_seed(&keys[1], "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8") != 0)
        abort();
    return 0;
}

/* Only base64url's alphabet and `dots` dots. */
static bool plain_text(const char *text, int dots) {
    for (const char *p = text; *p; p++) {
        if (*p == '.')
            dots--;
        else if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p))
            return false;
    }
    return dots == 0;
}

static void verify_text(const char *text) {
    for (int nkeys = 1; nkeys <= 2; nkeys++) {
        cJSON *claims = NULL;
        const char *why = NULL;
        int rc = token_verify(keys, nkeys, text, NOW, &claims, &why);
        check(rc == 0 || rc == -1);
        if (rc == 0)
            check(cJSON_IsObject(claims) && why == NULL && plain_text(text, 2));
        else
            check(claims == NULL && why != NULL);
        cJSON_Delete(claims);
    }
}

static void decode_text(const char *text, size_t len) {
    size_t cap = len ? len : 1, n = 0;
    unsigned char *buf = malloc(cap);
    check(buf);
    if (b64url_decode(text, buf, cap, &n) == 0) {
        check(n <= len * 3 / 4);
        char *again = b64url_encode(buf, n);
        check(again && strcmp(again, text) == 0);
        free(again);
    }
    unsigned char small[32];
    if (b64url_decode(text, small, sizeof small, &n) == 0) check(n <= sizeof small);
    free(buf);
}

static void key_text(const char *text) {
    token_key_t k, again;
    if (token_key_from_seed(&k, text) == 0) {
        char *seed = token_key_seed(&k);
        check(seed && token_key_from_seed(&again, seed) == 0);
        check(memcmp(k.pk, again.pk, sizeof k.pk) == 0 && strcmp(k.kid, again.kid) == 0);
        free(seed);
    }
    if (token_key_from_public(&k, text) == 0) {
        check(sodium_is_zero(k.sk, sizeof k.sk));
        char *pk = b64url_encode(k.pk, sizeof k.pk);
        check(pk && token_key_from_public(&again, pk) == 0 && strcmp(k.kid, again.kid) == 0);
        free(pk);
    }
}

static void jwks(const cJSON *doc) {
    token_key_t got[MAXKEYS], back[MAXKEYS];
    int n = token_keys_from_jwks(doc, got, MAXKEYS);
    check(n >= -1 && n <= MAXKEYS);
    if (n <= 0) return;
    for (int i = 0; i < n; i++) {
        check(memchr(got[i].kid, '\0', sizeof got[i].kid) && got[i].kid[0]);
        check(sodium_is_zero(got[i].sk, sizeof got[i].sk));
    }
    cJSON *printed = token_jwks(got, n);
    check(printed && token_keys_from_jwks(printed, back, MAXKEYS) == n);
    for (int i = 0; i < n; i++)
        check(memcmp(got[i].pk, back[i].pk, sizeof got[i].pk) == 0 &&
              strcmp(got[i].kid, back[i].kid) == 0);
    cJSON_Delete(printed);
}

static bool time_or_size(const char *why) {
    static const char *const ok[] = {"token too long", "missing or invalid exp", "expired",
                                     "invalid iat", "not yet valid"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(why, ok[i]) == 0) return true;
    return false;
}

static void sign_claims(const cJSON *claims) {
    char *jwt = token_sign(&keys[0], claims);
    if (!jwt) {
        check(!cJSON_IsObject(claims)); /* only a non-object is refused */
        return;
    }
    cJSON *out = NULL;
    const char *why = NULL;
    if (token_verify(keys, 2, jwt, NOW, &out, &why) == 0) {
        char *signed_text = cJSON_PrintUnformatted(claims), *got_text = cJSON_PrintUnformatted(out);
        check(signed_text && got_text && strcmp(signed_text, got_text) == 0);
        cJSON_free(signed_text);
        cJSON_free(got_text);
        cJSON_Delete(out);
    } else {
        if (!time_or_size(why)) fprintf(stderr, "token: a signed token refused: %s\n", why);
        check(time_or_size(why));
    }
    free(jwt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    check(text);
    memcpy(text, data, size);
    text[size] = '\0';

    verify_text(text);
    decode_text(text, strlen(text));
    key_text(text);

    cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
    if (doc) {
        jwks(doc);
        sign_claims(doc);
        cJSON_Delete(doc);
    }
    free(text);
    return 0;
}
