/* erased.c -- the deleted_users collection: remembered by the user.deleted consumers,
 * checked by every write handler (see erased.h for the contract).
 *
 * A deleted account is one document {id: <user id>, deleted_at: <ISO time>}; the user id
 * is the document key, so the check is one store_get() and remembering twice meets the
 * key. erased_remember() looks the id up before inserting it because MongoDB aborts a
 * transaction on any failed statement (a duplicate key included). A conflict that still
 * happens (another transaction inserted the id in between) means the id is remembered, so
 * it is success; on MongoDB the aborted transaction then fails at commit and the consumer
 * retries, finding the id.
 *
 * erased_require_writer() answers for its caller on every refusal, so a handler calls it
 * and returns on -1 without answering again. */
#include "erased.h"

#include "events.h"

#include "log.h"
#include "util.h"

#define COLL "deleted_users"

int erased_migrate(store_t *s) { return store_ensure_collection(s, COLL); }

int erased_remember(store_t *s, const char *user_id) {
    cJSON *gone = NULL;
    int rc = store_get(s, COLL, user_id, &gone);
    cJSON_Delete(gone);
    if (rc != STORE_NOTFOUND) return rc; /* STORE_OK: already remembered */
    char now[32];
    iso_now(now);
    gone = cJSON_CreateObject();
    cJSON_AddStringToObject(gone, "id", user_id);
    cJSON_AddStringToObject(gone, "deleted_at", now);
    rc = store_insert(s, COLL, gone);
    cJSON_Delete(gone);
    return rc == STORE_CONFLICT ? STORE_OK : rc;
}

int erased_report(store_t *s, const char *service, const char *user_id, cJSON *removed) {
    int rc = erased_remember(s, user_id);
    if (rc != STORE_OK) {
        cJSON_Delete(removed);
        return rc;
    }
    cJSON *payload = cJSON_CreateObject();
    cJSON_AddStringToObject(payload, "user_id", user_id);
    cJSON_AddStringToObject(payload, "service", service);
    cJSON_AddItemToObject(payload, "removed", removed);
    rc = outbox_add(s, service, "users", "user.erased", "1.0.0", payload);
    if (rc == STORE_OK) authn_mark_deleted(user_id);
    return rc;
}

int erased_require_writer(http_req_t *req, store_t *s, authn_user_t *u) {
    if (authn_require(req, u) != 0) return -1;
    cJSON *gone = NULL;
    int rc = store_get(s, COLL, u->id, &gone);
    cJSON_Delete(gone);
    if (rc == STORE_NOTFOUND) return 0;
    if (rc == STORE_OK) {
        http_add_header(req, "WWW-Authenticate", "Bearer");
        http_reply_problem(req, 401, "this account has been deleted");
    } else {
        log_msg(LOG_ERROR, "store: %s: %s", COLL, store_errmsg());
        http_reply_problem(req, 503, "the store is unavailable");
    }
    return -1;
}
