/* erasure -- GDPR erasure tracking: user.deleted out, user.erased in (SPEC §5, §6).
 *
 * Deleting a user writes, in the SAME store transaction as the user row removal, an erasure
 * record {id = user_id, user_id, requested_at, expected: [services], services: {}} and a
 * user.deleted event into the outbox. Each service that erased the user's data publishes
 * user.erased; the consumer here (queue auth.user-erased) records
 * services.<name> = {status: "done", at, removed} on the record. The record is complete when
 * every expected service (ERASURE_SERVICES at the time of the request) is done.
 * GET /api/v1/users/{id}/erasure shows it to the deleted user's last (unexpired) token or an
 * admin. The DELETE's answer also carries a receipt, an unguessable URL
 * (/api/v1/erasures/{receipt}, 256 random bits) that shows the same to whoever holds it, with
 * no token: the deleted user's page keeps it across a reload, when their session is gone. Only
 * the receipt's SHA-256 is stored (receipt_hash), as for refresh tokens. */
#include "alloc.h"
#include "auth.h"

#include "authn.h"
#include "events.h"
#include "http_store.h"
#include "json.h"
#include "log.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* ERASURE_SERVICES (read at start, auth_ctx_t) as a JSON array of names. */
static cJSON *expected_services(const auth_ctx_t *ctx) {
    const char *list = ctx->erasure_services;
    cJSON *arr = cJSON_CreateArray();
    char *copy = xstrdup(list), *save = NULL;
    for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        cJSON_AddItemToArray(arr, cJSON_CreateString(t));
    free(copy);
    return arr;
}

#define RECEIPT_BYTES 32
#define RECEIPT_CHARS 43 /* base64url of RECEIPT_BYTES, unpadded */

char *erasure_receipt_new(void) {
    unsigned char raw[RECEIPT_BYTES];
    randombytes_buf(raw, sizeof raw);
    char *receipt = b64url_encode(raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    return receipt;
}

int erasure_begin(auth_ctx_t *ctx, const char *user_id, const char *receipt) {
    char now[32];
    iso_now(now);
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "id", user_id);
    cJSON_AddStringToObject(rec, "user_id", user_id);
    cJSON_AddStringToObject(rec, "requested_at", now);
    cJSON_AddItemToObject(rec, "expected", expected_services(ctx));
    cJSON_AddObjectToObject(rec, "services");
    char hash[AUTH_TOKEN_HASH_HEX];
    auth_token_hash_hex(receipt, hash);
    cJSON_AddStringToObject(rec, "receipt_hash", hash);
    int rc = store_insert(ctx->store, AUTH_COLL_ERASURES, rec);
    cJSON_Delete(rec);
    if (rc != STORE_OK) return rc;
    cJSON *payload = cJSON_CreateObject();
    cJSON_AddStringToObject(payload, "user_id", user_id);
    return outbox_add(ctx->store, "auth", "users", "user.deleted", "1.0.0", payload);
}

/* The public view: {"user_id","requested_at","complete","services":{name:{status,at,removed}}}.
 * Takes ownership of rec. */
static cJSON *erasure_view(cJSON *rec) {
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "user_id", json_str(rec, "user_id"));
    cJSON_AddStringToObject(out, "requested_at", json_str(rec, "requested_at"));
    const cJSON *done = cJSON_GetObjectItem(rec, "services");
    cJSON *services = cJSON_CreateObject();
    bool complete = true;
    const cJSON *name;
    cJSON_ArrayForEach(name, cJSON_GetObjectItem(rec, "expected")) {
        const char *n = cJSON_GetStringValue(name);
        if (!n) continue;
        const cJSON *d = cJSON_GetObjectItem(done, n);
        cJSON *row = cJSON_AddObjectToObject(services, n);
        if (d) {
            cJSON_AddStringToObject(row, "status", "done");
            cJSON_AddStringToObject(row, "at", json_str(d, "at"));
            cJSON_AddItemToObject(row, "removed",
                                  cJSON_Duplicate(cJSON_GetObjectItem(d, "removed"), 1));
        } else {
            complete = false;
            cJSON_AddStringToObject(row, "status", "pending");
            cJSON_AddNullToObject(row, "at");
            cJSON_AddNullToObject(row, "removed");
        }
    }
    cJSON_AddBoolToObject(out, "complete", complete);
    cJSON_AddItemToObject(out, "services", services);
    cJSON_Delete(rec);
    return out;
}

