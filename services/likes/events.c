/* events.c -- what likes consumes and publishes.
 *
 * user.deleted (queue likes.user-deleted): deletes the user's verdicts, remembers the id
 * (erased_remember: writes by that user are refused) and publishes user.erased
 * {user_id, service:"likes", removed:{likes:n}}.
 *
 * pizza.deleted (queue likes.pizza-deleted): deletes every verdict on that pizza.
 *
 * The queues' bindings are the events document's (proto-docs/events.asyncapi.yaml).
 *
 * Each handler runs inside the consumer's one store transaction (events.h), so a crash at
 * any point either redoes everything or nothing, and a redelivered event is skipped. The
 * handlers avoid failing statements inside the transaction (MongoDB aborts a transaction on
 * any error): erased_remember() looks the id up before inserting it. */
#include "likes.h"

#include "erased.h"
#include "json.h"
#include "log.h"
#include "util.h"

/* Deletes every like matching field == value; *removed = how many. */
static int delete_likes(store_t *s, const char *field, const char *value, long *removed) {
    store_filter_t *f = store_filter_new();
    store_where_str(f, field, STORE_EQ, value);
    int rc = store_delete(s, LIKES_COLL, f, removed);
    store_filter_free(f);
    return rc;
}

/* erased_consumer()'s erase: the user's verdicts. */
static int erase_user(store_t *s, const char *user_id, cJSON *removed, void *ctx) {
    long n = 0;
    int rc = delete_likes(s, "user_id", user_id, &n);
    cJSON_AddNumberToObject(removed, "likes", (double)n);
    return rc;
}

static int on_pizza_deleted(store_t *s, const cJSON *event, void *ctx) {
    const char *pizza_id = json_str(event, "pizza_id");
    if (!id_valid(pizza_id)) return EVENT_POISON;
    long removed = 0;
    if (delete_likes(s, "pizza_id", pizza_id, &removed) != STORE_OK) return EVENT_RETRY;
    log_msg(LOG_INFO, "pizza %s deleted: %ld likes removed", pizza_id, removed);
    return EVENT_OK;
}

/* The user.deleted consumer's registration, for the life of the process. */
static erased_consumer_t user_deleted_consumer;

void likes_events(service_t *svc) {
    const event_consumer_spec_t user_deleted =
        erased_consumer(&user_deleted_consumer, "likes", erase_user, NULL);
    const event_consumer_spec_t pizza_deleted = {
        .queue = "likes.pizza-deleted",
        .major = 1,
        .fn = on_pizza_deleted,
        .ctx = svc,
    };
    service_consume(svc, &user_deleted);
    service_consume(svc, &pizza_deleted);
}
