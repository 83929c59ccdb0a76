/* events.c -- what tweets consumes and publishes.
 *
 * On user.deleted (queue tweets.user-deleted, binding user.deleted.1.#) it deletes the
 * user's tweets, remembers the id (erased_remember: writes by that user are refused) and
 * publishes user.erased with the count -- all in the consumer's one store transaction, so a
 * crash at any point either redoes everything or nothing. */
#include "tweets.h"

#include "authn.h"
#include "erased.h"
#include "json.h"
#include "log.h"
#include "util.h"

static int on_user_deleted(store_t *s, const cJSON *event, void *ctx) {
    const char *user_id = json_str(event, "user_id");
    if (!id_valid(user_id)) return EVENT_POISON;
    if (erased_guard(s, user_id) != STORE_OK) return EVENT_RETRY; /* first: erased.h */
    store_filter_t *f = store_filter_new();
    store_where_str(f, "user_id", STORE_EQ, user_id);
    long removed = 0;
    int rc = store_delete(s, "tweets", f, &removed);
    store_filter_free(f);
    if (rc != STORE_OK) return EVENT_RETRY;

    cJSON *counts = cJSON_CreateObject();
    cJSON_AddNumberToObject(counts, "tweets", (double)removed);
    if (erased_report(s, "tweets", user_id, counts) != STORE_OK) return EVENT_RETRY;
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
