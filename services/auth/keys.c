/* keys -- the Ed25519 key that signs access tokens.
 *
 * AUTH_SIGNING_KEY (a base64url 32-byte seed) wins and is handled in main.c. Otherwise the
 * seed lives in the store, collection "keys", document {"id":"signing","seed","created_at"},
 * so a restart keeps every issued token valid. On first start the key is generated and
 * inserted; when several instances start at once on one store, the insert of all but one
 * answers STORE_CONFLICT and those read the winner's seed back. The seed is wiped from
 * memory as soon as the key is derived. */
#include "auth.h"
#include "log.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define KEY_DOC_ID "signing"

/* Key from the stored document: 0, or -1 when the document is unusable. */
static int key_from_doc(const cJSON *doc, token_key_t *out) {
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(doc, "seed");
    if (!cJSON_IsString(seed) || token_key_from_seed(out, seed->valuestring) != 0) {
        log_msg(LOG_ERROR, "stored signing key is invalid (collection %s, id %s)", AUTH_COLL_KEYS,
                KEY_DOC_ID);
        return -1;
    }
    return 0;
}

/* Generates a key and tries to keep it: store rc of the insert. */
static int key_generate_and_store(store_t *s, token_key_t *out) {
    char now[32];
    token_key_generate(out);
    char *seed = token_key_seed(out);
    if (seed == NULL) return STORE_ERR;
    iso_now(now);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", KEY_DOC_ID);
    cJSON_AddStringToObject(doc, "seed", seed);
    cJSON_AddStringToObject(doc, "created_at", now);
    int rc = store_insert(s, AUTH_COLL_KEYS, doc);

    /* wipe the seed copies before freeing them */
    cJSON *item = cJSON_GetObjectItemCaseSensitive(doc, "seed");
    sodium_memzero(item->valuestring, strlen(item->valuestring));
    cJSON_Delete(doc);
    sodium_memzero(seed, strlen(seed));
    free(seed);
    return rc;
}

int keys_load(store_t *s, token_key_t *out) {
    for (int attempt = 0; attempt < 2; attempt++) {
        cJSON *doc = NULL;
        int rc = store_get(s, AUTH_COLL_KEYS, KEY_DOC_ID, &doc);
        if (rc == STORE_OK) {
            int r = key_from_doc(doc, out);
            cJSON *seed = cJSON_GetObjectItemCaseSensitive(doc, "seed");
            if (cJSON_IsString(seed)) sodium_memzero(seed->valuestring, strlen(seed->valuestring));
            cJSON_Delete(doc);
            return r;
        }
        if (rc != STORE_NOTFOUND) {
            log_msg(LOG_ERROR, "cannot read the signing key: %s", store_errmsg());
            return -1;
        }
        rc = key_generate_and_store(s, out);
        if (rc == STORE_OK) {
            log_msg(LOG_INFO, "generated a new signing key (kid %s)", out->kid);
            return 0;
        }
        if (rc != STORE_CONFLICT) {
            log_msg(LOG_ERROR, "cannot store the signing key: %s", store_errmsg());
            return -1;
        }
        /* another instance stored one first: read it back */
    }
    log_msg(LOG_ERROR, "cannot load the signing key");
    return -1;
}
