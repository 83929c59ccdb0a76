/* Unit tests for token.c: Ed25519 JWT signing and strict verification, keys, JWKS and
 * base64url. Bad tokens are crafted by hand (and validly signed where the point is to reach
 * a later check), so each rejection test hits the check it names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testlib.h"
#include "token.h"

#define NOW 1700000000

/* ---- helpers ----
 * What they return is registered for the teardown (testlib.h), like what the tests allocate
 * themselves: a failed assertion reports its own cause and no leak. */

static char *b64s(const char *text) {
    return test_defer_free(b64url_encode((const unsigned char *)text, strlen(text)));
}

/* "hseg.cseg.sig" where sig = Ed25519(k, "hseg.cseg"); k NULL -> `sig` used verbatim. */
static char *craft_segments(const char *hseg, const char *cseg, const token_key_t *k,
                            const char *sig) {
    size_t n = strlen(hseg) + strlen(cseg) + 200;
    char *out = malloc(n);
    assert_non_null(out);
    snprintf(out, n, "%s.%s", hseg, cseg);
    test_defer_free(out);
    char *sig64 = NULL;
    if (k) {
        unsigned char s[crypto_sign_BYTES];
        crypto_sign_detached(s, NULL, (const unsigned char *)out, strlen(out), k->sk);
        sig64 = b64url_encode(s, sizeof s);
    }
    const char *tail = sig64 ? sig64 : sig;
    assert_non_null(tail);
    strcat(out, ".");
    strcat(out, tail);
    free(sig64);
    return out;
}

/* From JSON texts; signed with k (or `sig` verbatim when k is NULL). */
static char *craft(const char *header, const char *claims, const token_key_t *k, const char *sig) {
    char *h = b64s(header), *c = b64s(claims);
    char *out = craft_segments(h, c, k, sig);
    test_release(h);
    test_release(c);
    return out;
}

static cJSON *std_claims(int64_t iat, int64_t exp) {
    cJSON *c = test_defer_json(cJSON_CreateObject());
    cJSON_AddStringToObject(c, "sub", "65a1b2c3d4e5f60718293a4b");
    cJSON_AddStringToObject(c, "username", "alice");
    cJSON_AddStringToObject(c, "role", "user");
    cJSON_AddNumberToObject(c, "iat", (double)iat);
    cJSON_AddNumberToObject(c, "exp", (double)exp);
    cJSON_AddStringToObject(c, "jti", "jti-1");
    return c;
}

static char *std_claims_text(int64_t iat, int64_t exp) {
    cJSON *c = std_claims(iat, exp);
    char *t = cJSON_PrintUnformatted(c);
    test_release(c);
    return test_defer(cJSON_free, t);
}

