/* events.c -- what tweets consumes and publishes.
 *
 * On user.deleted (queue tweets.user-deleted, binding user.deleted.1.#) it deletes the
 * user's tweets, remembers the id in deleted_users (writes by that user are refused) and
 * publishes user.erased with the count -- all in the consumer's one store transaction, so a
 * crash at any point either redoes everything or nothing. */
#include "tweets.h"

#include "authn.h"
#include "json.h"
#include "log.h"
#include "util.h"

static int on_user_deleted(store_t *s, const cJSON *event, void *ctx) {
    const char *user_id = json_str(event, "user_id");
    if (!id_valid(user_id)) return EVENT_POISON;
    store_filter_t *f = store_filter_new();
    store_where_str(f, "user_id", STORE_EQ, user_id);
    long removed = 0;
    int rc = store_delete(s, "tweets", f, &removed);
    store_filter_free(f);
    if (rc != STORE_OK) return EVENT_RETRY;

    char now[32];
    iso_now(now);
    cJSON *gone = cJSON_CreateObject();
    cJSON_AddStringToObject(gone, "id", user_id);
    cJSON_AddStringToObject(gone, "deleted_at", now);
    rc = store_insert(s, "deleted_users", gone);
    cJSON_Delete(gone);
    if (rc != STORE_OK && rc != STORE_CONFLICT) return EVENT_RETRY;

    cJSON *payload = cJSON_CreateObject();
    cJSON_AddStringToObject(payload, "user_id", user_id);
    cJSON_AddStringToObject(payload, "service", "tweets");
    cJSON *counts = cJSON_AddObjectToObject(payload, "removed");
    cJSON_AddNumberToObject(counts, "tweets", (double)removed);
    if (outbox_add(s, "tweets", "users", "user.erased", "1.0.0", payload) != STORE_OK)
        return EVENT_RETRY;
    authn_mark_deleted(user_id);
    log_msg(LOG_INFO, "erased user %s: %ld tweets", user_id, removed);
    return EVENT_OK;
}

void tweets_events(service_t *svc) {
    event_consumer_spec_t spec = {
        .queue = "tweets.user-deleted",
        .exchange = "users",
        .binding = "user.deleted.1.#",
        .major = 1,
        .fn = on_user_deleted,
        .ctx = svc,
    };
    service_consume(svc, &spec);
}
