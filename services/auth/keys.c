/* keys -- the Ed25519 key that signs access tokens.
 *
 * AUTH_SIGNING_KEY (a base64url 32-byte seed) wins and is handled in main.c; it is never
 * written to the store. Otherwise the key lives in the store, collection "keys", document
 * {"id":"signing","kid","sealed","created_at"}, so a restart keeps every issued token valid
 * -- and only encrypted there: "sealed" is base64url(nonce || ciphertext) of the 32-byte
 * seed under XChaCha20-Poly1305 (libsodium's crypto_aead_xchacha20poly1305_ietf, random
 * 24-byte nonce) with the key-encryption key AUTH_KEY_ENCRYPTION_KEY, the associated data
 * binding it to its place and key id ("tizza-auth keys/signing <kid>"). Reading the store
 * (a copy of the file, a backup, a database account) therefore gives nothing that signs a
 * token without that key, which lives in the environment like AUTH_SIGNING_KEY. main.c
 * refuses to start without one of the two.
 *
 * On first start the key is generated, sealed and inserted; when several instances start at
 * once on one store, the insert of all but one answers STORE_CONFLICT and those read the
 * winner's document back. A document an older version wrote with the seed in clear ("seed")
 * is sealed in place at start: in one transaction it is read again, deleted and inserted
 * sealed (a concurrent instance doing the same finds it sealed already), and the same key
 * goes on signing. A document that does not open with the configured key (another key, or
 * an altered document) stops the start: config error on AUTH_KEY_ENCRYPTION_KEY, exit 2 --
 * generating a new key instead would silently log everyone out and split the replicas.
 * Seeds are wiped from memory as soon as they are used. */
#include "auth.h"
#include "config.h"
#include "json.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_DOC_ID  "signing"
#define KEK_VAR     "AUTH_KEY_ENCRYPTION_KEY"
#define SEAL_NONCE  crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SEAL_BYTES  (SEAL_NONCE + crypto_sign_SEEDBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES)
#define SEAL_AD_MAX 64

int keys_kek_from_config(unsigned char kek[AUTH_KEK_BYTES]) {
    const char *v = config_str(KEK_VAR);
    if (v == NULL) return 0;
    if (b64_decode_exact(v, kek, AUTH_KEK_BYTES) != 0 || sodium_is_zero(kek, AUTH_KEK_BYTES)) {
        sodium_memzero(kek, AUTH_KEK_BYTES);
        config_fail(KEK_VAR, "must be a base64url 32-byte random key");
    }
    return 1;
}

static size_t seal_ad(char ad[SEAL_AD_MAX], const char *kid) {
    int n = snprintf(ad, SEAL_AD_MAX, "tizza-auth %s/%s %s", AUTH_COLL_KEYS, KEY_DOC_ID, kid);
    return n > 0 && n < SEAL_AD_MAX ? (size_t)n : SEAL_AD_MAX - 1;
}

/* base64url(nonce || ciphertext) of k's seed (malloc'd), or NULL. */
static char *seal(const unsigned char kek[AUTH_KEK_BYTES], const token_key_t *k) {
    unsigned char seed[crypto_sign_SEEDBYTES], box[SEAL_BYTES];
    char ad[SEAL_AD_MAX];
    size_t adlen = seal_ad(ad, k->kid);
    crypto_sign_ed25519_sk_to_seed(seed, k->sk);
    randombytes_buf(box, SEAL_NONCE);
    crypto_aead_xchacha20poly1305_ietf_encrypt(box + SEAL_NONCE, NULL, seed, sizeof seed,
                                               (const unsigned char *)ad, adlen, NULL, box, kek);
    sodium_memzero(seed, sizeof seed);
    return b64url_encode(box, sizeof box);
}

/* The key of a sealed document: 0, or -1 when it does not open with kek (or is malformed). */
static int unseal(const unsigned char kek[AUTH_KEK_BYTES], const cJSON *doc, token_key_t *out) {
    const char *sealed = json_str(doc, "sealed"), *kid = json_str(doc, "kid");
    unsigned char seed[crypto_sign_SEEDBYTES], box[SEAL_BYTES];
    char ad[SEAL_AD_MAX];
    size_t n = 0;
    if (sealed == NULL || kid == NULL || b64url_decode(sealed, box, sizeof box, &n) != 0 ||
        n != sizeof box)
        return -1;
    size_t adlen = seal_ad(ad, kid);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(seed, NULL, NULL, box + SEAL_NONCE,
                                                   sizeof box - SEAL_NONCE,
                                                   (const unsigned char *)ad, adlen, box, kek) != 0)
        return -1;
    token_key_from_seed_bytes(out, seed);
    sodium_memzero(seed, sizeof seed);
    if (strcmp(out->kid, kid) != 0) {
        sodium_memzero(out, sizeof *out);
        return -1;
    }
    return 0;
}