static char *header_text(const char *alg, const char *kid) {
    static char buf[256];
    if (kid)
        snprintf(buf, sizeof buf, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}", alg, kid);
    else
        snprintf(buf, sizeof buf, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
    return buf;
}

/* Expects rejection with reason `why_want` (NULL: any reason). */
static void expect_reject(const token_key_t *keys, int n, const char *jwt, const char *why_want) {
    cJSON *claims = (cJSON *)1;
    const char *why = NULL;
    int rc = token_verify(keys, n, jwt, NOW, &claims, &why);
    if (rc == 0) test_defer_json(claims); /* accepted after all */
    assert_int_equal(rc, -1);
    assert_null(claims);
    assert_non_null(why);
    if (why_want) assert_string_equal(why, why_want);
}

static cJSON *expect_accept(const token_key_t *keys, int n, const char *jwt) {
    cJSON *claims = NULL;
    const char *why = "unset";
    int rc = token_verify(keys, n, jwt, NOW, &claims, &why);
    test_defer_json(claims);
    if (rc != 0) fail_msg("rejected: %s", why);
    assert_non_null(claims);
    return claims;
}

static int setup_key(void **state) {
    static token_key_t k;
    token_key_generate(&k);
    *state = &k;
    return 0;
}

/* ---- round trip ---- */

static void test_sign_verify_round_trip(void **state) {
    token_key_t *k = *state;
    cJSON *in = std_claims(NOW, NOW + 900);
    char *before = test_defer(cJSON_free, cJSON_PrintUnformatted(in));
    char *jwt = test_defer_free(token_sign(k, in));
    assert_non_null(jwt);

    /* claims not modified */
    char *after = test_defer(cJSON_free, cJSON_PrintUnformatted(in));
    assert_string_equal(before, after);

    /* three segments, header names EdDSA and the key */
    const char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    assert_non_null(d2);
    assert_null(strchr(d2 + 1, '.'));
    char hseg[256];
    assert_true((size_t)(d1 - jwt) < sizeof hseg);
    memcpy(hseg, jwt, (size_t)(d1 - jwt));
    hseg[d1 - jwt] = '\0';
    unsigned char hbuf[256];
    size_t hlen = 0;
    assert_int_equal(b64url_decode(hseg, hbuf, sizeof hbuf - 1, &hlen), 0);
    hbuf[hlen] = '\0';
    cJSON *h = test_defer_json(cJSON_Parse((const char *)hbuf));
    assert_non_null(h);
    assert_string_equal(cJSON_GetObjectItem(h, "alg")->valuestring, "EdDSA");
    assert_string_equal(cJSON_GetObjectItem(h, "typ")->valuestring, "JWT");
    assert_string_equal(cJSON_GetObjectItem(h, "kid")->valuestring, k->kid);

    cJSON *out = expect_accept(k, 1, jwt);
    assert_true(cJSON_Compare(in, out, 1));

    /* why may be NULL, claims may be NULL */
    assert_int_equal(token_verify(k, 1, jwt, NOW, NULL, NULL), 0);
}

static void test_sign_rejects_bad_input(void **state) {
    token_key_t *k = *state;
    cJSON *arr = test_defer_json(cJSON_CreateArray());
    assert_null(test_defer_free(token_sign(k, arr)));
    assert_null(test_defer_free(token_sign(k, NULL)));

    token_key_t verify_only;
    char *x = test_defer_free(b64url_encode(k->pk, sizeof k->pk));
    assert_int_equal(token_key_from_public(&verify_only, x), 0);
    cJSON *c = std_claims(NOW, NOW + 900);
    assert_null(test_defer_free(token_sign(&verify_only, c)));
}

static void test_kid_format(void **state) {
    token_key_t *k = *state;
    /* base64url of 12 bytes = 16 chars, derived from the public key */
    assert_int_equal(strlen(k->kid), 16);
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, k->pk, sizeof k->pk);
    char *want = test_defer_free(b64url_encode(h, 12));
    assert_string_equal(k->kid, want);
}

/* ---- algorithm attacks ---- */

static void test_reject_alg_none(void **state) {
    token_key_t *k = *state;
    char *claims = std_claims_text(NOW, NOW + 900);
    char *jwt = craft("{\"alg\":\"none\",\"typ\":\"JWT\"}", claims, NULL, "");
    expect_reject(k, 1, jwt, "unsupported alg");
    /* "None"/"NONE" and none-with-kid too */
    jwt = craft(header_text("NONE", k->kid), claims, NULL, "");
    expect_reject(k, 1, jwt, "unsupported alg");
}

static void test_reject_hs256_key_confusion(void **state) {
    token_key_t *k = *state;
    char *claims = std_claims_text(NOW, NOW + 900);
    char *h = b64s(header_text("HS256", k->kid)), *c = b64s(claims);
    /* HMAC keyed with the public key: the classic algorithm-confusion forgery */
    char input[2048];
    snprintf(input, sizeof input, "%s.%s", h, c);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    unsigned char hkey[crypto_auth_hmacsha256_KEYBYTES];
    memcpy(hkey, k->pk, sizeof hkey);
    crypto_auth_hmacsha256(mac, (const unsigned char *)input, strlen(input), hkey);
    char *sig = test_defer_free(b64url_encode(mac, sizeof mac));
    char *jwt = craft_segments(h, c, NULL, sig);
    expect_reject(k, 1, jwt, "unsupported alg");
}