void erasure_get(http_req_t *req, void *arg) {
    auth_ctx_t *ctx = service_data(arg);
    authn_user_t u;
    if (authn_require_signed(req, &u) != 0) return;
    const char *id = http_param(req, "id");
    if (strcmp(u.id, id) != 0 && !authn_is_admin(&u)) {
        http_reply_problem(req, 403, "only the deleted user or an admin may see this erasure");
        return;
    }
    cJSON *rec = NULL;
    int rc = id_valid(id) ? store_get(ctx->store, AUTH_COLL_ERASURES, id, &rec) : STORE_NOTFOUND;
    if (rc == STORE_NOTFOUND)
        http_reply_problem(req, 404, "no erasure for this user");
    else if (rc != STORE_OK)
        http_reply_store_error(req, rc, "erasure");
    else
        http_reply_json(req, 200, erasure_view(rec));
}

void erasure_by_receipt(http_req_t *req, void *arg) {
    auth_ctx_t *ctx = service_data(arg);
    const char *receipt = http_param(req, "receipt");
    unsigned char raw[RECEIPT_BYTES + 1];
    size_t len = 0;
    cJSON *rec = NULL;
    int rc = STORE_NOTFOUND;
    if (receipt && strlen(receipt) == RECEIPT_CHARS &&
        b64url_decode(receipt, raw, sizeof raw, &len) == 0 && len == RECEIPT_BYTES) {
        char hash[AUTH_TOKEN_HASH_HEX];
        auth_token_hash_hex(receipt, hash);
        store_filter_t *f = store_filter_new();
        store_where_str(f, "receipt_hash", STORE_EQ, hash);
        rc = store_find_one(ctx->store, AUTH_COLL_ERASURES, f, &rec);
        store_filter_free(f);
    }
    if (rc == STORE_NOTFOUND) {
        http_reply_problem(req, 404, "no erasure for this receipt");
    } else if (rc != STORE_OK) {
        http_reply_store_error(req, rc, "erasure");
    } else {
        http_add_header(req, "Cache-Control", "no-store");
        http_reply_json(req, 200, erasure_view(rec));
    }
}

/* user.erased: {user_id, service, removed}. Runs inside the consumer's transaction. */
static int on_user_erased(store_t *s, const cJSON *event, void *arg) {
    const char *user_id = json_str(event, "user_id");
    const char *service = json_str(event, "service");
    if (!id_valid(user_id) || !service || !*service || strlen(service) > 32) return EVENT_POISON;
    cJSON *rec = NULL;
    int rc = store_get(s, AUTH_COLL_ERASURES, user_id, &rec);
    if (rc == STORE_NOTFOUND) {
        log_msg(LOG_WARN, "user.erased for %s without an erasure record (ignored)", user_id);
        return EVENT_OK;
    }
    if (rc != STORE_OK) return EVENT_RETRY;
    cJSON *services = cJSON_DetachItemFromObject(rec, "services");
    cJSON_Delete(rec);
    if (!cJSON_IsObject(services)) {
        cJSON_Delete(services);
        services = cJSON_CreateObject();
    }
    if (cJSON_GetObjectItem(services, service)) { /* already recorded: keep the first */
        cJSON_Delete(services);
        return EVENT_OK;
    }
    cJSON *row = cJSON_AddObjectToObject(services, service);
    cJSON_AddStringToObject(row, "at", json_str(event, "occurred_at"));
    const cJSON *removed = cJSON_GetObjectItem(event, "removed");
    cJSON_AddItemToObject(row, "removed",
                          cJSON_IsObject(removed) ? cJSON_Duplicate(removed, 1)
                                                  : cJSON_CreateObject());
    cJSON *set = cJSON_CreateObject();
    cJSON_AddItemToObject(set, "services", services);
    store_filter_t *f = store_filter_new();
    store_where_str(f, "id", STORE_EQ, user_id);
    rc = store_update(s, AUTH_COLL_ERASURES, f, set, NULL, NULL);
    store_filter_free(f);
    cJSON_Delete(set);
    if (rc != STORE_OK) return EVENT_RETRY;
    log_msg(LOG_INFO, "erasure of %s: %s done", user_id, service);
    return EVENT_OK;
}

void erasure_consume(service_t *svc) {
    event_consumer_spec_t spec = {
        .queue = "auth.user-erased",
        .major = 1,
        .fn = on_user_erased,
        .ctx = NULL,
    };
    service_consume(svc, &spec);
}
