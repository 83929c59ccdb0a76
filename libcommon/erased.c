/* erased.c -- the deleted_users collection: remembered by the user.deleted consumers,
 * checked by every write handler; and the writer_guards (erased.h: the race they close).
 *
 * A deleted account is one document {id: <user id>, deleted_at: <ISO time>}; the user id
 * is the document key, so the check is one store_get() and remembering twice meets the
 * key. erased_remember() looks the id up (lookup()) before inserting it because MongoDB aborts a
 * transaction on any failed statement (a duplicate key included). A conflict that still
 * happens (another transaction inserted the id in between) means the id is remembered, so
 * it is success; on MongoDB the aborted transaction then fails at its next operation or at
 * commit (STORE_RETRY) and the consumer retries, finding the id.
 *
 * A guard is {id: <user id>, writes: n}, written with one update (writes + 1) and, when no
 * document matched, an insert of {id, writes: 1}. Two transactions inserting the first
 * guard of a user at once meet the key (SQLite cannot: BEGIN IMMEDIATE serializes them;
 * MongoDB reports a write conflict or a duplicate key): that is a conflict like any other,
 * so the duplicate key becomes STORE_RETRY. The guard is written once per erasure, by the
 * consumer, first ("Who wins" in erased.h): erased_remember() and report() do not.
 *
 * erased_require_writer() answers for its caller on every refusal, so a handler calls it
 * and returns on -1 without answering again. erased_create() is the same check inside the
 * create's store_transact(), where a transient failure must not be answered but run again. */
#include "erased.h"

#include "events.h"
#include "http_store.h"
#include "json.h"
#include "log.h"
#include "util.h"

#define COLL   "deleted_users"
#define GUARDS "writer_guards"

int erased_migrate(store_t *s) {
    int rc = store_ensure_collection(s, COLL);
    return rc == STORE_OK ? store_ensure_collection(s, GUARDS) : rc;
}

int erased_guard(store_t *s, const char *user_id) {
    store_filter_t *f = store_filter_new();
    store_where_str(f, "id", STORE_EQ, user_id);
    cJSON *inc = cJSON_CreateObject();
    cJSON_AddNumberToObject(inc, "writes", 1);
    long matched = 0;
    int rc = store_update(s, GUARDS, f, NULL, inc, &matched);
    store_filter_free(f);
    cJSON_Delete(inc);
    if (rc != STORE_OK || matched > 0) return rc;
    cJSON *guard = cJSON_CreateObject();
    cJSON_AddStringToObject(guard, "id", user_id);
    cJSON_AddNumberToObject(guard, "writes", 1);
    rc = store_insert(s, GUARDS, guard);
    cJSON_Delete(guard);
    return rc == STORE_CONFLICT ? STORE_RETRY : rc;
}

/* STORE_NOTFOUND when user_id is not in deleted_users, STORE_OK when it is, else the
 * store error. */
static int lookup(store_t *s, const char *user_id) {
    cJSON *gone = NULL;
    int rc = store_get(s, COLL, user_id, &gone);
    cJSON_Delete(gone);
    return rc;
}

int erased_remember(store_t *s, const char *user_id) {
    int rc = lookup(s, user_id);
    if (rc != STORE_NOTFOUND) return rc; /* STORE_OK: already remembered */
    char now[32];
    iso_now(now);
    cJSON *gone = cJSON_CreateObject();
    cJSON_AddStringToObject(gone, "id", user_id);
    cJSON_AddStringToObject(gone, "deleted_at", now);
    rc = store_insert(s, COLL, gone);
    cJSON_Delete(gone);
    return rc == STORE_CONFLICT ? STORE_OK : rc;
}

/* The end of the handler, once the service erased the user's data: erased_remember(), then
 * user.erased {user_id, service, removed} into the outbox (`removed` is taken), then the
 * in-memory mark ("Who wins" in erased.h). STORE_OK or the store error. */
static int report(store_t *s, const char *service, const char *user_id, cJSON *removed) {
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
    if (rc == STORE_OK) authn_mark_deleted(user_id); /* before the commit: "Who wins" */
    return rc;
}

/* The answer to lookup()'s rc: 0 when the write is allowed, else answered and -1. */
static int allow(http_req_t *req, int rc) {
    if (rc == STORE_NOTFOUND) return 0;
    if (rc == STORE_OK) {
        http_add_header(req, "WWW-Authenticate", "Bearer");
        http_reply_problem(req, 401, "this account has been deleted");
    } else {
        http_reply_store_error(req, rc, COLL);
    }
    return -1;
}

int erased_require_writer(http_req_t *req, store_t *s, authn_user_t *u) {
    if (authn_require(req, u) != 0) return -1;
    return allow(req, lookup(s, u->id));
}

struct create {
    http_req_t *req;
    const authn_user_t *u;
    store_txn_fn write;
    void *arg;
};

/* One run of erased_create()'s transaction. */
static store_rc_t create_run(store_t *s, void *arg) {
    struct create *c = arg;
    int rc = lookup(s, c->u->id);
    if (rc == STORE_RETRY) return rc; /* not answered: runs again */
    if (allow(c->req, rc) != 0) return STORE_ABORTED;
    rc = c->write(s, c->arg);
    return rc == STORE_OK ? erased_guard(s, c->u->id) : rc;
}

store_rc_t erased_create(http_req_t *req, store_t *s, const authn_user_t *u, store_txn_fn write,
                         void *arg) {
    struct create c = {req, u, write, arg};
    return store_transact(s, create_run, &c);
}

/* ---- the user.deleted consumer ---------------------------------------------------------- */

static int on_user_deleted(store_t *s, const cJSON *event, void *arg) {
    const erased_consumer_t *consumer = arg;
    const char *user_id = json_str(event, "user_id");
    if (!id_valid(user_id)) return EVENT_POISON;
    cJSON *removed = cJSON_CreateObject();
    int rc = erased_guard(s, user_id); /* first: "Who wins" in erased.h */
    if (rc == STORE_OK) rc = consumer->erase(s, user_id, removed, consumer->ctx);
    char *counts = rc == STORE_OK ? cJSON_PrintUnformatted(removed) : NULL;
    if (rc == STORE_OK)
        rc = report(s, consumer->service, user_id, removed);
    else
        cJSON_Delete(removed);
    if (rc == STORE_OK)
        log_msg(LOG_INFO, "erased user %s: %s", user_id, counts ? counts : "");
    else if (rc != STORE_RETRY) /* a conflict just runs again */
        log_msg(LOG_WARN, "erasing user %s failed: %s", user_id, store_errmsg());
    free(counts);
    return rc == STORE_OK ? EVENT_OK : EVENT_RETRY;
}

event_consumer_spec_t erased_consumer(erased_consumer_t *c, const char *service,
                                      erased_erase_fn erase, void *ctx) {
    snprintf(c->queue, sizeof c->queue, "%s.user-deleted", service);
    c->service = service;
    c->erase = erase;
    c->ctx = ctx;
    return (event_consumer_spec_t){
        .queue = c->queue, /* its exchange and binding: the topology's (events.h) */
        .major = 1,
        .fn = on_user_deleted,
        .ctx = c,
    };
}