static void test_reject_other_algs(void **state) {
    token_key_t *k = *state;
    char *claims = std_claims_text(NOW, NOW + 900);
    const char *algs[] = {"RS256", "ES256", "EdDSA ", "eddsa", "Ed25519", ""};
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        char *jwt = craft(header_text(algs[i], k->kid), claims, k, NULL); /* validly signed */
        expect_reject(k, 1, jwt, "unsupported alg");
    }
    char *jwt = craft("{\"typ\":\"JWT\"}", claims, k, NULL);
    expect_reject(k, 1, jwt, "missing alg");
    jwt = craft("{\"alg\":null}", claims, k, NULL);
    expect_reject(k, 1, jwt, "unsupported alg");
    jwt = craft("{\"alg\":[\"EdDSA\"]}", claims, k, NULL);
    expect_reject(k, 1, jwt, "unsupported alg");
}

static void test_accept_any_typ(void **state) {
    token_key_t *k = *state;
    char *claims = std_claims_text(NOW, NOW + 900);
    char hdr[256];
    snprintf(hdr, sizeof hdr, "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}", k->kid);
    char *jwt = craft(hdr, claims, k, NULL);
    expect_accept(k, 1, jwt);
    jwt = craft("{\"alg\":\"EdDSA\"}", claims, k, NULL); /* no typ, no kid, one key */
    expect_accept(k, 1, jwt);
}

/* ---- tampering ---- */

static void test_reject_flipped_signature_bit(void **state) {
    token_key_t *k = *state;
    cJSON *c = std_claims(NOW, NOW + 900);
    char *jwt = test_defer_free(token_sign(k, c));
    char *dot = strrchr(jwt, '.');
    unsigned char sig[crypto_sign_BYTES];
    size_t n = 0;
    assert_int_equal(b64url_decode(dot + 1, sig, sizeof sig, &n), 0);
    assert_int_equal(n, sizeof sig);
    for (size_t byte = 0; byte < sizeof sig; byte += 21) {
        sig[byte] ^= 0x01;
        char *s64 = b64url_encode(sig, sizeof sig);
        strcpy(dot + 1, s64); /* same length */
        free(s64);
        expect_reject(k, 1, jwt, "bad signature");
        sig[byte] ^= 0x01;
    }
    /* truncated and empty signatures */
    dot[10] = '\0';
    expect_reject(k, 1, jwt, "bad signature");
    dot[1] = '\0';
    expect_reject(k, 1, jwt, "bad signature");
}

static void test_reject_swapped_payload(void **state) {
    token_key_t *k = *state;
    cJSON *c1 = std_claims(NOW, NOW + 900);
    cJSON *c2 = std_claims(NOW, NOW + 900);
    cJSON_ReplaceItemInObject(c2, "role", cJSON_CreateString("admin"));
    char *t1 = test_defer_free(token_sign(k, c1)), *t2 = test_defer_free(token_sign(k, c2));
    /* t1's header and signature around t2's payload */
    char *d1a = strchr(t1, '.'), *d1b = strrchr(t1, '.');
    char *d2a = strchr(t2, '.'), *d2b = strrchr(t2, '.');
    char forged[2048];
    snprintf(forged, sizeof forged, "%.*s%.*s%s", (int)(d1a - t1), t1, (int)(d2b - d2a), d2a, d1b);
    expect_reject(k, 1, forged, "bad signature");
    /* sanity: both originals verify */
    expect_accept(k, 1, t1);
    expect_accept(k, 1, t2);
}

static void test_reject_tampered_header(void **state) {
    token_key_t *k = *state;
    cJSON *c = std_claims(NOW, NOW + 900);
    char *jwt = test_defer_free(token_sign(k, c));
    char *dot = strchr(jwt, '.');
    char hdr[256];
    snprintf(hdr, sizeof hdr, "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"%s\",\"x\":1}", k->kid);
    char *h = b64s(hdr);
    char forged[2048];
    snprintf(forged, sizeof forged, "%s%s", h, dot);
    expect_reject(k, 1, forged, "bad signature");
}

