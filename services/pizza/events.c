/* events.c -- what pizza publishes and consumes.
 *
 * Publishing. Every pizza deletion, whatever caused it (DELETE of the pizza, of its
 * pizzeria, or the owner's erasure), goes through pizzas_erase(): it reads the matching
 * pizzas, deletes each one and writes a pizza.deleted {pizza_id, pizzeria_id} into the
 * outbox (exchange "pizzas", key pizza.deleted.1.0.0) -- inside the caller's transaction,
 * so the events are committed exactly with the deletions. The relay publishes them.
 *
 * Consuming. On user.deleted (queue pizza.user-deleted, binding user.deleted.1.#) it
 * deletes the user's pizzas (owner_id is copied onto every pizza of their pizzerias) and
 * pizzerias, remembers the id (erased_remember: writes by it are refused with 401) and
 * publishes user.erased {user_id, service:"pizza", removed:{pizzerias, pizzas}} -- all in
 * the consumer's one store transaction (events.h), so a crash redoes all or nothing. */
#include "pizza.h"

#include "erased.h"
#include "json.h"
#include "log.h"
#include "util.h"

static int publish_deleted(store_t *s, const cJSON *pizza) {
    cJSON *payload = cJSON_CreateObject();
    cJSON_AddStringToObject(payload, "pizza_id", json_str(pizza, "id"));
    cJSON_AddStringToObject(payload, "pizzeria_id", json_str(pizza, "pizzeria_id"));
    return outbox_add(s, "pizza", "pizzas", "pizza.deleted", "1.0.0", payload);
}

int pizzas_erase(store_t *s, const store_filter_t *f, long *removed) {
    cJSON *docs = NULL;
    long n = 0;
    int rc = store_find(s, PIZZAS, f, NULL, 0, 0, &docs);
    const cJSON *doc, *found = rc == STORE_OK ? docs : NULL;
    cJSON_ArrayForEach(doc, found) {
        const char *id = json_str(doc, "id");
        rc = id ? store_delete_id(s, PIZZAS, id) : STORE_ERR;
        if (rc == STORE_OK) rc = publish_deleted(s, doc);
        if (rc != STORE_OK) break;
        n++;
    }
    cJSON_Delete(docs);
    if (removed) *removed = n;
    return rc;
}

static int on_user_deleted(store_t *s, const cJSON *event, void *ctx) {
    const char *user_id = json_str(event, "user_id");
    if (!id_valid(user_id)) return EVENT_POISON;
    if (erased_guard(s, user_id) != STORE_OK) return EVENT_RETRY; /* first: erased.h */
    store_filter_t *f = store_filter_new();
    store_where_str(f, "owner_id", STORE_EQ, user_id);
    long pizzas = 0, pizzerias = 0;
    int rc = pizzas_erase(s, f, &pizzas);
    if (rc == STORE_OK) rc = store_delete(s, PIZZERIAS, f, &pizzerias);
    store_filter_free(f);
    if (rc == STORE_OK) {
        cJSON *counts = cJSON_CreateObject();
        cJSON_AddNumberToObject(counts, "pizzerias", (double)pizzerias);
        cJSON_AddNumberToObject(counts, "pizzas", (double)pizzas);
        rc = erased_report(s, "pizza", user_id, counts);
    }
    if (rc != STORE_OK) {
        log_msg(LOG_WARN, "erasing user %s failed: %s", user_id, store_errmsg());
        return EVENT_RETRY;
    }
    log_msg(LOG_INFO, "erased user %s: %ld pizzerias, %ld pizzas", user_id, pizzerias, pizzas);
    return EVENT_OK;
}

void pizza_events(service_t *svc) {
    event_consumer_spec_t spec = {
        .queue = "pizza.user-deleted",
        .exchange = "users",
        .binding = "user.deleted.1.#",
        .major = 1,
        .fn = on_user_deleted,
        .ctx = svc,
    };
    service_consume(svc, &spec);
}
