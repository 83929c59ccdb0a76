/* events.c -- what tweets consumes and publishes.
 *
 * On user.deleted (queue tweets.user-deleted) it deletes the user's tweets, remembers the id
 * (erased_remember: writes by that user are refused) and publishes user.erased with the count --
 * all in the consumer's one store transaction, so a crash at any point either redoes everything or
 * nothing. */
#include "tweets.h"

#include "erased.h"

/* erased_consumer()'s erase: the user's tweets. */
static int erase_user(store_t *s, const char *user_id, cJSON *removed, void *ctx) {
    store_filter_t *f = store_filter_new();
    store_where_str(f, "user_id", STORE_EQ, user_id);
    long n = 0;
    int rc = store_delete(s, "tweets", f, &n);
    store_filter_free(f);
    cJSON_AddNumberToObject(removed, "tweets", (double)n);
    return rc;
}

/* The user.deleted consumer's registration, for the life of the process. */
static erased_consumer_t user_deleted_consumer;

void tweets_events(service_t *svc) {
    event_consumer_spec_t user_deleted =
        erased_consumer(&user_deleted_consumer, "tweets", erase_user, NULL);
    service_consume(svc, &user_deleted);
}