static void test_reject_wrong_key_same_kid(void **state) {
    token_key_t *k = *state;
    token_key_t other;
    token_key_generate(&other);
    memcpy(other.kid, k->kid, sizeof other.kid); /* names k, holds another key */
    cJSON *c = std_claims(NOW, NOW + 900);
    char *jwt = test_defer_free(token_sign(k, c));
    expect_reject(&other, 1, jwt, "bad signature");
}

/* ---- times ---- */

static void test_expiry(void **state) {
    token_key_t *k = *state;
    const struct {
        int64_t exp;
        int ok;
    } cases[] = {{NOW - 1, 0}, {NOW, 0}, {NOW + 1, 1}, {NOW - 100000, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *c = std_claims(NOW - 10, cases[i].exp);
        char *jwt = test_defer_free(token_sign(k, c));
        if (cases[i].ok)
            expect_accept(k, 1, jwt);
        else
            expect_reject(k, 1, jwt, "expired");
    }
}

static void test_reject_missing_or_bad_exp(void **state) {
    token_key_t *k = *state;
    const char *bodies[] = {
        "{\"sub\":\"u\"}",
        "{\"sub\":\"u\",\"exp\":\"1700000900\"}",
        "{\"sub\":\"u\",\"exp\":null}",
        "{\"sub\":\"u\",\"exp\":true}",
        "{\"sub\":\"u\",\"exp\":[1700000900]}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        char *jwt = craft(header_text("EdDSA", k->kid), bodies[i], k, NULL);
        expect_reject(k, 1, jwt, "missing or invalid exp");
    }
}

static void test_iat_leeway(void **state) {
    token_key_t *k = *state;
    cJSON *c = std_claims(NOW + 60, NOW + 900);
    char *jwt = test_defer_free(token_sign(k, c));
    expect_accept(k, 1, jwt);

    c = std_claims(NOW + 61, NOW + 900);
    jwt = test_defer_free(token_sign(k, c));
    expect_reject(k, 1, jwt, "invalid iat");

    jwt = craft(header_text("EdDSA", k->kid), "{\"exp\":1700000900,\"iat\":\"now\"}", k, NULL);
    expect_reject(k, 1, jwt, "invalid iat");

    /* iat is optional */
    jwt = craft(header_text("EdDSA", k->kid), "{\"exp\":1700000900}", k, NULL);
    expect_accept(k, 1, jwt);
}

/* ---- malformed ---- */

static void test_reject_bad_base64(void **state) {
    token_key_t *k = *state;
    char *claims = std_claims_text(NOW, NOW + 900);
    char *h = b64s(header_text("EdDSA", k->kid)), *c = b64s(claims);
    size_t clen = strlen(c);
    const char bad[] = {'*', '+', '/', '=', ' ', '!'};
    for (size_t i = 0; i < sizeof bad; i++) {
        /* bad char in the payload, validly signed over the raw text */
        char *cb = test_defer_free(strdup(c));
        cb[clen / 2] = bad[i];
        char *jwt = craft_segments(h, cb, k, NULL);
        expect_reject(k, 1, jwt, "malformed claims encoding");
        /* bad char in the header */
        char *hb = test_defer_free(strdup(h));
        hb[3] = bad[i];
        jwt = craft_segments(hb, c, k, NULL);
        expect_reject(k, 1, jwt, "malformed header encoding");
    }
    /* standard padding is not base64url */
    char *cp = test_defer_free(malloc(clen + 3));
    snprintf(cp, clen + 3, "%s==", c);
    char *jwt = craft_segments(h, cp, k, NULL);
    expect_reject(k, 1, jwt, "malformed claims encoding");
    /* bad char in the signature */
    jwt = craft_segments(h, c, k, NULL);
    jwt[strlen(jwt) - 5] = '*';
    expect_reject(k, 1, jwt, "bad signature");
}

static void test_reject_non_json_and_non_object(void **state) {
    token_key_t *k = *state;
    char *claims = std_claims_text(NOW, NOW + 900);
    const char *bad_headers[] = {"not json", "[\"EdDSA\"]",        "\"EdDSA\"",
                                 "",         "{\"alg\":\"EdDSA\"", "{\"alg\":\"EdDSA\"} x"};
    for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++) {
        char *jwt = craft(bad_headers[i], claims, k, NULL);
        expect_reject(k, 1, jwt, "malformed header");
    }
    const char *bad_claims[] = {"[1700000900]", "not json", "42",
                                "null",         "",         "{\"exp\":1700000900}{}"};
    for (size_t i = 0; i < sizeof bad_claims / sizeof bad_claims[0]; i++) {
        char *jwt = craft(header_text("EdDSA", k->kid), bad_claims[i], k, NULL);
        expect_reject(k, 1, jwt, "malformed claims");
    }
}