/* {"id","kid","sealed","created_at"} for k, or NULL. */
static cJSON *sealed_doc(const unsigned char kek[AUTH_KEK_BYTES], const token_key_t *k,
                         const char *created_at) {
    char *sealed = seal(kek, k);
    if (sealed == NULL) return NULL;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", KEY_DOC_ID);
    cJSON_AddStringToObject(doc, "kid", k->kid);
    cJSON_AddStringToObject(doc, "sealed", sealed);
    cJSON_AddStringToObject(doc, "created_at", created_at);
    free(sealed);
    return doc;
}

/* Wipes the clear seed a document may hold, then frees it. */
static void doc_free(cJSON *doc) {
    cJSON *seed = cJSON_GetObjectItemCaseSensitive(doc, "seed");
    if (cJSON_IsString(seed)) sodium_memzero(seed->valuestring, strlen(seed->valuestring));
    cJSON_Delete(doc);
}

/* Generates a key and tries to keep it, sealed: store rc of the insert. */
static int key_generate_and_store(store_t *s, const unsigned char kek[AUTH_KEK_BYTES],
                                  token_key_t *out) {
    char now[32];
    token_key_generate(out);
    iso_now(now);
    cJSON *doc = sealed_doc(kek, out, now);
    if (doc == NULL) return STORE_ERR;
    int rc = store_insert(s, AUTH_COLL_KEYS, doc);
    cJSON_Delete(doc);
    return rc;
}

/* An older version's document: {"id","seed","created_at"} with the seed in clear. */
struct clear_job {
    const unsigned char *kek;
    const char *seed; /* the clear seed read before the transaction */
};

/* Inside a transaction: replaces the clear document with the sealed one, unless another
 * instance did so since it was read. */
static store_rc_t seal_in_place(store_t *s, void *arg) {
    const struct clear_job *job = arg;
    cJSON *doc = NULL;
    int rc = store_get(s, AUTH_COLL_KEYS, KEY_DOC_ID, &doc);
    if (rc != STORE_OK) return rc;
    const char *seed = json_str(doc, "seed");
    if (seed == NULL || strcmp(seed, job->seed) != 0 || json_str(doc, "sealed") != NULL) {
        doc_free(doc);
        return STORE_OK; /* no longer the clear document: the caller reads it again */
    }
    token_key_t k;
    cJSON *sealed = NULL;
    if (token_key_from_seed(&k, seed) == 0) {
        const char *created = json_str(doc, "created_at");
        char now[32];
        iso_now(now);
        sealed = sealed_doc(job->kek, &k, created != NULL ? created : now);
        sodium_memzero(&k, sizeof k);
    }
    doc_free(doc);
    if (sealed == NULL) return STORE_ERR;
    rc = store_delete_id(s, AUTH_COLL_KEYS, KEY_DOC_ID);
    if (rc == STORE_OK) rc = store_insert(s, AUTH_COLL_KEYS, sealed);
    cJSON_Delete(sealed);
    return rc;
}

static void refuse_unopened(void) {
    config_fail(KEK_VAR, "does not open the signing key kept in the store (not the key it was "
                         "encrypted with, or the stored document was altered)");
}

int keys_load(store_t *s, const unsigned char kek[AUTH_KEK_BYTES], token_key_t *out) {
    for (int attempt = 0; attempt < 3; attempt++) {
        cJSON *doc = NULL;
        int rc = store_get(s, AUTH_COLL_KEYS, KEY_DOC_ID, &doc);
        if (rc == STORE_OK && json_str(doc, "sealed") != NULL) {
            int r = unseal(kek, doc, out);
            cJSON_Delete(doc);
            if (r != 0) refuse_unopened();
            return 0;
        }
        if (rc == STORE_OK) {
            const char *seed = json_str(doc, "seed");
            token_key_t k;
            if (seed == NULL || token_key_from_seed(&k, seed) != 0) {
                log_msg(LOG_ERROR, "stored signing key is invalid (collection %s, id %s)",
                        AUTH_COLL_KEYS, KEY_DOC_ID);
                doc_free(doc);
                return -1;
            }
            sodium_memzero(&k, sizeof k);
            struct clear_job job = {kek, seed};
            rc = store_transact(s, seal_in_place, &job);
            doc_free(doc);
            if (rc != STORE_OK) {
                log_msg(LOG_ERROR, "cannot encrypt the stored signing key: %s", store_errmsg());
                return -1;
            }
            log_msg(LOG_WARN, "the signing key was kept unencrypted in the store (an older "
                              "version): it is encrypted now; copies of the store made before "
                              "still hold it (deploy/README.md: rotate the key)");
            continue; /* read it back sealed */
        }
        if (rc != STORE_NOTFOUND) {
            log_msg(LOG_ERROR, "cannot read the signing key: %s", store_errmsg());
            return -1;
        }
        rc = key_generate_and_store(s, kek, out);
        if (rc == STORE_OK) {
            log_msg(LOG_INFO, "generated a new signing key (kid %s), kept encrypted", out->kid);
            return 0;
        }
        sodium_memzero(out, sizeof *out);
        if (rc != STORE_CONFLICT) {
            log_msg(LOG_ERROR, "cannot store the signing key: %s", store_errmsg());
            return -1;
        }
        /* another instance stored one first: read it back */
    }
    log_msg(LOG_ERROR, "cannot load the signing key");
    return -1;
}