static void test_reject_wrong_segment_count(void **state) {
    token_key_t *k = *state;
    cJSON *c = std_claims(NOW, NOW + 900);
    char *jwt = test_defer_free(token_sign(k, c));
    char buf[2048];

    /* two segments: header.payload */
    snprintf(buf, sizeof buf, "%.*s", (int)(strrchr(jwt, '.') - jwt), jwt);
    expect_reject(k, 1, buf, "malformed token");
    /* one segment */
    snprintf(buf, sizeof buf, "%.*s", (int)(strchr(jwt, '.') - jwt), jwt);
    expect_reject(k, 1, buf, "malformed token");
    /* four segments */
    snprintf(buf, sizeof buf, "%s.", jwt);
    expect_reject(k, 1, buf, "malformed token");
    snprintf(buf, sizeof buf, "%s.AAAA", jwt);
    expect_reject(k, 1, buf, "malformed token");
    /* empty and NULL */
    expect_reject(k, 1, "", "missing token");
    expect_reject(k, 1, NULL, "missing token");
    expect_reject(k, 1, "..", NULL);
}

static void test_token_size_limit(void **state) {
    token_key_t *k = *state;
    cJSON *c = std_claims(NOW, NOW + 900);
    cJSON *pad = cJSON_AddStringToObject(c, "pad", "");
    /* Grow the padding until the token crosses 8 KiB: the last one under is accepted, the
     * first one over is refused. */
    size_t padlen = 5000;
    char *last_ok = NULL, *first_over = NULL;
    while (!first_over) {
        char *p = malloc(padlen + 1);
        memset(p, 'a', padlen);
        p[padlen] = '\0';
        cJSON_SetValuestring(pad, p);
        free(p);
        char *jwt = test_defer_free(token_sign(k, c));
        assert_non_null(jwt);
        if (strlen(jwt) <= 8192) {
            test_release(last_ok);
            last_ok = jwt;
        } else {
            first_over = jwt;
        }
        padlen++;
    }
    assert_non_null(last_ok);
    assert_true(strlen(last_ok) > 8180);
    expect_accept(k, 1, last_ok);
    expect_reject(k, 1, first_over, "token too long");
}

static void test_no_keys(void **state) {
    token_key_t *k = *state;
    cJSON *c = std_claims(NOW, NOW + 900);
    char *jwt = test_defer_free(token_sign(k, c));
    expect_reject(k, 0, jwt, "no verification keys");
    expect_reject(NULL, 1, jwt, "no verification keys");
}

/* ---- keys ---- */

static void test_kid_selection_two_keys(void **state) {
    token_key_t keys[2];
    token_key_generate(&keys[0]);
    token_key_generate(&keys[1]);
    assert_string_not_equal(keys[0].kid, keys[1].kid);
    cJSON *c = std_claims(NOW, NOW + 900);
    char *t0 = test_defer_free(token_sign(&keys[0], c)),
         *t1 = test_defer_free(token_sign(&keys[1], c));

    expect_accept(keys, 2, t0);
    expect_accept(keys, 2, t1);
    expect_accept(&keys[1], 1, t1);
    expect_reject(&keys[0], 1, t1, "unknown key"); /* only the other key known */

    char *claims = std_claims_text(NOW, NOW + 900);
    char *jwt = craft(header_text("EdDSA", "no-such-kid"), claims, &keys[0], NULL);
    expect_reject(keys, 2, jwt, "unknown key");
    /* no kid: fine with one key, ambiguous with two */
    jwt = craft("{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}", claims, &keys[1], NULL);
    expect_reject(keys, 2, jwt, "missing kid");
    expect_accept(&keys[1], 1, jwt);
    expect_reject(&keys[0], 1, jwt, "bad signature");
    jwt = craft("{\"alg\":\"EdDSA\",\"kid\":7}", claims, &keys[0], NULL);
    expect_reject(keys, 2, jwt, "invalid kid");
}

static void test_seed_round_trip(void **state) {
    token_key_t *k = *state;
    char *seed = test_defer_free(token_key_seed(k));
    assert_non_null(seed);
    assert_int_equal(strlen(seed), 43); /* 32 bytes, unpadded */
    token_key_t a, b;
    assert_int_equal(token_key_from_seed(&a, seed), 0);
    assert_int_equal(token_key_from_seed(&b, seed), 0);
    assert_memory_equal(a.pk, k->pk, sizeof a.pk);
    assert_memory_equal(a.sk, k->sk, sizeof a.sk);
    assert_string_equal(a.kid, k->kid);
    assert_memory_equal(a.pk, b.pk, sizeof a.pk);

    /* a token signed by the restored key verifies with the original */
    cJSON *c = std_claims(NOW, NOW + 900);
    char *jwt = test_defer_free(token_sign(&a, c));
    expect_accept(k, 1, jwt);

    /* standard base64 (padded or not) of the same seed gives the same key */
    unsigned char raw[32];
    size_t n = 0;
    assert_int_equal(b64url_decode(seed, raw, sizeof raw, &n), 0);
    char std[64];
    sodium_bin2base64(std, sizeof std, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
    assert_non_null(strchr(std, '='));
    assert_int_equal(token_key_from_seed(&b, std), 0);
    assert_memory_equal(b.pk, k->pk, sizeof b.pk);

    /* a fixed seed gives a fixed key (all-zero seed, RFC 8032-style determinism) */
    memset(raw, 0, sizeof raw);
    char *zero = test_defer_free(b64url_encode(raw, sizeof raw));
    assert_int_equal(token_key_from_seed(&a, zero), 0);
    assert_int_equal(token_key_from_seed(&b, zero), 0);
    assert_memory_equal(a.pk, b.pk, sizeof a.pk);
    assert_memory_not_equal(a.pk, k->pk, sizeof a.pk);

    /* bad seeds */
    assert_int_equal(token_key_from_seed(&a, NULL), -1);
    assert_int_equal(token_key_from_seed(&a, ""), -1);
    assert_int_equal(token_key_from_seed(&a, "not base64 at all!"), -1);
    char *short_seed = test_defer_free(b64url_encode(raw, 31));
    char *long_seed = test_defer_free(b64url_encode((unsigned char[33]){0}, 33));
    assert_int_equal(token_key_from_seed(&a, short_seed), -1);
    assert_int_equal(token_key_from_seed(&a, long_seed), -1);
}

static void test_public_key(void **state) {
    token_key_t *k = *state;
    char *x = test_defer_free(b64url_encode(k->pk, sizeof k->pk));
    token_key_t v;
    assert_int_equal(token_key_from_public(&v, x), 0);
    assert_memory_equal(v.pk, k->pk, sizeof v.pk);
    assert_string_equal(v.kid, k->kid);
    assert_true(sodium_is_zero(v.sk, sizeof v.sk));
    assert_null(test_defer_free(token_key_seed(&v)));

    cJSON *c = std_claims(NOW, NOW + 900);
    char *jwt = test_defer_free(token_sign(k, c));
    expect_accept(&v, 1, jwt);

    assert_int_equal(token_key_from_public(&v, NULL), -1);
    assert_int_equal(token_key_from_public(&v, ""), -1);
    x[10] = '*';
    assert_int_equal(token_key_from_public(&v, x), -1);
    char *short_pk = test_defer_free(b64url_encode(k->pk, 31));
    assert_int_equal(token_key_from_public(&v, short_pk), -1);
}

/* ---- JWKS ---- */

static void test_jwks_round_trip(void **state) {
    token_key_t keys[2];
    token_key_generate(&keys[0]);
    token_key_generate(&keys[1]);
    cJSON *doc = test_defer_json(token_jwks(keys, 2));
    assert_non_null(doc);
    cJSON *arr = cJSON_GetObjectItem(doc, "keys");
    assert_int_equal(cJSON_GetArraySize(arr), 2);
    cJSON *jwk = cJSON_GetArrayItem(arr, 0);
    assert_string_equal(cJSON_GetObjectItem(jwk, "kty")->valuestring, "OKP");
    assert_string_equal(cJSON_GetObjectItem(jwk, "crv")->valuestring, "Ed25519");
    assert_string_equal(cJSON_GetObjectItem(jwk, "alg")->valuestring, "EdDSA");
    assert_string_equal(cJSON_GetObjectItem(jwk, "use")->valuestring, "sig");
    assert_string_equal(cJSON_GetObjectItem(jwk, "kid")->valuestring, keys[0].kid);
    assert_null(cJSON_GetObjectItem(jwk, "d")); /* never the private part */

    /* through text, as over HTTP */
    char *text = test_defer(cJSON_free, cJSON_PrintUnformatted(doc));
    assert_null(strstr(text, "\"d\""));
    cJSON *parsed = test_defer_json(cJSON_Parse(text));
    token_key_t got[4];
    memset(got, 0xAB, sizeof got);
    assert_int_equal(token_keys_from_jwks(parsed, got, 4), 2);
    for (int i = 0; i < 2; i++) {
        assert_memory_equal(got[i].pk, keys[i].pk, sizeof got[i].pk);
        assert_string_equal(got[i].kid, keys[i].kid);
        assert_true(sodium_is_zero(got[i].sk, sizeof got[i].sk));
    }
    /* verifies tokens of both keys */
    cJSON *c = std_claims(NOW, NOW + 900);
    char *t1 = test_defer_free(token_sign(&keys[1], c));
    expect_accept(got, 2, t1);

    /* max honoured */
    assert_int_equal(token_keys_from_jwks(parsed, got, 1), 1);
    assert_memory_equal(got[0].pk, keys[0].pk, sizeof got[0].pk);

    doc = test_defer_json(token_jwks(keys, 0));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "keys")), 0);
    assert_int_equal(token_keys_from_jwks(doc, got, 4), 0);
}

static void test_jwks_bad_documents(void **state) {
    token_key_t *k = *state;
    token_key_t got[4];
    char *x = test_defer_free(b64url_encode(k->pk, sizeof k->pk));
    char buf[1024];

    cJSON *j = test_defer_json(cJSON_Parse("[]"));
    assert_int_equal(token_keys_from_jwks(j, got, 4), -1);
    j = test_defer_json(cJSON_Parse("{\"keys\":{}}"));
    assert_int_equal(token_keys_from_jwks(j, got, 4), -1);
    assert_int_equal(token_keys_from_jwks(NULL, got, 4), -1);
    j = test_defer_json(
        cJSON_Parse("{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}]}"));
    assert_int_equal(token_keys_from_jwks(j, got, 4), -1);

    /* other key types are skipped, the Ed25519 one kept; a missing kid is derived */
    snprintf(buf, sizeof buf,
             "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"},"
             "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"%s\"},"
             "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\",\"use\":\"enc\"},"
             "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\",\"alg\":\"ES256\"},"
             "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}]}",
             x, x, x, x);
    j = test_defer_json(cJSON_Parse(buf));
    assert_int_equal(token_keys_from_jwks(j, got, 4), 1);
    assert_memory_equal(got[0].pk, k->pk, sizeof k->pk);
    assert_string_equal(got[0].kid, k->kid);
}

/* ---- base64url ---- */

static void test_b64url_encode(void **state) {
    const struct {
        const char *in;
        size_t len;
        const char *out;
    } v[] = {{"", 0, ""},
             {"f", 1, "Zg"},
             {"fo", 2, "Zm8"},
             {"foo", 3, "Zm9v"},
             {"foob", 4, "Zm9vYg"},
             {"fooba", 5, "Zm9vYmE"},
             {"foobar", 6, "Zm9vYmFy"},
             {"\xfb\xff", 2, "-_8"},
             {"\x00", 1, "AA"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char *e = test_defer_free(b64url_encode((const unsigned char *)v[i].in, v[i].len));
        assert_string_equal(e, v[i].out);
        unsigned char d[16];
        size_t n = 99;
        assert_int_equal(b64url_decode(e, d, sizeof d, &n), 0);
        assert_int_equal(n, v[i].len);
        assert_memory_equal(d, v[i].in, v[i].len);
    }
}

static void test_b64url_decode_rejects(void **state) {
    unsigned char d[16];
    size_t n = 0;
    assert_int_equal(b64url_decode("Zg==", d, sizeof d, &n), -1); /* padding */
    assert_int_equal(b64url_decode("+/8", d, sizeof d, &n), -1);  /* standard alphabet */
    assert_int_equal(b64url_decode("Z", d, sizeof d, &n), -1);    /* impossible length */
    assert_int_equal(b64url_decode("Zh", d, sizeof d, &n), -1);   /* stray low bits */
    assert_int_equal(b64url_decode("Zm9v!", d, sizeof d, &n), -1);
    assert_int_equal(b64url_decode("Zm 9v", d, sizeof d, &n), -1);
    assert_int_equal(b64url_decode(NULL, d, sizeof d, &n), -1);
    assert_int_equal(b64url_decode("Zm9vYmFy", d, 5, &n), -1); /* does not fit */
    assert_int_equal(b64url_decode("Zm9vYmFy", d, 6, &n), 0);
    assert_int_equal(n, 6);
    assert_int_equal(b64url_decode("", d, 0, &n), 0);
    assert_int_equal(n, 0);

    /* every byte value survives */
    unsigned char all[256], back[256];
    for (int i = 0; i < 256; i++) all[i] = (unsigned char)i;
    char *e = test_defer_free(b64url_encode(all, sizeof all));
    assert_null(strpbrk(e, "+/="));
    assert_int_equal(b64url_decode(e, back, sizeof back, &n), 0);
    assert_int_equal(n, 256);
    assert_memory_equal(all, back, 256);
}

int main(void) {
/* K: with a fresh key in *state. Both release what the test registered (testlib.h). */
#define K(f) cmocka_unit_test_setup_teardown(f, setup_key, test_cleanup)
#define T(f) cmocka_unit_test_teardown(f, test_cleanup)
    const struct CMUnitTest tests[] = {
        K(test_sign_verify_round_trip),
        K(test_sign_rejects_bad_input),
        K(test_kid_format),
        K(test_reject_alg_none),
        K(test_reject_hs256_key_confusion),
        K(test_reject_other_algs),
        K(test_accept_any_typ),
        K(test_reject_flipped_signature_bit),
        K(test_reject_swapped_payload),
        K(test_reject_tampered_header),
        K(test_reject_wrong_key_same_kid),
        K(test_expiry),
        K(test_reject_missing_or_bad_exp),
        K(test_iat_leeway),
        K(test_reject_bad_base64),
        K(test_reject_non_json_and_non_object),
        K(test_reject_wrong_segment_count),
        K(test_token_size_limit),
        K(test_no_keys),
        T(test_kid_selection_two_keys),
        K(test_seed_round_trip),
        K(test_public_key),
        T(test_jwks_round_trip),
        K(test_jwks_bad_documents),
        T(test_b64url_encode),
        T(test_b64url_decode_rejects),
    };
    if (sodium_init() < 0) return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
